#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: deployment_lease_info
short_description: Read the deployment lease of an environment, and whether its run is in flight
version_added: 0.1.0
description:
  - Reads the lease item that M(switchyard.bluegreen.deployment_lease) keeps for an environment,
    from a DynamoDB table (I(table)) or the development environment's JSON file (I(path)), and
    says whether it is held, expired, and whether the run holding it is still in flight or was
    interrupted (its lease expired, or its C(ansible-playbook) on this machine is gone).
  - The lease's C(phase), C(operation) and C(details) are the journal of the latest run; status
    shows them and rollback reads them to know what it undoes.
  - Read-only; never reports a change. I(path) needs neither boto3 nor AWS credentials.
author:
  - switchyard contributors (@switchyard)
options:
  table:
    description:
      - DynamoDB table of the leases, partition key C(environment) (string).
      - Exactly one of I(table) and I(path) is required.
    type: str
  path:
    description:
      - JSON file of the leases of the development environment.
      - Exactly one of I(table) and I(path) is required.
    type: path
  environment:
    description: Environment whose lease to read.
    type: str
    required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the lease of production
  switchyard.bluegreen.deployment_lease_info:
    table: "{{ deployment.lease_table }}"
    environment: production
  register: lease

- name: Say what is in flight
  ansible.builtin.debug:
    msg: >-
      {{ lease.lease.holder.actor }} is running {{ lease.lease.operation }}
      ({{ lease.lease.phase }}) for {{ lease.age_seconds }} s
  when: lease.in_flight

- name: Read the lease of the development environment
  switchyard.bluegreen.deployment_lease_info:
    path: "{{ deployment.lease_file }}"
    environment: development
"""

RETURN = r"""
lease:
  description:
    - The lease item (see M(switchyard.bluegreen.deployment_lease)'s C(lease)); null when the
      environment has none yet. Numbers are integers or floats.
  returned: always
  type: dict
  sample:
    environment: production
    token: 8
    state: held
    operation: promote
    phase: baking
    holder: {"actor": "alice", "run_id": "1234", "host": "runner-1", "pid": 4242}
    started: 1800000000.0
    heartbeat: 1800000300.0
    expires: 1800001200.0
    ttl: 1807776300
    details: {"image": "registry.example.com/app@sha256:0123", "from_colour": "blue", "to_colour": "green"}
    outcome: null
    preempted: null
    preempted_by: null
    took_over: null
held:
  description: Whether the lease is held (state C(held)), live or not.
  returned: always
  type: bool
  sample: true
expired:
  description: Whether the lease's expiry has passed (false when there is no lease).
  returned: always
  type: bool
  sample: false
age_seconds:
  description: Seconds since the lease was taken; null when there is no lease.
  returned: always
  type: int
  sample: 300
interrupted:
  description:
    - Whether the lease is held but its run is over without releasing it, because the lease
      expired or because the holder ran on this machine and its C(ansible-playbook) is gone.
  returned: always
  type: bool
  sample: false
in_flight:
  description: Whether the lease is held by a run that is not known to be over (held and not interrupted).
  returned: always
  type: bool
  sample: true
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import check_sdk_version_supported
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError, AnsibleBotocoreError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils.aws import client
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.lease import LeaseError, plain, status
from ansible_collections.switchyard.bluegreen.plugins.module_utils.lease_holder import local_here
from ansible_collections.switchyard.bluegreen.plugins.module_utils.lease_store import DynamoStore, FileStore


def read(module):
    """The lease item of the environment in the store the parameters name, or None."""
    params = module.params
    if params["path"]:
        return FileStore(params["path"]).read(params["environment"])
    try:
        check_sdk_version_supported(warn=module.warn)
    except AnsibleBotocoreError as e:
        module.fail_json(msg=e.message)
    return DynamoStore(client(module, "dynamodb"), params["table"]).read(params["environment"])


def main():
    argument_spec = dict(
        table=dict(type="str"),
        path=dict(type="path"),
        environment=dict(type="str", required=True),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        mutually_exclusive=[["table", "path"]],
        required_one_of=[["table", "path"]],
        supports_check_mode=True,
        check_boto3=False,  # the file backend needs no boto3: read() checks it for DynamoDB
    )
    try:
        item = plain(read(module))
    except LeaseError as e:
        module.fail_json(msg=str(e))
    except OSError as e:
        if not module.params["path"]:
            raise
        module.fail_json(msg=f"Could not read the deployment lease file {module.params['path']}: {e.strerror or e}.")
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, **status(item, local_here()))


if __name__ == "__main__":
    main()
