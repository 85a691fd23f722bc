"""A promote that only plans the Terraform root (production's switchyard_promote_terraform: plan,
issue 10): pending infrastructure changes are refused with the plan's summary before anything
moves. Played on the sandbox's root with -e. With none pending such a promote goes on: the
production stand-in of tests/integration/test_workflow_runs.py promotes that way."""

from __future__ import annotations

import re

import pytest

from tests.integration.test_promote import REPO_IMAGE

pytestmark = pytest.mark.sandbox

PLAN_ONLY = ["-e", "switchyard_provision=true", "-e", "switchyard_promote_terraform=plan"]


def guard_thresholds(aws, stack) -> dict[str, float]:
    alarms = aws("cloudwatch").describe_alarms(AlarmNamePrefix=f"{stack['name']}-guard-")["MetricAlarms"]
    return {a["AlarmName"]: a["Threshold"] for a in alarms}


def test_pending_infrastructure_changes_are_refused_with_the_plan_summary(sandbox, promote, lease, aws, provisioned):
    before, thresholds = sandbox.snapshot(), guard_thresholds(aws, provisioned["stack"])
    # A different 5xx threshold reaches the guard's alarms through Terraform: a pending change.
    run = promote(f"{REPO_IMAGE}:plan-gate-refused", *PLAN_ONLY, "-e", "switchyard_error_threshold_percent=2.5")

    assert run.returncode != 0
    message = " ".join(run.failure_messages())
    assert "has changes pending, which a promote here does not apply" in message, message
    assert re.search(r"Plan: 0 to add, [1-9]\d* to change, 0 to destroy\.", message), message
    assert 'aws_cloudwatch_metric_alarm.guard["elb-5xx"] will be updated in-place' in message, message
    assert "playbooks/provision.yml -i inventories/sandbox --check --diff" in message, message
    assert sandbox.snapshot() == before, "nothing may move"
    assert guard_thresholds(aws, provisioned["stack"]) == thresholds, "the plan must not be applied"
    assert lease.item()["state"] == "released" and lease.item()["outcome"] == "failed", lease.item()
