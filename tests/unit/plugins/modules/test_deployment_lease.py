"""deployment_lease: main() against a stubbed DynamoDB table, and the file backend end to end."""

from __future__ import annotations

import json
import subprocess
import sys

import boto3
import pytest
from ansible_collections.switchyard.bluegreen.plugins.module_utils import lease_holder, lease_store
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core import lease as lease_utils
from ansible_collections.switchyard.bluegreen.plugins.modules import deployment_lease, deployment_lease_info

from tests.conftest import REPO
from tests.unit.plugins.modules.utils import (
    expect_lease_take,
    expect_lease_take_refused,
    expect_lease_update,
    expect_lease_update_refused,
    run_module,
)

TABLE = "switchyard-production-lease"
NOW = 1_800_000_000.0
HOST = "runner-1"
ALICE = {"actor": "alice", "run_id": "run-2", "host": HOST}
BOB = {"actor": "bob", "run_id": "run-1", "host": "laptop", "pid": 311}
CONDITION = "attribute_not_exists(environment) OR #token = :seen"


@pytest.fixture(autouse=True)
def this_machine(monkeypatch, tmp_path):
    """NOW on HOST, where the play's ansible-playbook is pid 500, the only process in /proc."""
    proc = tmp_path / "proc"
    (proc / "500").mkdir(parents=True)
    (proc / "500" / "cmdline").write_bytes(b"python3\0/usr/bin/ansible-playbook\0promote.yml\0")
    monkeypatch.setattr(lease_holder, "clock", lambda: NOW)
    monkeypatch.setattr(lease_holder, "playbook_pid", lambda: 500)
    monkeypatch.setattr(lease_holder, "PROC", str(proc))
    monkeypatch.setattr(lease_holder.socket, "gethostname", lambda: HOST)
    return proc


def held_by_bob(**changes):
    """Bob's promote of production, token 7, phase baking, started 300 s ago, live for 600 s more."""
    item = {
        "environment": "production",
        "token": 7,
        "state": "held",
        "operation": "promote",
        "phase": "baking",
        "holder": dict(BOB),
        "started": NOW - 300,
        "heartbeat": NOW - 60,
        "expires": NOW + 600,
        "ttl": int(NOW) + lease_utils.TTL_SECONDS,
        "details": {"image": "app@sha256:1111", "to_colour": "green"},
        "outcome": None,
        "preempted": None,
        "preempted_by": None,
        "took_over": None,
    }
    return {**item, **changes}


def held_by_alice(**changes):
    return held_by_bob(holder=dict(ALICE, pid=500), **changes)


class Item:
    """Matches the Item parameter of put_item whose decoded values include fields; keeps what it saw."""

    def __init__(self, **fields):
        self.fields = fields
        self.seen = None

    def __eq__(self, attributes):
        self.seen = lease_store.from_dynamodb(attributes)
        return all(self.seen.get(key) == value for key, value in self.fields.items())

    __hash__ = None  # compared only

    def __repr__(self):
        return f"Item({self.fields}, seen={self.seen})"


def expect_get(dynamodb, item, environment="production"):
    response = {"Item": lease_store.to_dynamodb(item)} if item else {}
    dynamodb.add_response(
        "get_item",
        response,
        {"TableName": TABLE, "Key": {"environment": {"S": environment}}, "ConsistentRead": True},
    )


def expect_put(dynamodb, seen, item):
    dynamodb.add_response(
        "put_item",
        {},
        {
            "TableName": TABLE,
            "Item": item,
            "ConditionExpression": CONDITION,
            "ExpressionAttributeNames": {"#token": "token"},
            "ExpressionAttributeValues": {":seen": {"N": str(seen)}},
        },
    )


def expect_update(dynamodb, token, before):
    expect_lease_update(dynamodb, TABLE, "production", token, before)


def expect_conflict(dynamodb):
    dynamodb.add_client_error(
        "put_item",
        service_error_code="ConditionalCheckFailedException",
        service_message="The conditional request failed",
    )


def lease_args(state, **extra):
    return {"table": TABLE, "environment": "production", "state": state, **extra}


