"""deployment_record and deployment_record_info: the same records through a log group or a file."""

from __future__ import annotations

import json
import stat

import pytest
from ansible_collections.switchyard.bluegreen.plugins.modules import (
    deployment_lease,
    deployment_lease_info,
    deployment_record,
    deployment_record_info,
)

from tests.unit.plugins.modules.utils import ANY, run_module

LOG_GROUP = "/switchyard/switchyard-production/deployments"
RECORD = {"kind": "promote", "outcome": "succeeded", "image": "app@sha256:0123", "from_colour": "blue"}


def expect_put(logs):
    logs.add_response(
        "put_log_events",
        {},
        {"logGroupName": LOG_GROUP, "logStreamName": "records", "logEvents": [{"timestamp": ANY, "message": ANY}]},
    )


def test_a_record_is_appended_to_the_log_group_in_one_call(aws):
    logs = aws.stub("logs")
    expect_put(logs)

    result = run_module(deployment_record, {"log_group": LOG_GROUP, "record": RECORD}, diff=True)

    assert not result["failed"], result["msg"]
    assert result["changed"] is True
    assert result["record"]["recorded_at"].endswith("+00:00")
    assert {k: v for k, v in result["record"].items() if k != "recorded_at"} == RECORD
    assert json.loads(result["diff"]["after"]) == result["record"]


def test_the_first_record_creates_the_stream(aws):
    logs = aws.stub("logs")
    logs.add_client_error("put_log_events", service_error_code="ResourceNotFoundException")
    logs.add_response("create_log_stream", {}, {"logGroupName": LOG_GROUP, "logStreamName": "records"})
    expect_put(logs)

    result = run_module(deployment_record, {"log_group": LOG_GROUP, "record": RECORD})

    assert result["changed"] is True and not result["failed"]


def test_a_stream_another_run_just_created_is_fine(aws):
    logs = aws.stub("logs")
    logs.add_client_error("put_log_events", service_error_code="ResourceNotFoundException")
    logs.add_client_error("create_log_stream", service_error_code="ResourceAlreadyExistsException")
    expect_put(logs)

    result = run_module(deployment_record, {"log_group": LOG_GROUP, "record": RECORD})

    assert result["changed"] is True and not result["failed"]


def test_a_missing_log_group_fails_clearly(aws):
    logs = aws.stub("logs")
    logs.add_client_error("put_log_events", service_error_code="ResourceNotFoundException")
    logs.add_client_error(
        "create_log_stream", service_error_code="ResourceNotFoundException", service_message="group does not exist"
    )

    result = run_module(deployment_record, {"log_group": LOG_GROUP, "record": RECORD})

    assert result["failed"]
    assert result["msg"].startswith("Failed to write the deployment record")
    assert "group does not exist" in result["msg"]


def test_check_mode_writes_nothing_to_aws(aws):
    # no call expected: the Stubber fails the test on any
    result = run_module(deployment_record, {"log_group": LOG_GROUP, "record": RECORD}, check_mode=True)

    assert result["changed"] is True
    assert result["record"]["kind"] == "promote"


def test_a_record_is_appended_to_the_file_creating_it_and_its_directory(aws, tmp_path):
    path = tmp_path / "dev" / ".records" / "deployments.jsonl"

    first = run_module(deployment_record, {"path": str(path), "record": RECORD})
    second = run_module(deployment_record, {"path": str(path), "record": dict(RECORD, kind="rollback")})

    assert first["changed"] is True and second["changed"] is True
    lines = path.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [first["record"], second["record"]]
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert aws.created == []  # no AWS client for the file sink


def test_check_mode_creates_no_file(aws, tmp_path):
    path = tmp_path / "records" / "deployments.jsonl"

    result = run_module(deployment_record, {"path": str(path), "record": RECORD}, check_mode=True, diff=True)

    assert result["changed"] is True
    assert result["diff"]["before"] == ""
    assert not path.parent.exists()


def test_secrets_never_reach_a_record(aws, tmp_path):
    path = tmp_path / "deployments.jsonl"
    record = dict(
        RECORD,
        database_password="hunter2",
        master_secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
        failure="could not connect to postgres://app:hunter2@db.internal:5432/app",
        migration={"env": {"API_TOKEN": "t0k3n"}},
    )

    result = run_module(deployment_record, {"path": str(path), "record": record})

    stored = path.read_text()
    assert "hunter2" not in stored and "t0k3n" not in stored
    assert result["record"]["database_password"] == "REDACTED"
    assert result["record"]["master_secret_arn"].startswith("arn:aws:secretsmanager")  # a reference, not a secret
    assert result["record"]["failure"] == "could not connect to postgres://app:REDACTED@db.internal:5432/app"
    assert sorted(result["redacted"]) == ["database_password", "failure", "migration.env.API_TOKEN"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"record": RECORD}, "one of the following is required: log_group, path"),
        ({"record": RECORD, "log_group": LOG_GROUP, "path": "/tmp/x"}, "mutually exclusive"),
    ],
)
def test_exactly_one_sink(aws, args, message):
    result = run_module(deployment_record, args)

    assert result["failed"]
    assert message in result["msg"]


