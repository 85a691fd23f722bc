#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: deployment_record
short_description: Append a deployment record to the environment's record log in AWS
version_added: 0.1.0
description:
  - Writes one JSON record (who, what image, from and to colour, phase timings, outcome,
    measured error rates, time to restore) as an event of a CloudWatch Logs group, so that any
    machine can read the history with M(switchyard.bluegreen.deployment_record_info).
  - Records are append-only; every run that is not in check mode adds one.
author:
  - switchyard contributors (@switchyard)
options:
  log_group:
    description: Log group of the records (the stack output C(deployment_log_group)).
    type: str
    required: true
  record:
    description: The record; stored as JSON with C(recorded_at) added.
    type: dict
    required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Record the promote
  switchyard.bluegreen.deployment_record:
    log_group: "{{ stack.deployment_log_group }}"
    record:
      kind: promote
      outcome: succeeded
      image: registry.example.com/app@sha256:0123
"""

RETURN = r"""
record:
  description: The record as stored.
  returned: always
  type: dict
  sample: {"kind": "promote", "outcome": "succeeded", "recorded_at": "2026-11-26T08:00:00+00:00"}
"""

import json
import time
from datetime import datetime, timezone

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

STREAM = "records"


@AWSRetry.jittered_backoff()
def ensure_stream(client, log_group):
    try:
        client.create_log_stream(logGroupName=log_group, logStreamName=STREAM)
    except is_boto3_error_code("ResourceAlreadyExistsException"):
        pass


@AWSRetry.jittered_backoff()
def put_record(client, log_group, message):
    client.put_log_events(
        logGroupName=log_group,
        logStreamName=STREAM,
        logEvents=[{"timestamp": int(time.time() * 1000), "message": message}],
    )


def main():
    argument_spec = dict(
        log_group=dict(type="str", required=True),
        record=dict(type="dict", required=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("logs", retry_decorator=AWSRetry.jittered_backoff())
    record = dict(module.params["record"], recorded_at=datetime.now(timezone.utc).isoformat())
    if not module.check_mode:
        try:
            ensure_stream(client, module.params["log_group"])
            put_record(client, module.params["log_group"], json.dumps(record, sort_keys=True))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg=f"Could not write the deployment record to {module.params['log_group']}")
    module.exit_json(changed=True, record=record)


if __name__ == "__main__":
    main()