ACQUIRE = lease_args("acquired", operation="promote", holder=ALICE, details={"image": "app@sha256:2222"})


# --- acquired ---------------------------------------------------------------------------------


def test_a_free_lease_is_acquired_with_token_1(aws):
    # One call: the UpdateItem that takes a lease nobody holds, adding one to the token.
    taken = expect_lease_take(aws.stub("dynamodb"), TABLE, "production", before=None)

    result = run_module(deployment_lease, ACQUIRE)

    assert not result["failed"], result["msg"]
    assert result["changed"] is True and result["token"] == 1
    assert result["took_over"] is None and result["preempted"] is None and result["lost"] is False
    assert taken.seen["state"] == "held" and taken.seen["holder"] == dict(ALICE, pid=500)
    assert result["lease"] == dict(taken.seen, environment="production", token=1), "returned as written"
    assert result["lease"]["expires"] == NOW + 900 and result["lease"]["details"] == {"image": "app@sha256:2222"}
    # DynamoDB's Decimals come back as int and float
    assert type(result["token"]) is int and type(result["lease"]["started"]) is float
    assert type(result["lease"]["ttl"]) is int


def test_a_released_lease_is_acquired_with_the_next_token(aws):
    released = held_by_bob(state="released", outcome="succeeded")
    taken = expect_lease_take(aws.stub("dynamodb"), TABLE, "production", before=released)

    result = run_module(deployment_lease, ACQUIRE)

    assert result["changed"] is True and result["token"] == 8 and result["took_over"] is None
    assert taken.seen["outcome"] is None and taken.seen["holder"] == dict(ALICE, pid=500), "bob's outcome is gone"
    assert result["previous"]["lease"] == released, "the last run's journal, from the same call"


def test_a_live_lease_is_refused_with_who_holds_it_and_what_to_do(aws):
    current = held_by_bob()
    dynamodb = aws.stub("dynamodb")
    expect_lease_take_refused(dynamodb)
    expect_get(dynamodb, current)  # and no put_item

    result = run_module(deployment_lease, ACQUIRE)

    assert result["failed"] and result["changed"] is False and result["lost"] is False
    assert result["lease"] == current and result["token"] == 7
    message = result["msg"]
    for part in (
        "The deployment lease of production is held by bob on laptop (run run-1, token 7)",
        "for promote, phase baking",
        "started 300 s ago",
        "it expires at 2027-01-15 08:10:00 UTC (600 s from now)",
        "wait until it expires",
        "run playbooks/rollback.yml, which always takes the lease over",
        "if you know the holder is dead, pass -e switchyard_break_lease=true",
        "Nothing was changed.",
    ):
        assert part in message, f"{part!r} missing from: {message}"


def test_an_expired_lease_is_taken_over_with_a_warning(aws):
    dynamodb = aws.stub("dynamodb")
    expect_lease_take_refused(dynamodb)
    expect_get(dynamodb, held_by_bob(expires=NOW - 30))
    took_over = {"holder": BOB, "operation": "promote", "phase": "baking", "token": 7, "reason": "expired"}
    expect_put(dynamodb, 7, Item(token=8, took_over=took_over))

    result = run_module(deployment_lease, ACQUIRE)

    assert result["changed"] is True and result["token"] == 8
    assert result["took_over"] == took_over
    assert any("expired at 2027-01-15 07:59:30 UTC (30 s ago)" in warning for warning in result["warnings"])


def test_an_interrupted_run_of_the_same_actor_on_this_machine_is_taken_over(aws, this_machine):
    # Alice's earlier run on this machine: its ansible-playbook, pid 400, is not in /proc any more.
    dynamodb = aws.stub("dynamodb")
    expect_lease_take_refused(dynamodb)
    expect_get(dynamodb, held_by_bob(holder=dict(ALICE, pid=400)))
    expect_put(dynamodb, 7, Item(token=8))

    result = run_module(deployment_lease, ACQUIRE)

    assert result["took_over"]["reason"] == "interrupted"
    assert any("ansible-playbook (pid 400) no longer runs here" in warning for warning in result["warnings"])


