"""ecs_migration_run: the stack's migration runner starts the task, the module watches it to its exit."""

from __future__ import annotations

import io
import json

import pytest
from ansible_collections.switchyard.bluegreen.plugins.module_utils import one_off
from ansible_collections.switchyard.bluegreen.plugins.modules import ecs_migration_run
from botocore.response import StreamingBody

from tests.unit.plugins.modules.utils import FakeClock, run_module

CLUSTER = "switchyard-production"
RUNNER = "switchyard-production-migration-runner"
TASK = "arn:aws:ecs:us-east-1:123456789012:task/switchyard-production/0123456789abcdef"
REVISION = "arn:aws:ecs:us-east-1:123456789012:task-definition/switchyard-production-migration:2"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:" + "b" * 64
LIVE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:" + "a" * 64
GROUP = "/switchyard/switchyard-production/service"
STREAM = "migration/app/0123456789abcdef"


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(one_off, "time", fake)
    return fake


def expect_invoke(aws, answer, function_error=None, invocation="RequestResponse"):
    payload = json.dumps(answer).encode() if answer is not None else b""
    response = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(payload), len(payload))}
    if function_error:
        response["FunctionError"] = function_error
    aws.stub("lambda").add_response(
        "invoke",
        response,
        {
            "FunctionName": RUNNER,
            "InvocationType": invocation,
            "Payload": json.dumps({"image": IMAGE, "keep": [LIVE], "started_by": "switchyard"}).encode(),
        },
    )


STARTED = {
    "task_arn": TASK,
    "task_definition_arn": REVISION,
    "cluster": CLUSTER,
    "container": "app",
    "log_group": GROUP,
    "log_stream": STREAM,
}


def expect_task(aws, status, exit_code=None):
    container = {"name": "app"} if exit_code is None else {"name": "app", "exitCode": exit_code}
    task = {"taskArn": TASK, "lastStatus": status, "containers": [container]}
    aws.stub("ecs").add_response("describe_tasks", {"tasks": [task]}, {"cluster": CLUSTER, "tasks": [TASK]})


def expect_logs(aws, lines):
    aws.stub("logs").add_response(
        "get_log_events",
        {"events": [{"timestamp": 1000 + i, "message": line} for i, line in enumerate(lines)]},
        {"logGroupName": GROUP, "logStreamName": STREAM, "limit": 20, "startFromHead": False},
    )


def args(**extra):
    return {"runner": RUNNER, "cluster": CLUSTER, "image": IMAGE, "keep": [LIVE], "poll_seconds": 2,
            "region": "us-east-1", **extra}  # fmt: skip


def test_the_runner_starts_the_task_and_the_module_waits_for_its_exit(aws, clock):
    expect_invoke(aws, STARTED)
    expect_task(aws, "RUNNING")
    expect_task(aws, "STOPPED", 0)
    expect_logs(aws, ['{"switchyard_migrations": {"applied": []}}'])

    result = run_module(ecs_migration_run, args())

    assert result["failed"] is False and result["changed"] is True
    assert result["task_arn"] == TASK and result["task_definition_arn"] == REVISION and result["exit_code"] == 0
    assert result["log_stream"] == f"{GROUP}:{STREAM}"
    assert result["log_tail"] == ['{"switchyard_migrations": {"applied": []}}']


def test_an_exit_code_3_fails_with_the_code_and_the_log_stream(aws, clock):
    expect_invoke(aws, STARTED)
    expect_task(aws, "STOPPED", 3)
    expect_logs(aws, ["migrate: contract migration refused"])

    result = run_module(ecs_migration_run, args())

    assert result["failed"] is True and result["exit_code"] == 3
    assert "exited with code 3" in result["msg"] and f"{GROUP}:{STREAM}" in result["msg"]


def test_a_refusal_of_the_runner_fails_with_its_words_and_watches_nothing(aws, clock):
    refusal = "The migration runner refused the request: image 'x' is not an image of r by digest. Nothing was started."
    expect_invoke(aws, {"refused": refusal})

    result = run_module(ecs_migration_run, args())

    assert result["failed"] is True and result["msg"] == refusal


def test_an_error_in_the_runner_fails_naming_its_log_group(aws, clock):
    expect_invoke(aws, {"errorType": "KeyError", "errorMessage": "'CLUSTER'"}, function_error="Unhandled")

    result = run_module(ecs_migration_run, args())

    assert result["failed"] is True
    assert "failed (Unhandled)" in result["msg"] and f"/aws/lambda/{RUNNER}" in result["msg"]


def test_a_missing_runner_says_to_provision_first(aws, clock):
    aws.stub("lambda").add_client_error("invoke", "ResourceNotFoundException", "Function not found")

    result = run_module(ecs_migration_run, args())

    assert result["failed"] is True and "Run playbooks/provision.yml" in result["msg"]


def test_check_mode_only_asks_whether_the_runner_may_be_invoked(aws, clock):
    expect_invoke(aws, None, invocation="DryRun")

    result = run_module(ecs_migration_run, args(), check_mode=True)

    assert result["failed"] is False and result["changed"] is True and result["task_arn"] == ""


def test_access_denied_fails_with_a_message_not_a_traceback(aws, clock):
    aws.stub("lambda").add_client_error("invoke", "AccessDeniedException", "not authorized", 403)

    result = run_module(ecs_migration_run, args())

    assert result["failed"] is True and "Could not invoke the migration runner" in result["msg"]


def test_a_task_in_another_cluster_than_the_contracts_fails_at_once(aws, clock):
    expect_invoke(aws, {**STARTED, "cluster": "switchyard-staging"})

    result = run_module(ecs_migration_run, args())

    assert result["failed"] is True and "not switchyard-production" in result["msg"]
