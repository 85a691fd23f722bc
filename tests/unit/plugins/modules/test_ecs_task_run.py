"""ecs_task_run: a one-off task of a copy of the live revision, where the service runs, judged by its exit."""

from __future__ import annotations

import pytest
from ansible_collections.switchyard.bluegreen.plugins.module_utils import one_off
from ansible_collections.switchyard.bluegreen.plugins.modules import ecs_task_run

from tests.unit.plugins.modules.utils import FakeClock, run_module

CLUSTER = "switchyard-production"
SERVICE = "switchyard-production-green"
PREFIX = "arn:aws:ecs:us-east-1:123456789012:task-definition/switchyard-production"
TASK = "arn:aws:ecs:us-east-1:123456789012:task/switchyard-production/0123456789abcdef"
OLD_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:" + "a" * 64
NEW_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:" + "b" * 64
COMMAND = ["python", "-m", "switchyard_app.migrate", "apply", "--release", NEW_IMAGE]
NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"], "assignPublicIp": "DISABLED"}}
LOGS = {
    "logDriver": "awslogs",
    "options": {"awslogs-group": "/ecs/switchyard-production", "awslogs-stream-prefix": "app"},
}


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(one_off, "time", fake)
    return fake


def revision(number, image):
    return {
        "taskDefinitionArn": f"{PREFIX}:{number}",
        "family": "switchyard-production",
        "revision": number,
        "status": "ACTIVE",
        "networkMode": "awsvpc",
        "containerDefinitions": [{"name": "app", "image": image, "logConfiguration": LOGS}],
    }


def expect_start(aws, registered=True, overrides=None):
    ecs = aws.stub("ecs")
    ecs.add_response(
        "describe_services",
        {
            "services": [
                {
                    "serviceName": SERVICE,
                    "status": "ACTIVE",
                    "launchType": "FARGATE",
                    "platformVersion": "1.4.0",
                    "networkConfiguration": NETWORK,
                }
            ]
        },
        {"cluster": CLUSTER, "services": [SERVICE]},
    )
    source = revision(9, OLD_IMAGE if registered else NEW_IMAGE)
    ecs.add_response(
        "describe_task_definition",
        {"taskDefinition": source, "tags": []},
        {"taskDefinition": f"{PREFIX}:9", "include": ["TAGS"]},
    )
    if registered:
        ecs.add_response(
            "register_task_definition",
            {"taskDefinition": revision(10, NEW_IMAGE)},
            {
                "family": "switchyard-production",
                "networkMode": "awsvpc",
                "containerDefinitions": [{"name": "app", "image": NEW_IMAGE, "logConfiguration": LOGS}],
            },
        )
    ecs.add_response(
        "run_task",
        {"tasks": [{"taskArn": TASK, "lastStatus": "PROVISIONING"}], "failures": []},
        {
            "cluster": CLUSTER,
            "taskDefinition": f"{PREFIX}:{10 if registered else 9}",
            "count": 1,
            "startedBy": "switchyard",
            "overrides": overrides or {"containerOverrides": [{"name": "app", "command": COMMAND}]},
            "networkConfiguration": NETWORK,
            "platformVersion": "1.4.0",
            "launchType": "FARGATE",
        },
    )


def expect_task(aws, status, exit_code=None, reason=""):
    container = {"name": "app"} if exit_code is None else {"name": "app", "exitCode": exit_code}
    task = {"taskArn": TASK, "lastStatus": status, "containers": [container]}
    if reason:
        task["stoppedReason"] = reason
    aws.stub("ecs").add_response("describe_tasks", {"tasks": [task]}, {"cluster": CLUSTER, "tasks": [TASK]})


def expect_logs(aws, lines):
    aws.stub("logs").add_response(
        "get_log_events",
        {"events": [{"timestamp": 1000 + i, "message": line} for i, line in enumerate(lines)]},
        {
            "logGroupName": "/ecs/switchyard-production",
            "logStreamName": "app/app/0123456789abcdef",
            "limit": 20,
            "startFromHead": False,
        },
    )


def args(**extra):
    return {
        "cluster": CLUSTER,
        "service": SERVICE,
        "task_definition": f"{PREFIX}:9",
        "image": NEW_IMAGE,
        "command": COMMAND,
        "poll_seconds": 2,
        "region": "us-east-1",
        **extra,
    }


def test_runs_a_copy_with_the_new_image_where_the_service_runs_and_waits_for_exit_0(aws, clock):
    expect_start(aws)
    expect_task(aws, "RUNNING")
    expect_task(aws, "STOPPED", 0, "Essential container in task exited")
    expect_logs(aws, ["applied 0002", '{"switchyard_migrations": {"applied": []}}'])

    result = run_module(ecs_task_run, args())

    assert result["failed"] is False and result["changed"] is True
    assert result["task_definition_arn"] == f"{PREFIX}:10" and result["registered"] is True
    assert result["task_arn"] == TASK and result["exit_code"] == 0
    assert result["log_stream"] == "/ecs/switchyard-production:app/app/0123456789abcdef"
    assert result["log_tail"][-1] == '{"switchyard_migrations": {"applied": []}}'
    assert clock.slept == [2] and result["seconds"] == 2.0


def test_a_revision_that_runs_the_image_already_is_run_as_it_is(aws, clock):
    expect_start(aws, registered=False)
    expect_task(aws, "STOPPED", 0)
    expect_logs(aws, [])

    result = run_module(ecs_task_run, args())

    assert result["registered"] is False and result["task_definition_arn"] == f"{PREFIX}:9"