def test_a_live_playbook_of_the_same_actor_keeps_its_lease(aws, this_machine):
    (this_machine / "400").mkdir()
    (this_machine / "400" / "cmdline").write_bytes(b"python3\0/usr/bin/ansible-playbook\0promote.yml\0")
    dynamodb = aws.stub("dynamodb")
    expect_lease_take_refused(dynamodb)
    expect_get(dynamodb, held_by_bob(holder=dict(ALICE, pid=400)))

    result = run_module(deployment_lease, ACQUIRE)

    assert result["failed"] and "held by alice on runner-1" in result["msg"]


def test_break_lease_takes_a_live_lease(aws):
    dynamodb = aws.stub("dynamodb")
    expect_lease_take_refused(dynamodb)
    expect_get(dynamodb, held_by_bob())
    expect_put(dynamodb, 7, Item(token=8))

    result = run_module(deployment_lease, dict(ACQUIRE, break_lease=True))

    assert result["changed"] is True and result["took_over"]["reason"] == "broken"
    assert any("break_lease was set" in warning for warning in result["warnings"])


def test_a_conflicting_write_is_read_and_decided_again(aws):
    # Bob's lease had expired; between our read and our takeover, bob renewed it: the second
    # decision refuses.
    dynamodb = aws.stub("dynamodb")
    expect_lease_take_refused(dynamodb)
    expect_get(dynamodb, held_by_bob(expires=NOW - 30))
    expect_conflict(dynamodb)
    expect_get(dynamodb, held_by_bob())

    result = run_module(deployment_lease, ACQUIRE)

    assert result["failed"] and result["msg"].startswith("The deployment lease of production is held by bob")
    assert result["token"] == 7


def test_a_conflict_on_a_still_free_lease_writes_on_the_new_token(aws):
    # Bob's lease had expired; he released it between our read and our takeover.
    dynamodb = aws.stub("dynamodb")
    expect_lease_take_refused(dynamodb)
    expect_get(dynamodb, held_by_bob(expires=NOW - 30))
    expect_conflict(dynamodb)
    expect_get(dynamodb, held_by_bob(token=8, state="released"))
    expect_put(dynamodb, 8, Item(token=9))

    result = run_module(deployment_lease, ACQUIRE)

    assert result["changed"] is True and result["token"] == 9


def test_conflicts_without_end_fail_after_three_rereads(aws):
    dynamodb = aws.stub("dynamodb")
    expect_lease_take_refused(dynamodb)
    for token in range(4):
        expect_get(dynamodb, held_by_bob(token=token, state="released") if token else None)
        expect_conflict(dynamodb)

    result = run_module(deployment_lease, ACQUIRE)

    assert result["failed"]
    assert result["msg"] == (
        f"The deployment lease of production in {TABLE} changed under this run 4 times in a row;"
        " nothing was changed. Run again."
    )


def test_check_mode_only_reads_and_predicts(aws):
    expect_get(aws.stub("dynamodb"), held_by_bob(state="released"))

    result = run_module(deployment_lease, ACQUIRE, check_mode=True, diff=True)

    assert not result["failed"] and result["changed"] is True and result["token"] == 8
    assert result["lease"]["holder"] == dict(ALICE, pid=500)
    assert result["diff"]["before"]["token"] == 7 and result["diff"]["after"] == result["lease"]


def test_check_mode_refuses_a_live_lease_too(aws):
    expect_get(aws.stub("dynamodb"), held_by_bob())

    result = run_module(deployment_lease, ACQUIRE, check_mode=True)

    assert result["failed"] and "held by bob on laptop" in result["msg"]


def test_diff_of_a_new_lease_starts_empty(aws):
    expect_lease_take(aws.stub("dynamodb"), TABLE, "production", before=None)

    result = run_module(deployment_lease, ACQUIRE, diff=True)

    assert result["diff"]["before"] == {} and result["diff"]["after"]["token"] == 1


# --- preempted --------------------------------------------------------------------------------


