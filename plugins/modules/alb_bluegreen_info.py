#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: alb_bluegreen_info
short_description: Read the live state of a blue/green service from AWS
version_added: 0.1.0
description:
  - Reads the production and test listeners (their rules), both ECS services, their task
    definitions and target health, and says which colour is live. The production listener is the only source
    of truth about what is live, so any machine can run this.
  - Read-only; never reports a change.
author:
  - switchyard contributors (@switchyard)
options:
  production_listener_arn:
    description: Listener that carries production traffic.
    type: str
    required: true
  test_listener_arn:
    description: Listener that forwards to the idle colour.
    type: str
    required: true
  cluster:
    description: ECS cluster of both services.
    type: str
    required: true
  services:
    description: "ECS service name per colour, C({blue: ..., green: ...})."
    type: dict
    required: true
  target_group_arns:
    description: "Target group ARN per colour, C({blue: ..., green: ...})."
    type: dict
    required: true
  target_health:
    description:
      - Read each colour's target health (one call per colour) for the C(healthy_targets) and
        C(warm) of each colour in RV(colours).
      - C(false) leaves both null, for a caller that does not judge warmth, such as a promote, whose
        health gate reads the new colour's targets while the live colour serves production.
    type: bool
    default: true
extends_documentation_fragment:
  - switchyard.bluegreen.known_state
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: What is live?
  switchyard.bluegreen.alb_bluegreen_info:
    production_listener_arn: "{{ deployment.production_listener_arn }}"
    test_listener_arn: "{{ deployment.test_listener_arn }}"
    cluster: "{{ deployment.cluster_name }}"
    services: "{{ deployment.service_names }}"
    target_group_arns: "{{ deployment.target_group_arns }}"
  register: state
"""

RETURN = r"""
live_colour:
  description: The colour that receives all production traffic; null while traffic is split.
  returned: always
  type: str
  sample: blue
idle_colour:
  description: The other colour; null while traffic is split.
  returned: always
  type: str
  sample: green
production_weights:
  description: Weight per colour on the production listener.
  returned: always
  type: dict
  sample: {"blue": 1, "green": 0}
test_weights:
  description: Weight per colour on the test listener.
  returned: always
  type: dict
  sample: {"blue": 0, "green": 1}
colours:
  description: >-
    Per colour, its service's task definition, image (of the first container), desired and
    running counts, healthy targets, and whether it is warm (it has tasks and healthy targets,
    so production can move to it with one listener change); both null when O(target_health=false).
  returned: always
  type: dict
  sample:
    blue: {"service": "app-blue", "task_definition": "arn:...:task-definition/app:3", "image": "repo@sha256:...",
           "desired_count": 2, "running_count": 2, "healthy_targets": 2, "warm": true}
task_definition:
  description: >-
    The live colour's task definition: every field that can be registered again (what
    M(switchyard.bluegreen.ecs_service_deploy) copies when given an image).
  returned: when a colour is live
  type: dict
  sample: {"family": "app", "containerDefinitions": []}