def test_the_task_runs_with_its_own_role_and_environment_when_given(aws, clock):
    role = "arn:aws:iam::123456789012:role/switchyard-production-migration"
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:master-AbCdEf"
    environment = [{"name": "DB_MIGRATION_SECRET_ARN", "value": secret}]
    container = {"name": "app", "command": COMMAND, "environment": environment}
    expect_start(aws, overrides={"containerOverrides": [container], "taskRoleArn": role})
    expect_task(aws, "STOPPED", 0)
    expect_logs(aws, [])

    result = run_module(ecs_task_run, args(task_role_arn=role, environment={"DB_MIGRATION_SECRET_ARN": secret}))

    assert result["failed"] is False and result["exit_code"] == 0


def test_a_non_zero_exit_fails_and_names_the_code_the_reason_and_the_log_stream(aws, clock):
    expect_start(aws)
    expect_task(aws, "STOPPED", 1, "Essential container in task exited")
    expect_logs(aws, ["migrate: DatabaseError: relation visits does not exist"])

    result = run_module(ecs_task_run, args())

    assert result["failed"] is True and result["exit_code"] == 1
    assert "exited with code 1 (Essential container in task exited)" in result["msg"]
    assert "/ecs/switchyard-production:app/app/0123456789abcdef" in result["msg"]
    assert result["log_tail"] == ["migrate: DatabaseError: relation visits does not exist"]


def test_a_task_that_never_ran_to_its_end_fails_without_an_exit_code(aws, clock):
    expect_start(aws)
    expect_task(aws, "STOPPED", None, "CannotPullContainerError: pull image manifest has been retried 5 time(s)")
    expect_logs(aws, [])

    result = run_module(ecs_task_run, args())

    assert result["failed"] is True and result["exit_code"] is None
    assert "stopped without an exit code (CannotPullContainerError" in result["msg"]


def test_a_task_still_running_at_the_timeout_is_left_running_and_said_so(aws, clock):
    expect_start(aws)
    for _ in range(3):
        expect_task(aws, "RUNNING")
    expect_logs(aws, ["applying 0002"])

    result = run_module(ecs_task_run, args(wait_timeout=4))

    assert result["failed"] is True
    assert "still runs after 4 s; it was left running" in result["msg"]
    aws.stub("ecs").assert_no_pending_responses()  # no StopTask


def test_ecs_starting_no_task_fails_with_its_reasons_and_nothing_ran(aws, clock):
    ecs = aws.stub("ecs")
    ecs.add_response(
        "describe_services",
        {"services": [{"serviceName": SERVICE, "status": "ACTIVE", "launchType": "FARGATE"}]},
        {"cluster": CLUSTER, "services": [SERVICE]},
    )
    ecs.add_response("describe_task_definition", {"taskDefinition": revision(9, NEW_IMAGE), "tags": []}, None)
    ecs.add_response("run_task", {"tasks": [], "failures": [{"arn": "", "reason": "RESOURCE:ENI"}]}, None)

    result = run_module(ecs_task_run, args())

    assert result["failed"] is True and "ECS started no task: RESOURCE:ENI" in result["msg"]


def test_check_mode_registers_and_runs_nothing(aws, clock):
    ecs = aws.stub("ecs")
    ecs.add_response(
        "describe_services",
        {"services": [{"serviceName": SERVICE, "status": "ACTIVE", "launchType": "FARGATE"}]},
        {"cluster": CLUSTER, "services": [SERVICE]},
    )
    ecs.add_response("describe_task_definition", {"taskDefinition": revision(9, OLD_IMAGE), "tags": []}, None)

    result = run_module(ecs_task_run, args(), check_mode=True)

    assert result["failed"] is False and result["changed"] is True
    assert result["registered"] is True and result["task_arn"] == ""


def test_the_service_and_revision_known_to_the_run_are_not_described_again(aws, clock):
    # Read with the promote's state under its lease: no DescribeServices, no DescribeTaskDefinition
    # (the Stubber fails on any call it does not expect).
    ecs = aws.stub("ecs")
    ecs.add_response("register_task_definition", {"taskDefinition": revision(10, NEW_IMAGE)})
    ecs.add_response("run_task", {"tasks": [{"taskArn": TASK, "lastStatus": "PROVISIONING"}], "failures": []})
    expect_task(aws, "STOPPED", exit_code=0)
    expect_logs(aws, ["done"])
    source = revision(9, OLD_IMAGE)
    body = {k: v for k, v in source.items() if k not in ("taskDefinitionArn", "revision", "status")}
    known_service = {"serviceName": SERVICE, "launchType": "FARGATE", "networkConfiguration": NETWORK}

    result = run_module(
        ecs_task_run,
        args(
            known_revisions=[{"arn": f"{PREFIX}:9", "revision": 9, "body": body, "tags": []}],
            known_service=known_service,
        ),
    )

    assert not result["failed"], result["msg"]
    assert result["task_definition_arn"] == f"{PREFIX}:10" and result["exit_code"] == 0
    # What it registered comes back as a known revision, so the release does not read it again.
    assert (result["revision"]["arn"], result["revision"]["revision"]) == (f"{PREFIX}:10", 10)
    assert result["revision"]["body"]["containerDefinitions"][0]["image"] == NEW_IMAGE