def test_a_rollback_preempts_a_held_lease(aws):
    dynamodb = aws.stub("dynamodb")
    expect_get(dynamodb, held_by_bob())
    journal = {"image": "app@sha256:1111", "to_colour": "green"}
    preempted = {"holder": BOB, "operation": "promote", "phase": "baking", "token": 7, "details": journal}
    preempted_by = {"holder": dict(ALICE, pid=500), "operation": "rollback", "at": NOW}
    expect_put(dynamodb, 7, Item(token=8, operation="rollback", preempted=preempted, preempted_by=preempted_by))

    result = run_module(deployment_lease, lease_args("preempted", operation="rollback", holder=ALICE))

    assert result["changed"] is True and result["token"] == 8
    assert result["preempted"] == preempted and result["took_over"] is None
    assert result["lease"]["preempted_by"] == preempted_by
    assert any("rollback preempted bob on laptop" in warning for warning in result["warnings"])
    # The journal of the preempted run, as read before the write: no second read needed.
    assert result["previous"]["lease"] == held_by_bob() and result["previous"]["in_flight"] is True


def test_a_rollback_on_a_free_lease_preempts_nobody(aws):
    dynamodb = aws.stub("dynamodb")
    expect_get(dynamodb, None)
    expect_put(dynamodb, 0, Item(token=1, operation="rollback"))

    result = run_module(deployment_lease, lease_args("preempted", operation="rollback"))

    assert result["changed"] is True and result["preempted"] is None
    assert result["lease"]["holder"]["pid"] == 500 and result["lease"]["holder"]["host"] == HOST


# --- held -------------------------------------------------------------------------------------


def test_a_heartbeat_renews_the_lease_and_notes_the_phase_in_one_call(aws):
    dynamodb = aws.stub("dynamodb")
    expect_update(dynamodb, 7, held_by_alice())

    result = run_module(
        deployment_lease,
        lease_args("held", token=7, phase="switching 10", details={"from_colour": "blue"}, lease_seconds=120),
    )

    assert not result["failed"] and result["changed"] is True and result["lost"] is False
    assert result["lease"]["details"] == {"image": "app@sha256:1111", "to_colour": "green", "from_colour": "blue"}
    assert (result["lease"]["phase"], result["lease"]["heartbeat"], result["lease"]["expires"]) == (
        "switching 10",
        NOW,
        NOW + 120,
    )


def test_a_heartbeat_of_a_lost_lease_fails_with_lost(aws):
    current = held_by_bob(token=8, operation="rollback", holder=BOB, started=NOW - 20)
    dynamodb = aws.stub("dynamodb")
    expect_lease_update_refused(dynamodb)  # not held with token 7 any more: read who has it
    expect_get(dynamodb, current)

    result = run_module(deployment_lease, lease_args("held", token=7, operation="promote", phase="baking"))

    assert result["failed"] and result["lost"] is True and result["changed"] is False
    assert result["lease"] == current
    assert result["msg"] == (
        "promote lost the deployment lease of production: bob took it for rollback (token 8) at"
        " 2027-01-15 07:59:40 UTC; production is in the rollback's hands; this run changes nothing more."
    )


def test_a_heartbeat_needs_a_token(aws):
    result = run_module(deployment_lease, lease_args("held"))

    assert result["failed"] and "state is held but all of the following are missing: token" in result["msg"]


# --- released ---------------------------------------------------------------------------------


def test_the_holder_releases_with_its_outcome(aws):
    dynamodb = aws.stub("dynamodb")
    expect_update(dynamodb, 7, held_by_alice())

    result = run_module(deployment_lease, lease_args("released", token=7, outcome="succeeded"))

    assert result["changed"] is True and result["lost"] is False and result["lease"]["state"] == "released"
    assert result["lease"]["outcome"] == "succeeded" and result["lease"]["phase"] == "succeeded"


def test_a_release_after_losing_the_lease_changes_nothing_and_does_not_fail(aws):
    dynamodb = aws.stub("dynamodb")
    expect_lease_update_refused(dynamodb)
    expect_get(dynamodb, held_by_bob(token=8, operation="rollback"))

    result = run_module(deployment_lease, lease_args("released", token=7, outcome="failed"))

    assert not result["failed"] and result["changed"] is False and result["lost"] is True
    assert result["lease"]["token"] == 8


