#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: deployment_info
short_description: Read an environment's deployment contract, as Terraform published it in SSM
version_added: 0.1.0
description:
  - Reads the deployment contract of an environment (listeners, target groups, cluster and
    services, metric dimensions, record log group...) from the SSM String parameter in which
    Terraform publishes it as JSON, so that rollback, status and finalize need neither
    Terraform nor its state backend, and every machine reads the same contract.
  - Fails, naming the parameter, when it is missing (the environment is not provisioned), does
    not hold a JSON object, or describes a traffic layer other than C(alb).
  - Read-only; never reports a change.
author:
  - switchyard contributors (@switchyard)
options:
  parameter:
    description:
      - Name of the SSM parameter, for example C(/switchyard/switchyard-production/deployment).
      - Takes precedence over I(name).
    type: str
  name:
    description:
      - Stack name, C(<service>-<environment>); the parameter is then
        C(/switchyard/<name>/deployment).
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the production deployment contract
  switchyard.bluegreen.deployment_info:
    name: switchyard-production
  register: contract

- name: The same, by parameter name
  switchyard.bluegreen.deployment_info:
    parameter: /switchyard/switchyard-production/deployment
  register: contract
"""

RETURN = r"""
parameter:
  description: The SSM parameter that was read.
  returned: always
  type: str
  sample: /switchyard/switchyard-production/deployment
deployment:
  description: The deployment contract, as Terraform's C(deployment) output holds it.
  returned: always
  type: dict
  sample:
    layer: alb
    name: switchyard-production
    production_listener_arn: arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/switchyard-production/1/2
    target_group_arns: {"blue": "arn:...", "green": "arn:..."}
    cluster_name: switchyard-production
    service_names: {"blue": "switchyard-production-blue", "green": "switchyard-production-green"}
    deployment_log_group: /switchyard/switchyard-production/deployments
missing:
  description: On failure, whether the parameter does not exist (a new environment, before its first provision).
  returned: on failure
  type: bool
  sample: true
stack:
  description: The same as I(deployment), under the name earlier versions returned.
  returned: always
  type: dict
  sample: {"layer": "alb", "name": "switchyard-production"}
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils.aws import (
    client,
    get_parameter,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.contract import (
    ContractError,
    parameter_name,
    parse,
)


def run(module, ssm):
    parameter = parameter_name(module.params["parameter"], module.params["name"])
    value = get_parameter(ssm, parameter)
    if value is None:
        module.fail_json(
            msg=f"No deployment contract: SSM parameter {parameter} does not exist in this account and region."
            " Provision the environment (playbooks/provision.yml), which publishes it, or check the stack"
            " name and the region.",
            parameter=parameter,
            missing=True,
        )
    try:
        deployment = parse(value, parameter)
    except ContractError as e:
        module.fail_json(msg=str(e), parameter=parameter, missing=False)
    module.exit_json(changed=False, parameter=parameter, deployment=deployment, stack=deployment)


ARGUMENT_SPEC = dict(parameter=dict(type="str"), name=dict(type="str"))
# Checked with the arguments, by AnsibleAWSModule and by the action plugin alike.
VALIDATION = dict(
    required_one_of=[["parameter", "name"]],
)


def execute(module):
    """The module's run, given AnsibleAWSModule or the action plugin's ControllerModule."""
    try:
        run(module, client(module, "ssm"))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


def main():
    execute(AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, **VALIDATION))


if __name__ == "__main__":
    main()
