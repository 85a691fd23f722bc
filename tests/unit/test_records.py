"""Deployment records: redaction and the file sink (module_utils/records.py)."""

import pytest
from ansible_collections.switchyard.bluegreen.plugins.module_utils.records import (
    latest_from_events,
    latest_from_file,
    redact,
)


@pytest.mark.parametrize(
    "key", ["password", "db_password", "DB_PASSWORD", "apiKey", "api_key", "X-Auth-Token", "private_key", "secret"]
)
def test_secret_keys_are_redacted(key):
    assert redact({key: "s3cr3t"}) == ({key: "REDACTED"}, [key])


@pytest.mark.parametrize("key", ["master_secret_arn", "secret_name", "image", "checks_passed", "seconds", "token_id"])
def test_references_and_ordinary_keys_are_kept(key):
    assert redact({key: "value"}) == ({key: "value"}, [])


def test_passwords_in_urls_are_redacted_at_any_depth():
    record = {"steps": [{"failure": "postgres://app:pw@db/app unreachable"}]}
    assert redact(record) == (
        {"steps": [{"failure": "postgres://app:REDACTED@db/app unreachable"}]},
        ["steps[0].failure"],
    )


def test_latest_from_file_is_newest_first_and_skips_foreign_lines(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text('{"n": 1}\nnot json\n[1]\n{"n": 2}\n{"n": 3}\n')
    assert latest_from_file(str(path), 2) == [{"n": 3}, {"n": 2}]
    assert latest_from_file(str(tmp_path / "missing.jsonl"), 2) == []


def test_latest_from_events_orders_by_time():
    events = [{"timestamp": 2, "message": '{"n": 2}'}, {"timestamp": 1, "message": '{"n": 1}'}]
    assert latest_from_events(events, 1) == [{"n": 2}]


def test_a_fencing_token_is_kept_but_a_token_string_is_redacted():
    clean, found = redact({"preempted": {"token": 7}, "github": {"token": "ghp_abc"}})
    assert clean == {"preempted": {"token": 7}, "github": {"token": "REDACTED"}}
    assert found == ["github.token"]