# --- errors -----------------------------------------------------------------------------------


def test_a_missing_table_says_to_provision(aws):
    aws.stub("dynamodb").add_client_error(
        "update_item", service_error_code="ResourceNotFoundException", service_message="Requested resource not found"
    )

    result = run_module(deployment_lease, ACQUIRE)

    assert result["failed"]
    assert result["msg"] == (
        f"The DynamoDB table {TABLE} of the deployment lease does not exist (in this account and region)."
        " Provision the environment first (playbooks/provision.yml). Nothing was changed."
    )


def test_other_aws_errors_name_the_action(aws):
    dynamodb = aws.stub("dynamodb")
    dynamodb.add_client_error("update_item", service_error_code="AccessDeniedException", http_status_code=400)

    result = run_module(deployment_lease, ACQUIRE)

    assert result["failed"] and result["msg"].startswith("Failed to write the deployment lease")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"environment": "production", "state": "preempted", "operation": "rollback"}, "one of the following"),
        (dict(ACQUIRE, path="/tmp/lease.json"), "mutually exclusive"),
        (lease_args("acquired"), "state is acquired but all of the following are missing: operation"),
        (dict(ACQUIRE, lease_seconds=0), "lease_seconds must be 1 or more"),
    ],
)
def test_bad_arguments_are_refused(aws, args, message):
    result = run_module(deployment_lease, args)

    assert result["failed"] and message in result["msg"]


# --- the file backend, end to end -------------------------------------------------------------


def file_args(path, state, **extra):
    return {"path": str(path), "environment": "development", "state": state, **extra}


def test_a_whole_run_on_the_lease_file(aws, tmp_path):
    path = tmp_path / ".switchyard" / "lease.json"
    acquire = file_args(path, "acquired", operation="promote", holder=ALICE)

    acquired = run_module(deployment_lease, acquire)
    refused = run_module(deployment_lease, dict(acquire, holder={"actor": "bob", "host": "laptop"}))
    heartbeat = run_module(deployment_lease, file_args(path, "held", token=1, phase="baking"))
    released = run_module(deployment_lease, file_args(path, "released", token=1, outcome="succeeded"))
    again = run_module(deployment_lease, acquire)

    assert acquired["changed"] is True and acquired["token"] == 1
    assert refused["failed"] and "held by alice on runner-1 (run run-2, token 1)" in refused["msg"]
    assert heartbeat["changed"] is True and heartbeat["lease"]["phase"] == "baking"
    assert released["lease"]["state"] == "released" and released["lease"]["phase"] == "succeeded"
    assert again["token"] == 2
    assert json.loads(path.read_text())["development"] == again["lease"]
    assert aws.created == []  # no AWS client for the file


def test_a_preempted_run_on_the_lease_file_learns_it_at_its_next_check(aws, tmp_path):
    path = tmp_path / "lease.json"
    run_module(deployment_lease, file_args(path, "acquired", operation="promote", holder=ALICE))
    preempted = run_module(
        deployment_lease, file_args(path, "preempted", operation="rollback", holder={"actor": "bob"})
    )

    check = run_module(deployment_lease, file_args(path, "held", token=1))
    release = run_module(deployment_lease, file_args(path, "released", token=1, outcome="preempted"))

    assert preempted["preempted"]["holder"] == dict(ALICE, pid=500) and preempted["token"] == 2
    assert check["failed"] and check["lost"] is True
    assert check["msg"].startswith(
        "promote lost the deployment lease of development: bob took it for rollback (token 2)"
    )
    assert release["changed"] is False and release["lost"] is True and not release["failed"]


def test_check_mode_on_the_lease_file_creates_nothing(aws, tmp_path):
    path = tmp_path / "dir" / "lease.json"

    result = run_module(deployment_lease, file_args(path, "acquired", operation="promote"), check_mode=True, diff=True)

    assert result["changed"] is True and result["token"] == 1 and result["diff"]["before"] == {}
    assert not path.parent.exists()


