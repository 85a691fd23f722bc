"""deployment_lease_info: the lease and whether its run is in flight, from DynamoDB or the lease file."""

from __future__ import annotations

import pytest
from ansible_collections.switchyard.bluegreen.plugins.module_utils import lease_holder
from ansible_collections.switchyard.bluegreen.plugins.modules import deployment_lease, deployment_lease_info

from tests.unit.plugins.modules.test_deployment_lease import (
    ALICE,
    HOST,
    NOW,
    TABLE,
    expect_get,
    held_by_bob,
    this_machine,  # noqa: F401 - the autouse fixture: NOW, HOST, pid 500 in a fake /proc
)
from tests.unit.plugins.modules.utils import run_module

ARGS = {"table": TABLE, "environment": "production"}


def test_no_lease_yet(aws):
    expect_get(aws.stub("dynamodb"), None)

    result = run_module(deployment_lease_info, ARGS)

    assert result == {
        "failed": False,
        "changed": False,
        "lease": None,
        "held": False,
        "expired": False,
        "age_seconds": None,
        "interrupted": False,
        "in_flight": False,
    }


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (held_by_bob(), dict(held=True, expired=False, interrupted=False, in_flight=True)),
        (held_by_bob(expires=NOW - 1), dict(held=True, expired=True, interrupted=True, in_flight=False)),
        (
            held_by_bob(holder={"actor": "bob", "run_id": "1", "host": HOST, "pid": 400}),
            dict(held=True, expired=False, interrupted=True, in_flight=False),
        ),
        (
            held_by_bob(holder=dict(ALICE, pid=500)),
            dict(held=True, expired=False, interrupted=False, in_flight=True),
        ),
        (held_by_bob(state="released", outcome="succeeded"), dict(held=False, expired=False, interrupted=False)),
    ],
    ids=["live elsewhere", "expired", "dead playbook here", "live playbook here", "released"],
)
def test_in_flight_or_interrupted(aws, item, expected):
    expect_get(aws.stub("dynamodb"), item)

    result = run_module(deployment_lease_info, ARGS, check_mode=True)

    assert result["changed"] is False and result["lease"] == item and result["age_seconds"] == 300
    assert {key: result[key] for key in expected} == expected
    assert type(result["lease"]["token"]) is int and type(result["lease"]["expires"]) is float


def test_a_missing_table_says_to_provision(aws):
    aws.stub("dynamodb").add_client_error("get_item", service_error_code="ResourceNotFoundException")

    result = run_module(deployment_lease_info, ARGS)

    assert result["failed"] and result["msg"].startswith(f"The DynamoDB table {TABLE} of the deployment lease")
    assert "playbooks/provision.yml" in result["msg"]


def test_the_lease_file_says_the_same(aws, tmp_path):
    path = str(tmp_path / "lease.json")
    acquired = run_module(
        deployment_lease,
        {"path": path, "environment": "development", "state": "acquired", "operation": "promote", "holder": ALICE},
    )

    result = run_module(deployment_lease_info, {"path": path, "environment": "development"})
    other = run_module(deployment_lease_info, {"path": path, "environment": "staging"})

    assert result["lease"] == acquired["lease"] and result["in_flight"] is True and result["age_seconds"] == 0
    assert other["lease"] is None and other["held"] is False
    assert aws.created == []


def test_a_missing_lease_file_is_no_lease(aws, tmp_path):
    result = run_module(deployment_lease_info, {"path": str(tmp_path / "none.json"), "environment": "development"})

    assert result["lease"] is None and not result["failed"]
    assert not (tmp_path / "none.json").exists()


def test_a_broken_lease_file_fails_clearly(aws, tmp_path):
    path = tmp_path / "lease.json"
    path.write_text("[1, 2]")

    result = run_module(deployment_lease_info, {"path": str(path), "environment": "development"})

    assert result["failed"] and result["msg"] == (
        f"The deployment lease file {path} does not hold a JSON object. Nothing was changed."
    )


def test_the_clock_and_host_are_this_machine_s():
    here = lease_holder.local_here()

    assert (here.now, here.host) == (NOW, HOST)
