#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecs_service_deploy
short_description: Set an ECS service's task definition and desired count, and nothing else
version_added: 0.1.0
description:
  - Sets the two settings a release owns on an existing ECS service (Terraform owns the rest,
    see the collection's design). Unlike M(community.aws.ecs_service) it never compares or
    rewrites load balancers, tags or network settings, so it cannot fight Terraform.
  - Changes only what differs; check mode predicts, diff mode shows before and after.
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
  task_definition:
    description: Task definition ARN to run; unchanged when omitted.
    type: str
  desired_count:
    description: Number of tasks; unchanged when omitted.
    type: int
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Run the new revision on green at blue's size
  switchyard.bluegreen.ecs_service_deploy:
    cluster: "{{ stack.cluster_name }}"
    service: "{{ stack.service_names.green }}"
    task_definition: "{{ new_task_definition_arn }}"
    desired_count: 2

- name: Scale the old colour down after its standby
  switchyard.bluegreen.ecs_service_deploy:
    cluster: "{{ stack.cluster_name }}"
    service: "{{ stack.service_names.blue }}"
    desired_count: 0
"""

RETURN = r"""
previous:
  description: Task definition and desired count before the run.
  returned: always
  type: dict
  sample: {"task_definition": "arn:aws:ecs:us-east-1:123456789012:task-definition/app:3", "desired_count": 0}
current:
  description: Task definition and desired count after the run (predicted in check mode).
  returned: always
  type: dict
  sample: {"task_definition": "arn:aws:ecs:us-east-1:123456789012:task-definition/app:4", "desired_count": 2}
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.switchyard.bluegreen.plugins.module_utils.api import (
    describe_service,
    update_service,
)


def main():
    argument_spec = dict(
        cluster=dict(type="str", required=True),
        service=dict(type="str", required=True),
        task_definition=dict(type="str"),
        desired_count=dict(type="int"),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[["task_definition", "desired_count"]],
    )
    params = module.params
    if params["desired_count"] is not None and params["desired_count"] < 0:
        module.fail_json(msg=f"desired_count must be 0 or more, not {params['desired_count']}.")
    ecs = module.client("ecs", retry_decorator=AWSRetry.jittered_backoff())
    try:
        existing = describe_service(ecs, params["cluster"], params["service"])
        if existing is None:
            module.fail_json(
                msg=f"ECS service {params['service']} does not exist in cluster {params['cluster']}."
                " Run provision.yml for this environment first. Nothing was changed."
            )
        before = {
            "task_definition": existing["taskDefinition"],
            "desired_count": existing["desiredCount"],
        }
        after = dict(before)
        if params["task_definition"] is not None:
            after["task_definition"] = params["task_definition"]
        if params["desired_count"] is not None:
            after["desired_count"] = params["desired_count"]
        changed = after != before
        if changed and not module.check_mode:
            update = dict(cluster=params["cluster"], service=params["service"])
            if after["task_definition"] != before["task_definition"]:
                update["taskDefinition"] = after["task_definition"]
            if after["desired_count"] != before["desired_count"]:
                update["desiredCount"] = after["desired_count"]
            update_service(ecs, **update)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Could not update ECS service {params['service']}")
    module.exit_json(changed=changed, previous=before, current=after, diff={"before": before, "after": after})


if __name__ == "__main__":
    main()