def test_a_whole_check_run_on_the_lease_file_goes_through_without_writing(aws, tmp_path):
    path = tmp_path / "lease.json"
    run_module(deployment_lease, file_args(path, "acquired", operation="promote", holder=ALICE))
    run_module(deployment_lease, file_args(path, "released", token=1, outcome="succeeded"))
    stored = path.read_text()

    acquired = run_module(deployment_lease, file_args(path, "acquired", operation="promote"), check_mode=True)
    held = run_module(deployment_lease, file_args(path, "held", token=2, phase="healthy"), check_mode=True)
    released = run_module(deployment_lease, file_args(path, "released", token=2, outcome="done"), check_mode=True)

    assert acquired["token"] == 2 and held["token"] == 2 and released["token"] == 2
    assert not held["failed"] and held["lost"] is False and held["lease"]["phase"] == "healthy"
    assert released["changed"] is True and released["lease"]["state"] == "released"
    assert path.read_text() == stored


def test_an_unwritable_lease_file_fails_clearly(aws, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")

    result = run_module(deployment_lease, file_args(blocker / "lease.json", "acquired", operation="promote"))

    assert result["failed"] and result["msg"].startswith(f"Could not use the deployment lease file {blocker}")


NO_BOTO3 = """
import json, sys
sys.modules["boto3"] = sys.modules["botocore"] = None  # as on a machine without them
sys.path.insert(0, {collections!r})
from ansible.module_utils.testing import patch_module_args
from ansible_collections.switchyard.bluegreen.plugins.modules import {module}
with patch_module_args({args!r}):
    {module}.main()
"""


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("deployment_lease", {"state": "acquired", "operation": "promote", "holder": {"actor": "alice"}}),
        ("deployment_lease_info", {}),
    ],
)
def test_the_lease_file_needs_no_boto3(tmp_path, module, args):
    args = {"path": str(tmp_path / "lease.json"), "environment": "development", **args}
    script = NO_BOTO3.format(collections=str(REPO / ".collections"), module=module, args=args)

    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=REPO)

    result = json.loads(done.stdout)
    assert done.returncode == 0 and not result.get("failed"), result.get("msg") or done.stderr
    assert "boto3" not in json.dumps(result.get("warnings", []))


def test_a_table_without_boto3_says_what_is_missing(tmp_path):
    args = {"table": TABLE, "environment": "production", "state": "acquired", "operation": "promote"}
    script = NO_BOTO3.format(collections=str(REPO / ".collections"), module="deployment_lease", args=args)

    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=REPO)

    result = json.loads(done.stdout)
    assert result["failed"] and "botocore and boto3" in result["msg"]


# --- a round trip through moto's in-process DynamoDB ----------------------------------------------


@pytest.fixture
def moto_table(monkeypatch):
    moto = pytest.importorskip("moto")

    # moto's mock_aws sets fake credentials; nothing may send the calls elsewhere.
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with moto.mock_aws():
        boto3.client("dynamodb", region_name="us-east-1").create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "environment", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "environment", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield


def test_a_whole_run_through_dynamodb(moto_table):
    args = {"region": "us-east-1", "environment": "production"}
    acquire = dict(args, table=TABLE, state="acquired", operation="promote", holder=ALICE, details={"ratio": 0.5})

    first = run_module(deployment_lease, acquire)
    refused = run_module(deployment_lease, dict(acquire, holder={"actor": "bob"}))
    heartbeat = run_module(deployment_lease, dict(args, table=TABLE, state="held", token=1, phase="baking"))
    rollback = run_module(deployment_lease, dict(args, table=TABLE, state="preempted", operation="rollback"))
    lost = run_module(deployment_lease, dict(args, table=TABLE, state="held", token=1))
    info = run_module(deployment_lease_info, dict(args, table=TABLE))

    assert first["token"] == 1 and first["lease"]["details"] == {"ratio": 0.5}
    assert refused["failed"] and "held by alice" in refused["msg"]
    assert heartbeat["lease"]["phase"] == "baking" and heartbeat["lease"]["expires"] == NOW + 900
    assert rollback["token"] == 2 and rollback["preempted"]["phase"] == "baking"
    assert lost["failed"] and lost["lost"] is True
    assert info["lease"] == rollback["lease"] and info["held"] is True and info["in_flight"] is True