def event(timestamp, record):
    return {"timestamp": timestamp, "message": json.dumps(record), "ingestionTime": timestamp}


def test_info_reads_the_log_group_newest_first(aws):
    aws.stub("logs").add_response(
        "get_log_events",
        {"events": [event(1, {"n": 1}), {"timestamp": 2, "message": "not ours"}, event(3, {"n": 3})]},
        {"logGroupName": LOG_GROUP, "logStreamName": "records", "limit": 5, "startFromHead": False},
    )

    result = run_module(deployment_record_info, {"log_group": LOG_GROUP, "limit": 5})

    assert result == {"failed": False, "changed": False, "records": [{"n": 3}, {"n": 1}]}


def test_info_of_a_group_without_records_is_empty(aws):
    aws.stub("logs").add_client_error("get_log_events", service_error_code="ResourceNotFoundException")

    result = run_module(deployment_record_info, {"log_group": LOG_GROUP})

    assert result["records"] == []


def test_info_reads_the_latest_lines_of_the_file_newest_first(aws, tmp_path):
    path = tmp_path / "deployments.jsonl"
    for n in range(1, 6):
        run_module(deployment_record, {"path": str(path), "record": {"n": n}})
    with path.open("a") as handle:
        handle.write("a line that is not JSON\n")

    result = run_module(deployment_record_info, {"path": str(path), "limit": 3})

    assert [r["n"] for r in result["records"]] == [5, 4, 3]
    assert all("recorded_at" in r for r in result["records"])


def test_info_of_a_missing_file_is_empty(aws, tmp_path):
    result = run_module(deployment_record_info, {"path": str(tmp_path / "none.jsonl")})

    assert result == {"failed": False, "changed": False, "records": []}


def test_both_sinks_return_the_same_shape(aws, tmp_path):
    path = tmp_path / "deployments.jsonl"
    written = run_module(deployment_record, {"path": str(path), "record": RECORD})["record"]
    aws.stub("logs").add_response("get_log_events", {"events": [event(1, written)]})

    from_file = run_module(deployment_record_info, {"path": str(path)})
    from_logs = run_module(deployment_record_info, {"log_group": LOG_GROUP})

    assert from_file == from_logs


def lease_of(tmp_path, operation="promote", **args):
    """A lease taken in a lock file by deployment_lease, and the record module's lease option."""
    path = str(tmp_path / "lease.json")
    taken = run_module(
        deployment_lease,
        {"path": path, "environment": "development", "state": "acquired", "operation": operation, **args},
    )
    return path, {"path": path, "environment": "development", "token": taken["token"]}


def read_lease(path):
    return run_module(deployment_lease_info, {"path": path, "environment": "development"})["lease"]


def test_a_record_with_an_outcome_releases_the_lease_in_the_write_that_checks_it(aws, tmp_path):
    """The record is the run's last word: one conditional write checks the lease and releases it."""
    lease_path, lease = lease_of(tmp_path)
    records = tmp_path / "records.jsonl"

    result = run_module(
        deployment_record, {"path": str(records), "record": RECORD, "lease": lease, "release": {"outcome": "done"}}
    )

    assert "lost" not in result and "written_without_lease" not in result["record"], result
    released = read_lease(lease_path)
    assert (released["state"], released["outcome"], released["token"]) == ("released", "done", lease["token"])
    assert json.loads(records.read_text())["kind"] == "promote"


def test_a_record_without_an_outcome_only_renews_the_lease(aws, tmp_path):
    lease_path, lease = lease_of(tmp_path)

    run_module(deployment_record, {"path": str(tmp_path / "r.jsonl"), "record": RECORD, "lease": lease})

    assert read_lease(lease_path)["state"] == "held"


def test_a_run_that_lost_its_lease_keeps_its_record_marked_and_releases_nothing(aws, tmp_path):
    """A rollback took the lease: the record of what the run did is not lost, and says so."""
    lease_path, lease = lease_of(tmp_path)
    taken = run_module(
        deployment_lease,
        {"path": lease_path, "environment": "development", "state": "preempted", "operation": "rollback"},
    )
    records = tmp_path / "records.jsonl"

    result = run_module(
        deployment_record, {"path": str(records), "record": RECORD, "lease": lease, "release": {"outcome": "done"}}
    )

    assert result["lost"] is True and result["lease"]["operation"] == "rollback", result
    written = json.loads(records.read_text())
    assert "took it for rollback" in written["written_without_lease"], written
    assert any("written without the lease" in warning for warning in result.get("warnings", [])), result
    after = read_lease(lease_path)
    assert (after["state"], after["token"]) == ("held", taken["token"]), "the rollback's lease is untouched"


def test_check_mode_neither_writes_the_record_nor_releases_the_lease(aws, tmp_path):
    lease_path, lease = lease_of(tmp_path)
    records = tmp_path / "records.jsonl"

    run_module(
        deployment_record,
        {"path": str(records), "record": RECORD, "lease": lease, "release": {"outcome": "done"}},
        check_mode=True,
    )

    assert not records.exists() and read_lease(lease_path)["state"] == "held"
