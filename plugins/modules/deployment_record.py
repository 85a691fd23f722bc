#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: deployment_record
short_description: Append a deployment record to the environment's record log
version_added: 0.1.0
description:
  - Writes one JSON record (who, what image, from and to colour, phase timings, outcome,
    measured error rates, time to restore) with C(recorded_at) added, so that the history can
    be read back with M(switchyard.bluegreen.deployment_record_info).
  - Two sinks, one per kind of environment. I(log_group) appends the record as an event of a
    CloudWatch Logs group (the AWS environments, readable from any machine); I(path) appends it
    as one line of a JSON Lines file, creating the file (mode 0644) and its directory (the
    development environment).
  - Records never hold secrets. The values of secret-looking keys (C(password), C(token),
    C(secret), C(api_key)...; not C(..._arn), C(..._name) or C(..._id)) and passwords in URLs
    are replaced by C(REDACTED) before anything is written.
  - Records are append-only; every run adds one and reports a change (a record is bookkeeping,
    so callers usually set C(changed_when) to false). Check mode writes nothing.
  - With O(lease), the run's lease is checked right before the write, as by every module that
    writes, and with O(release) released in that same conditional write (the record is the run's
    last word). Unlike the modules that change traffic, a record is never refused. When the run
    has lost its lease (a rollback took it), the record is still appended, with
    C(written_without_lease) saying who took it, and the module returns RV(lost) with a warning.
    What a run did is kept either way; the lease only says that someone else now decides.
author:
  - switchyard contributors (@switchyard)
options:
  log_group:
    description: CloudWatch Logs group of the records (the deployment contract's C(deployment_log_group)).
    type: str
  path:
    description: JSON Lines file of the records (the development contract's C(record_file)).
    type: path
  record:
    description: The record; stored as JSON with C(recorded_at) added and secrets redacted.
    type: dict
    required: true
  release:
    description:
      - With O(lease), release the run's lease in the conditional write that checks it, right
        before the record is written. Without it the lease is only renewed.
    type: dict
    suboptions:
      outcome:
        description: The run's outcome (C(done), C(failed), C(rolled_back)...).
        type: str
        required: true
      revisions:
        description:
          - The task-definition revisions the services run, kept in the lease for the next run's
            state read, as M(switchyard.bluegreen.deployment_lease) keeps its
            O(switchyard.bluegreen.deployment_lease#module:revisions). Larger than 100 KB, they are not kept.
        type: list
        elements: dict
extends_documentation_fragment:
  - switchyard.bluegreen.fence
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Record the promote in AWS
  switchyard.bluegreen.deployment_record:
    log_group: "{{ deployment.deployment_log_group }}"
    record:
      kind: promote
      outcome: succeeded
      image: registry.example.com/app@sha256:0123
  changed_when: false

- name: Record the promote in the development environment
  switchyard.bluegreen.deployment_record:
    path: "{{ deployment.record_file }}"
    record: "{{ promote_record }}"
  changed_when: false
"""

RETURN = r"""
record:
  description: The record as stored (or, in check mode, as it would be).
  returned: always
  type: dict
  sample: {"kind": "promote", "outcome": "succeeded", "recorded_at": "2026-11-26T08:00:00.123456+00:00"}
redacted:
  description: Where in the record secrets were replaced by C(REDACTED).
  returned: always
  type: list
  elements: str
  sample: ["failure"]
lost:
  description: The run no longer held its deployment lease (O(lease)); the record was written all the same.
  returned: when the lease was lost
  type: bool
  sample: true
lease:
  description: The lease as found when it was lost (who took it, for what).
  returned: when the lease was lost
  type: dict
diff:
  description: The line appended to the record log.
  returned: in diff mode
  type: dict
  sample: {"before": "", "after": "{\"kind\": \"promote\"}\n"}
"""

import time

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils.aws import (
    append_log_event,
    client,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.lease import LeaseError, LeaseLost
from ansible_collections.switchyard.bluegreen.plugins.module_utils.fence import FENCE_OPTION, fence
from ansible_collections.switchyard.bluegreen.plugins.module_utils.known_state import keepable
from ansible_collections.switchyard.bluegreen.plugins.module_utils.records import (
    append_line,
    stamped,
    to_line,
)


def write(module, line):
    """Append the line to the sink the parameters name."""
    params = module.params
    if params["path"]:
        try:
            append_line(params["path"], line)
        except OSError as e:
            module.fail_json(msg=f"Could not append the deployment record to {params['path']}: {e.strerror or e}.")
        return
    append_log_event(client(module, "logs"), params["log_group"], int(time.time() * 1000), line)


ARGUMENT_SPEC = dict(
    log_group=dict(type="str"),
    path=dict(type="path"),
    record=dict(type="dict", required=True),
    lease=FENCE_OPTION,
    release=dict(
        type="dict",
        options=dict(outcome=dict(type="str", required=True), revisions=dict(type="list", elements="dict")),
    ),
)
# Checked with the arguments, by AnsibleAWSModule and by the action plugin alike.
VALIDATION = dict(
    mutually_exclusive=[["log_group", "path"]],
    required_one_of=[["log_group", "path"]],
    required_by={"release": "lease"},
)


def lease_lost(module):
    """LeaseLost when the run no longer holds its lease; None while it does (renewed, or released
    with O(release), now) or when no lease is given."""
    lease, release = module.params["lease"], module.params["release"]
    if lease and release:
        # A release's phase is its outcome.
        revisions = keepable(release["revisions"], module.warn)
        lease = dict(lease, phase=None, outcome=release["outcome"], revisions=revisions)
    try:
        fence(lease, lambda: client(module, "dynamodb"), check_mode=module.check_mode)()
    except LeaseLost as e:
        return e
    return None


def execute(module):
    """The module's run, given AnsibleAWSModule or the action plugin's ControllerModule."""
    try:
        lost = lease_lost(module)
        entry = dict(module.params["record"])
        if lost:
            # Kept all the same: a record refused would lose what the run did.
            entry["written_without_lease"] = str(lost)
        record, redacted = stamped(entry)
        line = to_line(record)
        if not module.check_mode:
            write(module, line)
    except LeaseError as e:
        module.fail_json(msg=str(e))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    result = dict(changed=True, record=record, redacted=redacted)
    if lost:
        module.warn(f"The record was written without the lease: {lost}")
        result.update(lost=True, lease=lost.lease)
    if module._diff:
        sink = module.params["path"] or module.params["log_group"]
        result["diff"] = {"before": "", "after": line + "\n", "before_header": sink, "after_header": sink}
    module.exit_json(**result)


def main():
    execute(AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, **VALIDATION))


if __name__ == "__main__":
    main()
