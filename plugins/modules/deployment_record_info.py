#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: deployment_record_info
short_description: Read the latest deployment records of an environment
version_added: 0.1.0
description:
  - Reads the records written by M(switchyard.bluegreen.deployment_record), newest first.
author:
  - switchyard contributors (@switchyard)
options:
  log_group:
    description: Log group of the records (the stack output C(deployment_log_group)).
    type: str
    required: true
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
- name: The last five deployments
  switchyard.bluegreen.deployment_record_info:
    log_group: "{{ stack.deployment_log_group }}"
    limit: 5
  register: history
"""

RETURN = r"""
records:
  description: Records, newest first.
  returned: always
  type: list
  elements: dict
  sample: [{"kind": "promote", "outcome": "succeeded", "to_colour": "green"}]
"""

import json

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

STREAM = "records"


@AWSRetry.jittered_backoff()
def latest_events(client, log_group, limit):
    try:
        response = client.get_log_events(logGroupName=log_group, logStreamName=STREAM, limit=limit, startFromHead=False)
    except is_boto3_error_code("ResourceNotFoundException"):
        return []  # no deployment recorded yet
    return response["events"]


def main():
    argument_spec = dict(
        log_group=dict(type="str", required=True),
        limit=dict(type="int", default=10),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("logs", retry_decorator=AWSRetry.jittered_backoff())
    try:
        events = latest_events(client, module.params["log_group"], module.params["limit"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Could not read deployment records from {module.params['log_group']}")
    records = []
    for event in sorted(events, key=lambda e: e["timestamp"], reverse=True):
        try:
            records.append(json.loads(event["message"]))
        except ValueError:
            continue  # not one of ours
    module.exit_json(changed=False, records=records)


if __name__ == "__main__":
    main()
