#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: deployment_record_info
short_description: Read the latest deployment records of an environment
version_added: 0.1.0
description:
  - Reads the records written by M(switchyard.bluegreen.deployment_record), newest first, from
    the same sink, a CloudWatch Logs group (I(log_group)) or a JSON Lines file (I(path)).
  - An environment without records yet (no log stream, no file) has none; lines or events
    that are not JSON objects are skipped.
  - Read-only; never reports a change.
author:
  - switchyard contributors (@switchyard)
options:
  log_group:
    description: CloudWatch Logs group of the records (the deployment contract's C(deployment_log_group)).
    type: str
  path:
    description: JSON Lines file of the records (the development contract's C(record_file)).
    type: path
  limit:
    description: How many records to return at most.
    type: int
    default: 10
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The last five deployments in AWS
  switchyard.bluegreen.deployment_record_info:
    log_group: "{{ deployment.deployment_log_group }}"
    limit: 5
  register: history

- name: The last five deployments in the development environment
  switchyard.bluegreen.deployment_record_info:
    path: "{{ deployment.record_file }}"
    limit: 5
  register: history
"""

RETURN = r"""
records:
  description: Records, newest first.
  returned: always
  type: list
  elements: dict
  sample:
    - {"kind": "promote", "outcome": "succeeded", "to_colour": "green", "recorded_at": "2026-11-26T08:00:00+00:00"}
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils.aws import (
    client,
    latest_log_events,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.records import (
    latest_from_events,
    latest_from_file,
)


def read(module):
    """The latest records of the sink the parameters name, newest first."""
    params = module.params
    if params["path"]:
        try:
            return latest_from_file(params["path"], params["limit"])
        except OSError as e:
            module.fail_json(msg=f"Could not read the deployment records in {params['path']}: {e.strerror or e}.")
    events = latest_log_events(client(module, "logs"), params["log_group"], params["limit"])
    return latest_from_events(events, params["limit"])


def main():
    argument_spec = dict(
        log_group=dict(type="str"),
        path=dict(type="path"),
        limit=dict(type="int", default=10),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        mutually_exclusive=[["log_group", "path"]],
        required_one_of=[["log_group", "path"]],
        supports_check_mode=True,
    )
    if module.params["limit"] < 1:
        module.fail_json(msg=f"limit must be 1 or more, not {module.params['limit']}.")
    try:
        records = read(module)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, records=records)


if __name__ == "__main__":
    main()
