#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: alb_bluegreen_info
short_description: Read the live state of a blue/green service from AWS
version_added: 0.1.0
description:
  - Reads the production and test listeners, both ECS services, their task definitions and
    target health, and says which colour is live. The production listener is the only source
    of truth about what is live, so any machine can run this.
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
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: What is live?
  switchyard.bluegreen.alb_bluegreen_info:
    production_listener_arn: "{{ stack.production_listener_arn }}"
    test_listener_arn: "{{ stack.test_listener_arn }}"
    cluster: "{{ stack.cluster_name }}"
    services: "{{ stack.service_names }}"
    target_group_arns: "{{ stack.target_group_arns }}"
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
  description: Per colour, its service's task definition, image, desired and running counts and healthy targets.
  returned: always
  type: dict
  sample:
    blue: {"service": "app-blue", "task_definition": "arn:...:task-definition/app:3", "image": "repo@sha256:...",
           "desired_count": 2, "running_count": 2, "healthy_targets": 2}
task_definition:
  description: The live colour's task definition, as registered (for cloning a new revision).
  returned: when a colour is live
  type: dict
  sample: {"family": "app", "containerDefinitions": []}
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.switchyard.bluegreen.plugins.module_utils.api import (
    describe_listener,
    describe_services,
    describe_task_definition,
    healthy_target_count,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.traffic import (
    colour_weights,
    live_colour,
)

# Fields of a registered task definition that register_task_definition accepts back.
REGISTRABLE = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "runtimePlatform",
)


def read_listener(module, elbv2, option):
    arn = module.params[option]
    try:
        return describe_listener(elbv2, arn)["DefaultActions"]
    except is_boto3_error_code("ListenerNotFound"):
        module.fail_json(
            msg=f"The listener in {option} ({arn}) does not exist. Run provision.yml for this"
            " environment, or check the override. Nothing was changed."
        )


def main():
    argument_spec = dict(
        production_listener_arn=dict(type="str", required=True),
        test_listener_arn=dict(type="str", required=True),
        cluster=dict(type="str", required=True),
        services=dict(type="dict", required=True),
        target_group_arns=dict(type="dict", required=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    elbv2 = module.client("elbv2", retry_decorator=AWSRetry.jittered_backoff())
    ecs = module.client("ecs", retry_decorator=AWSRetry.jittered_backoff())
    try:
        production = colour_weights(
            read_listener(module, elbv2, "production_listener_arn"), params["target_group_arns"]
        )
        test = colour_weights(read_listener(module, elbv2, "test_listener_arn"), params["target_group_arns"])
        by_name = {
            s["serviceName"]: s for s in describe_services(ecs, params["cluster"], list(params["services"].values()))
        }
        colours, task_definitions = {}, {}
        for colour, name in params["services"].items():
            service = by_name.get(name)
            if service is None:
                module.fail_json(
                    msg=f"ECS service {name} ({colour}) does not exist in cluster {params['cluster']}."
                    " Run provision.yml for this environment first."
                )
            task = describe_task_definition(ecs, service["taskDefinition"])
            task_definitions[colour] = task
            colours[colour] = dict(
                service=name,
                task_definition=service["taskDefinition"],
                image=task["containerDefinitions"][0]["image"],
                desired_count=service["desiredCount"],
                running_count=service["runningCount"],
                healthy_targets=healthy_target_count(elbv2, params["target_group_arns"][colour]),
            )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not read the blue/green state")

    live = live_colour(production)
    idle = None if live is None else next(c for c in colours if c != live)
    result = dict(
        changed=False,
        live_colour=live,
        idle_colour=idle,
        production_weights=production,
        test_weights=test,
        colours=colours,
    )
    if live:
        result["task_definition"] = {k: v for k, v in task_definitions[live].items() if k in REGISTRABLE}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
