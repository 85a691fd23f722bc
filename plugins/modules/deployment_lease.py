#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: deployment_lease
short_description: Acquire, preempt, hold or release the deployment lease of an environment
version_added: 0.1.0
description:
  - One lease per environment says who deploys it, for which operation and in which phase (the
    journal of the run), so that only one promote runs at a time and a rollback always wins.
  - The lease is one item, in a DynamoDB table (I(table), the AWS environments, readable from any
    machine) or in a JSON file (I(path), the development environment), with the same semantics in
    both. Its C(token) is a fencing token that grows by one on every acquisition, takeover and
    preemption and is never reused; every later step of a run passes the token it got, and a run
    whose token is no longer the lease's has lost the lease.
  - I(state=acquired) takes a free lease (no item, or released), or one that is stale. A lease is
    stale when it has expired, or when its holder ran on this machine, is the same I(holder.actor),
    and its C(ansible-playbook) process is gone (an interrupted run). With I(break_lease) a live
    lease is taken too. Otherwise the module fails, naming the holder, its operation, phase, age
    and expiry, and returns the lease. A takeover is returned in I(took_over) and warned about.
  - I(state=preempted) (a rollback) takes the lease whatever its state. When it was held, the
    new item records the run it preempted (C(preempted)) and by whom (C(preempted_by)), so that
    the preempted run learns it at its next check and status can show it.
  - I(state=held) is the heartbeat of the holder of I(token). It renews the expiry, and sets the
    phase and merges I(details). When the lease is no longer held with I(token), the module fails
    with I(lost=true), and the caller must stop at once.
  - I(state=released) lets the lease go with an I(outcome). When the lease is no longer held with
    I(token), it changes nothing and returns I(lost=true) without failing.
  - Writes are conditional on the token read. In DynamoDB, a C(PutItem) that finds another token
    makes the module read and decide again, at most 3 times. The file is read, decided and written
    under an exclusive lock of C(<path>.lock) and replaced atomically (mode 0644, directory
    created).
  - The holder's C(pid) is the pid of the C(ansible-playbook) running the play, found through
    C(/proc) (none elsewhere than on Linux). The values of secret-looking keys of I(details) are
    replaced by C(REDACTED).
  - Check mode only reads, and returns what would happen (a refusal fails in check mode too).
    As an acquisition in check mode writes nothing, a later C(held) or C(released) of the same
    check run passes a token above the stored one (tokens only grow, so no run was ever given
    it); check mode takes that token for this run's. Diff mode shows the item before and after.
  - I(path) needs neither boto3 nor AWS credentials.
author:
  - switchyard contributors (@switchyard)