listener_rules:
  description: >-
    Per listener (C(production), C(test)), its rules as DescribeRules returned them, the default
    rule included (it carries the listener's default actions).
    M(switchyard.bluegreen.alb_traffic_switch) takes them as
    O(switchyard.bluegreen.alb_traffic_switch#module:known_rules) instead of reading them again.
  returned: always
  type: dict
  sample:
    production: [{"RuleArn": "arn:...", "IsDefault": true, "Priority": "default", "Actions": []}]
services:
  description: >-
    Per colour, the fields of its service the ECS modules use (C(taskDefinition),
    C(desiredCount), C(networkConfiguration), C(launchType)...), which
    M(switchyard.bluegreen.ecs_service_deploy) and M(switchyard.bluegreen.ecs_task_run) take as
    their O(switchyard.bluegreen.ecs_service_deploy#module:known_service) instead of reading it again.
  returned: always
  type: dict
  sample:
    blue: {"serviceName": "app-blue", "taskDefinition": "arn:...:task-definition/app:3", "desiredCount": 2}
revisions:
  description: >-
    Per colour, the revision its service runs as read here: its ARN, revision number, registrable
    body and tags. Revisions never change, so M(switchyard.bluegreen.ecs_service_deploy) takes them
    as O(switchyard.bluegreen.ecs_service_deploy#module:known_revisions) instead of reading them again.
  returned: always
  type: dict
  sample:
    blue: {"arn": "arn:...:task-definition/app:3", "revision": 3, "body": {"family": "app"}, "tags": []}
"""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AnsibleAWSModule says botocore is missing

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils import known_state, listener
from ansible_collections.switchyard.bluegreen.plugins.module_utils.aws import (
    client,
    describe_services,
    healthy_target_count,
    registrable_fields,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.known_state import KNOWN_REVISIONS_OPTION
from ansible_collections.switchyard.bluegreen.plugins.module_utils.task_definition import registrable
from ansible_collections.switchyard.bluegreen.plugins.module_utils.traffic import (
    colour_weights,
    live_colour,
)


def listener_rules(module, elbv2):
    """{option: rules} of the production and test listeners (DescribeRules: the default rule
    carries the default actions); a clear refusal when either does not exist."""
    rules, missing = {}, []
    for option in ("production_listener_arn", "test_listener_arn"):
        try:
            rules[option] = listener.read(elbv2, module.params[option])[1]
        except is_boto3_error_code("ListenerNotFound"):
            missing.append(f"{option} {module.params[option]}")
        except listener.ListenerError as e:
            module.fail_json(msg=str(e))
    if missing:
        module.fail_json(
            msg=f"The listener does not exist: {', '.join(missing)}. Run playbooks/provision.yml for this"
            " environment, or check the override. Nothing was changed."
        )
    return rules


def default_actions(rules):
    return next(rule["Actions"] for rule in rules if rule.get("IsDefault"))


def colour_states(module, ecs, elbv2):
    """({colour: its service's state}, {colour: its task definition})."""
    params = module.params
    by_name = {
        s["serviceName"]: s for s in describe_services(ecs, params["cluster"], list(params["services"].values()))
    }
    for colour, name in params["services"].items():
        if name not in by_name:
            module.fail_json(
                msg=f"ECS service {name} ({colour}) does not exist in cluster {params['cluster']}."
                " Run playbooks/provision.yml for this environment first."
            )
    colours, task_definitions, tags = {}, {}, {}
    for colour, name in params["services"].items():
        service = by_name[name]
        task_definitions[colour], tags[colour] = known_state.revision(
            ecs, service["taskDefinition"], params["known_revisions"]
        )
        colours[colour] = dict(
            service=name,
            task_definition=service["taskDefinition"],
            image=task_definitions[colour]["containerDefinitions"][0]["image"],
            desired_count=service["desiredCount"],
            running_count=service["runningCount"],
            healthy_targets=None,
            warm=None,
        )
        if params["target_health"]:
            healthy = healthy_target_count(elbv2, params["target_group_arns"][colour])
            colours[colour].update(healthy_targets=healthy, warm=service["desiredCount"] > 0 and healthy > 0)
    services = {colour: known_state.service_fields(by_name[name]) for colour, name in params["services"].items()}
    return colours, task_definitions, tags, services


def run(module, elbv2, ecs):
    missing = set(module.params["services"]) ^ set(module.params["target_group_arns"])
    if missing:
        module.fail_json(msg=f"services and target_group_arns must name the same colours; {sorted(missing)} differ.")
    rules = listener_rules(module, elbv2)
    groups = module.params["target_group_arns"]
    production = colour_weights(default_actions(rules["production_listener_arn"]), groups)
    test = colour_weights(default_actions(rules["test_listener_arn"]), groups)
    colours, task_definitions, tags, services = colour_states(module, ecs, elbv2)
    accepted = registrable_fields(ecs)
    live = live_colour(production)
    idle = None if live is None else next((c for c in colours if c != live), None)
    result = dict(
        changed=False,
        live_colour=live,
        idle_colour=idle,
        production_weights=production,
        test_weights=test,
        colours=colours,
        listener_rules={"production": rules["production_listener_arn"], "test": rules["test_listener_arn"]},
        services=services,
        revisions={
            colour: dict(
                arn=body["taskDefinitionArn"],
                revision=body["revision"],
                body=registrable(body, accepted),
                tags=tags[colour],
            )
            for colour, body in task_definitions.items()
        },
    )
    if live:
        result["task_definition"] = registrable(task_definitions[live], accepted)
    module.exit_json(**result)


ARGUMENT_SPEC = dict(
    production_listener_arn=dict(type="str", required=True),
    test_listener_arn=dict(type="str", required=True),
    cluster=dict(type="str", required=True),
    services=dict(type="dict", required=True),
    target_group_arns=dict(type="dict", required=True),
    target_health=dict(type="bool", default=True),
    known_revisions=KNOWN_REVISIONS_OPTION,
)
VALIDATION = {}


def execute(module):
    """The module's run, given AnsibleAWSModule or the action plugin's ControllerModule."""
    try:
        run(module, client(module, "elbv2"), client(module, "ecs"))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Could not read the listeners' rules")


def main():
    execute(AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, **VALIDATION))


if __name__ == "__main__":
    main()
