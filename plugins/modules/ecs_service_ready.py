#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecs_service_ready
short_description: Wait until an ECS service's rollout is complete and its targets are healthy
version_added: 0.1.0
description:
  - Polls an ECS service and its target group until the service runs the expected task
    definition with all desired tasks, no older deployment is draining, and the target group
    has as many healthy targets as tasks are desired.
  - On timeout it fails with what was still missing. Read-only; never reports a change. In
    check mode it looks once and does not wait.
author:
  - switchyard contributors (@switchyard)
options:
  cluster:
    description: Name or ARN of the ECS cluster.
    type: str
    required: true
  service:
    description: Name of the ECS service.
    type: str
    required: true
  target_group_arn:
    description: Target group the service registers its tasks in.
    type: str
    required: true
  task_definition:
    description: Task definition ARN the service must run; any when omitted.
    type: str
  wait_timeout:
    description: Seconds to wait before failing.
    type: int
    default: 600
    aliases: [timeout]
  poll_seconds:
    description: Seconds between polls; at least 1.
    type: float
    default: 5
    aliases: [delay]
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Wait for green to be ready
  switchyard.bluegreen.ecs_service_ready:
    cluster: "{{ deployment.cluster_name }}"
    service: "{{ deployment.service_names.green }}"
    target_group_arn: "{{ deployment.target_group_arns.green }}"
    task_definition: "{{ green_task_definition_arn }}"
    wait_timeout: 300
"""

RETURN = r"""
ready:
  description: Whether the service became ready (false only in check mode, which does not wait).
  returned: always
  type: bool
  sample: true
healthy_targets:
  description: Healthy targets in the target group at the last poll.
  returned: always
  type: int
  sample: 2
desired_count:
  description: Desired tasks of the service.
  returned: always
  type: int
  sample: 2
waited_seconds:
  description: Time spent waiting.
  returned: always
  type: float
  sample: 12.5
problems:
  description: What was not ready at the last poll.
  returned: always
  type: list
  elements: str
  sample: []
"""

import time

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils.aws import (
    client,
    describe_service,
    healthy_target_count,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.health import poll_problem, readiness_problems


def poll(module, ecs, elbv2):
    """(service, healthy targets, what is not ready yet) now."""
    params = module.params
    service = describe_service(ecs, params["cluster"], params["service"])
    if service is None:
        module.fail_json(
            msg=f"ECS service {params['service']} does not exist in cluster {params['cluster']}."
            " Run playbooks/provision.yml for this environment first."
        )
    healthy = healthy_target_count(elbv2, params["target_group_arn"])
    return service, healthy, readiness_problems(service, params["task_definition"], healthy)


def wait(module, ecs, elbv2):
    params = module.params
    started = time.monotonic()
    service, healthy, problems = poll(module, ecs, elbv2)
    while problems and not module.check_mode:
        if time.monotonic() - started >= params["wait_timeout"]:
            module.fail_json(
                msg=(
                    f"ECS service {params['service']} was not ready after {params['wait_timeout']} s:"
                    f" {'; '.join(problems)}. Production traffic was not moved. Check the service's"
                    " events and task logs."
                ),
                problems=problems,
                healthy_targets=healthy,
            )
        time.sleep(params["poll_seconds"])
        service, healthy, problems = poll(module, ecs, elbv2)
    module.exit_json(
        changed=False,
        ready=not problems,
        healthy_targets=healthy,
        desired_count=service["desiredCount"],
        waited_seconds=round(time.monotonic() - started, 1),
        problems=problems,
    )


ARGUMENT_SPEC = dict(
    cluster=dict(type="str", required=True),
    service=dict(type="str", required=True),
    target_group_arn=dict(type="str", required=True),
    task_definition=dict(type="str"),
    wait_timeout=dict(type="int", default=600, aliases=["timeout"]),
    poll_seconds=dict(type="float", default=5, aliases=["delay"]),
)
VALIDATION = {}


def execute(module):
    """The module's run, given AnsibleAWSModule or the action plugin's ControllerModule."""
    problem = poll_problem(module.params["poll_seconds"])
    if problem:
        module.fail_json(msg=problem)
    try:
        wait(module, client(module, "ecs"), client(module, "elbv2"))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


def main():
    execute(AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, **VALIDATION))


if __name__ == "__main__":
    main()