options:
  table:
    description:
      - DynamoDB table of the leases, partition key C(environment) (string); the deployment
        contract's lease table.
      - Exactly one of I(table) and I(path) is required.
    type: str
  path:
    description:
      - JSON file of the leases of the development environment, one item per environment.
      - Exactly one of I(table) and I(path) is required.
    type: path
  environment:
    description: Environment whose lease this is (the item's key).
    type: str
    required: true
  state:
    description:
      - C(acquired) takes a free or stale lease, and fails on a live one.
      - C(preempted) takes the lease whatever its state (rollback).
      - C(held) renews the lease held with I(token), and fails when it is lost.
      - C(released) lets the lease held with I(token) go.
    type: str
    required: true
    choices: [acquired, preempted, held, released]
  operation:
    description:
      - The operation of the run. Required with I(state=acquired) and I(state=preempted).
      - With C(held) and C(released) it only names the run in messages.
    type: str
    choices: [promote, rollback, finalize]
  holder:
    description:
      - Who runs the operation. Its C(pid) is found by the module.
      - Used with I(state=acquired) and I(state=preempted).
    type: dict
    suboptions:
      actor:
        description:
          - Person or pipeline running the operation.
          - The login name of the user running the module when omitted.
        type: str
      run_id:
        description: Identifier of the run (a CI run id, for example).
        type: str
      host:
        description: Machine of the run; this machine's host name when omitted.
        type: str
  token:
    description:
      - The fencing token returned when the lease was acquired or preempted.
      - Required with I(state=held) and I(state=released).
    type: int
  phase:
    description:
      - Phase of the run (C(started), C(healthy), C(switching 10), C(baking), C(standby), C(done)...).
      - C(started) on acquisition when omitted; on release, defaults to I(outcome).
    type: str
  details:
    description:
      - Free values about the run (C(image), C(from_colour), C(to_colour), C(previous_task_definition),
        C(standby_until)...). Merged into the item's details by C(held) and C(released); they
        replace them on acquisition. Never put secrets here; secret-looking keys are redacted.
    type: dict
  outcome:
    description: Outcome of the run, with I(state=released) (C(succeeded), C(failed), C(rolled_back)...).
    type: str
  revisions:
    description:
      - With I(state=released), the task-definition revisions the services run, as
        M(switchyard.bluegreen.alb_bluegreen_info) returns them, kept in the lease (not in its
        details, so never redacted) for the next run's state read, which then does not describe
        them again (a revision never changes). Omitted, those kept so far stay; a takeover that
        rewrites the whole item drops them. Larger than 100 KB, they are not kept (a warning).
    type: list
    elements: dict
    suboptions:
      arn:
        description: The revision's ARN.
        type: str
        required: true
      revision:
        description: Its revision number.
        type: int
        required: true
      body:
        description: Its registrable fields.
        type: dict
        required: true
      tags:
        description: Its tags.
        type: list
        elements: dict
        default: []
  lease_seconds:
    description:
      - Seconds the lease holds without a heartbeat. On acquisition and on every C(held), it
        expires I(lease_seconds) from then.
    type: int
    default: 900
  break_lease:
    description:
      - With I(state=acquired), take the lease even when it is held and live. Only when you know
        its holder is dead; the playbooks pass C(-e switchyard_break_lease=true).
    type: bool
    default: false
notes:
  - The DynamoDB table's TTL attribute should be C(ttl); each item lives 90 days after its last heartbeat.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Take the lease of production for a promote
  switchyard.bluegreen.deployment_lease:
    table: "{{ deployment.lease_table }}"
    environment: production
    state: acquired
    operation: promote
    holder:
      actor: "{{ lookup('env', 'GITHUB_ACTOR') or lookup('env', 'USER') }}"
      run_id: "{{ lookup('env', 'GITHUB_RUN_ID') or 'local' }}"
    details:
      image: registry.example.com/app@sha256:0123
      from_colour: blue
      to_colour: green
    break_lease: "{{ switchyard_break_lease | default(false) | bool }}"
  register: lease

- name: Check the lease is still ours, and note the phase
  switchyard.bluegreen.deployment_lease:
    table: "{{ deployment.lease_table }}"
    environment: production
    state: held
    operation: promote
    token: "{{ lease.token }}"
    phase: switching 10
  changed_when: false

- name: A rollback takes the lease, whoever holds it
  switchyard.bluegreen.deployment_lease:
    table: "{{ deployment.lease_table }}"
    environment: production
    state: preempted
    operation: rollback
  register: rollback_lease

- name: Let the lease go
  switchyard.bluegreen.deployment_lease:
    path: "{{ deployment.lease_file }}"
    environment: development
    state: released
    token: "{{ lease.token }}"
    outcome: succeeded
"""

RETURN = r"""
lease:
  description:
    - The item after the run (in check mode, as it would be; on failure, as it is); null when
      there is none.
    - C(token) fencing token; C(state) C(held) or C(released); C(operation); C(phase);
      C(holder) (C(actor), C(run_id), C(host), C(pid)); C(started), C(heartbeat), C(expires)
      (epoch seconds); C(ttl) (epoch seconds, DynamoDB's TTL); C(details); C(outcome);
      C(preempted) (C(holder), C(operation), C(phase), C(token) of the run a preemption replaced);
      C(preempted_by) (C(holder), C(operation), C(at)); C(took_over) (C(holder), C(operation),
      C(phase), C(token), C(reason) C(expired), C(interrupted) or C(broken)).
  returned: always
  type: dict
  sample:
    environment: production
    token: 8
    state: held
    operation: promote
    phase: started
    holder: {"actor": "alice", "run_id": "1234", "host": "runner-1", "pid": 4242}
    started: 1800000000.0
    heartbeat: 1800000000.0
    expires: 1800000900.0
    ttl: 1807776000
    details: {"image": "registry.example.com/app@sha256:0123", "from_colour": "blue", "to_colour": "green"}
    outcome: null
    preempted: null
    preempted_by: null
    took_over: null
token:
  description: The lease's token after the run (the one to pass to later C(held) and C(released)).
  returned: always
  type: int
  sample: 8
previous:
  description:
    - The lease as the module read it before its write, in the shape of
      M(switchyard.bluegreen.deployment_lease_info)'s result (lease, held, expired, age_seconds,
      interrupted, in_flight) - the journal of the last run, with no second read.
  returned: always
  type: dict
  sample: {"lease": null, "held": false, "expired": false, "age_seconds": null, "interrupted": false,
           "in_flight": false}
took_over:
  description: The stale lease an acquisition replaced, and why; null otherwise.
  returned: always
  type: dict
  sample: {"holder": {"actor": "bob", "run_id": "77", "host": "laptop", "pid": 311}, "operation": "promote",
           "phase": "baking", "token": 7, "reason": "expired"}
preempted:
  description: The held lease a preemption replaced; null when it was free.
  returned: always
  type: dict
  sample: {"holder": {"actor": "bob", "run_id": "77", "host": "laptop", "pid": 311}, "operation": "promote",
           "phase": "baking", "token": 7}
revisions:
  description:
    - The task-definition revisions the last promote left in the lease (ARN, number, registrable
      body, tags), as this write left them or else as read before it; the state read of the next
      run takes them as known revisions (a revision never changes). Empty when none were kept.
  returned: always
  type: list
  elements: dict
  sample: [{"arn": "arn:aws:ecs:us-east-1:123456789012:task-definition/app:4", "revision": 4, "body": {}, "tags": []}]
lost:
  description: Whether this run no longer holds the lease (C(held) fails then, C(released) does not).
  returned: always
  type: bool
  sample: false
diff:
  description: The item before and after.
  returned: in diff mode
  type: dict
  sample: {"before": {}, "after": {"environment": "production", "token": 1, "state": "held"}}
"""

import dataclasses

from ansible_collections.amazon.aws.plugins.module_utils.botocore import check_sdk_version_supported
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError, AnsibleBotocoreError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils.aws import client
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.lease import (
    LEASE_SECONDS,
    OPERATIONS,
    STATES,
    LeaseError,
    Request,
    plain,
    shown,
    status,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.known_state import KNOWN_REVISIONS_OPTION, keepable
from ansible_collections.switchyard.bluegreen.plugins.module_utils.lease_holder import local_here, local_holder
from ansible_collections.switchyard.bluegreen.plugins.module_utils.lease_store import DynamoStore, FileStore


def store_for(module):
    """The store the parameters name; a DynamoDB one only after boto3 is known to be there."""
    if module.params["path"]:
        return FileStore(module.params["path"])
    try:
        check_sdk_version_supported(warn=module.warn)
    except AnsibleBotocoreError as e:
        module.fail_json(msg=e.message)
    return DynamoStore(client(module, "dynamodb"), module.params["table"])


def request_from(params, check_mode):
    holder = params["holder"] or {}
    if params["state"] in ("acquired", "preempted"):
        holder = local_holder(holder.get("actor"), holder.get("run_id"), holder.get("host"))
    return Request(
        environment=params["environment"],
        operation=params["operation"],
        holder=holder,
        token=params["token"],
        phase=params["phase"],
        details=params["details"] or {},
        outcome=params["outcome"],
        lease_seconds=params["lease_seconds"],
        break_lease=params["break_lease"],
        check_mode=check_mode,
        revisions=params["revisions"],
    )


def run(module):
    params = module.params
    request = dataclasses.replace(
        request_from(params, module.check_mode), revisions=keepable(params["revisions"], module.warn)
    )
    here = local_here()
    before, decision = store_for(module).settle_state(
        params["environment"], params["state"], request, here, write=not module.check_mode
    )
    if decision.warning:
        module.warn(("Check mode, nothing was written: " if module.check_mode else "") + decision.warning)
    # The kept revisions (as this write left them, else as read before it) come back on their own,
    # not inside every lease shown.
    lease, before = plain(decision.lease), plain(before)
    revisions = (lease or {}).get("revisions") or (before or {}).get("revisions") or []
    lease, before = shown(lease), shown(before)
    result = dict(
        changed=decision.write,
        lease=lease,
        revisions=revisions,
        previous=status(before, here),
        token=lease["token"] if lease else None,
        took_over=plain(decision.took_over),
        preempted=plain(decision.preempted),
        lost=decision.lost,
    )
    if module._diff:
        result["diff"] = {"before": before or {}, "after": lease or {}}
    if decision.failure:
        module.fail_json(msg=decision.failure, **result)
    module.exit_json(**result)


ARGUMENT_SPEC = dict(
    table=dict(type="str"),
    path=dict(type="path"),
    environment=dict(type="str", required=True),
    state=dict(type="str", required=True, choices=list(STATES)),
    operation=dict(type="str", choices=list(OPERATIONS)),
    holder=dict(
        type="dict",
        options=dict(actor=dict(type="str"), run_id=dict(type="str"), host=dict(type="str")),
    ),
    token=dict(type="int", no_log=False),
    phase=dict(type="str"),
    details=dict(type="dict"),
    outcome=dict(type="str"),
    lease_seconds=dict(type="int", default=LEASE_SECONDS),
    break_lease=dict(type="bool", default=False),
    revisions=KNOWN_REVISIONS_OPTION | {"default": None},
)
# Checked with the arguments, by AnsibleAWSModule and by the action plugin alike.
VALIDATION = dict(
    mutually_exclusive=[["table", "path"]],
    required_one_of=[["table", "path"]],
    required_if=[
        ["state", "acquired", ["operation"]],
        ["state", "preempted", ["operation"]],
        ["state", "held", ["token"]],
        ["state", "released", ["token"]],
    ],
)
# The file backend needs no boto3: store_for checks it for DynamoDB (so does the action plugin).
NEEDS_BOTO3 = False


def execute(module):
    """The module's run, given AnsibleAWSModule or the action plugin's ControllerModule."""
    if module.params["lease_seconds"] < 1:
        module.fail_json(msg=f"lease_seconds must be 1 or more, not {module.params['lease_seconds']}.")
    try:
        run(module)
    except LeaseError as e:
        module.fail_json(msg=str(e))
    except OSError as e:
        if not module.params["path"]:
            raise
        module.fail_json(msg=f"Could not use the deployment lease file {module.params['path']}: {e.strerror or e}.")
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


def main():
    execute(AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, check_boto3=False, **VALIDATION))


if __name__ == "__main__":
    main()
