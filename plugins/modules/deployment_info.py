#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: deployment_info
short_description: Find a switchyard stack's listeners, target groups and services in AWS by its name
version_added: 0.1.0
description:
  - Returns what the Terraform root's C(deployment) output holds (listener and target group
    ARNs, cluster and service names, metric dimensions), read from AWS by the stack's naming
    convention, so that rollback and status need neither Terraform nor its state backend.
  - Read-only; never reports a change.
author:
  - switchyard contributors (@switchyard)
options:
  name:
    description: Stack name, C(<service>-<environment>) (the C(name) in the Terraform output).
    type: str
    required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Find the production stack
  switchyard.bluegreen.deployment_info:
    name: switchyard-production
  register: found
"""

RETURN = r"""
stack:
  description: The same keys as the Terraform root's C(deployment) output that deployments use.
  returned: always
  type: dict
  sample:
    name: switchyard-production
    production_listener_arn: arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/switchyard-production/1/2
    target_group_arns: {"blue": "arn:...", "green": "arn:..."}
    cluster_name: switchyard-production
    service_names: {"blue": "switchyard-production-blue", "green": "switchyard-production-green"}
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.switchyard.bluegreen.plugins.module_utils.api import (
    describe_listeners,
    describe_load_balancer,
    describe_tags,
    describe_target_groups,
)

COLOURS = ("blue", "green")


def arn_resource(arn):
    """The resource part of an ARN: 'targetgroup/<name>/<id>' of a target group's ARN."""
    return arn.split(":", 5)[5]


def discover(module, elbv2, name):
    try:
        load_balancer = describe_load_balancer(elbv2, name)
    except is_boto3_error_code("LoadBalancerNotFound"):
        module.fail_json(
            msg=f"No load balancer named {name} in this account and region: check the stack name"
            " (switchyard_stack_name in the inventory) and the region, or provision the environment."
        )
    listeners = describe_listeners(elbv2, load_balancer["LoadBalancerArn"])
    roles = describe_tags(elbv2, [listener["ListenerArn"] for listener in listeners])
    by_role = {roles.get(listener["ListenerArn"], {}).get("Role"): listener for listener in listeners}
    missing = [role for role in ("production", "test") if role not in by_role]
    if missing:
        module.fail_json(
            msg=f"Load balancer {name} has no listener tagged Role={missing[0]}; provision the environment."
        )
    groups = {
        group["TargetGroupName"].rsplit("-", 1)[1]: group
        for group in describe_target_groups(elbv2, [f"{name}-{c}" for c in COLOURS])
    }
    return dict(
        name=name,
        load_balancer_arn=load_balancer["LoadBalancerArn"],
        # The CloudWatch dimensions: app/<name>/<id> and targetgroup/<name>/<id>.
        load_balancer_arn_suffix=arn_resource(load_balancer["LoadBalancerArn"]).removeprefix("loadbalancer/"),
        load_balancer_dns_name=load_balancer["DNSName"],
        production_listener_arn=by_role["production"]["ListenerArn"],
        production_listener_port=by_role["production"]["Port"],
        test_listener_arn=by_role["test"]["ListenerArn"],
        test_listener_port=by_role["test"]["Port"],
        target_group_arns={c: groups[c]["TargetGroupArn"] for c in COLOURS},
        target_group_arn_suffixes={c: arn_resource(groups[c]["TargetGroupArn"]) for c in COLOURS},
        cluster_name=name,
        service_names={c: f"{name}-{c}" for c in COLOURS},
        task_family=name,
        deployment_log_group=f"/switchyard/{name}/deployments",
    )


def main():
    module = AnsibleAWSModule(argument_spec=dict(name=dict(type="str", required=True)), supports_check_mode=True)
    elbv2 = module.client("elbv2", retry_decorator=AWSRetry.jittered_backoff())
    try:
        stack = discover(module, elbv2, module.params["name"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Could not find stack {module.params['name']}")
    module.exit_json(changed=False, stack=stack)


if __name__ == "__main__":
    main()
