"""ecs_service_ready: waits until the rollout is complete and the targets healthy, or says why not."""

from __future__ import annotations

import pytest
from ansible_collections.switchyard.bluegreen.plugins.modules import ecs_service_ready

from tests.unit.plugins.modules.utils import FakeClock, run_module

CLUSTER = "switchyard-production"
SERVICE = "switchyard-production-green"
TARGET_GROUP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/switchyard-production-green/2222"
NEW = "arn:aws:ecs:us-east-1:123456789012:task-definition/switchyard-production:10"
OLD = "arn:aws:ecs:us-east-1:123456789012:task-definition/switchyard-production:9"


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(ecs_service_ready, "time", fake)
    return fake


def expect_poll(aws, task_definition=NEW, running=2, healthy=2, draining=False):
    deployments = [{"id": "ecs-svc/1", "status": "PRIMARY", "taskDefinition": task_definition}]
    if draining:
        deployments.append({"id": "ecs-svc/0", "status": "ACTIVE", "taskDefinition": OLD})
    aws.stub("ecs").add_response(
        "describe_services",
        {
            "services": [
                {
                    "serviceName": SERVICE,
                    "status": "ACTIVE",
                    "taskDefinition": task_definition,
                    "desiredCount": 2,
                    "runningCount": running,
                    "deployments": deployments,
                }
            ]
        },
        {"cluster": CLUSTER, "services": [SERVICE]},
    )
    aws.stub("elbv2").add_response(
        "describe_target_health",
        {
            "TargetHealthDescriptions": [
                {"Target": {"Id": f"10.0.1.{i}"}, "TargetHealth": {"State": "healthy" if i < healthy else "initial"}}
                for i in range(2)
            ]
        },
        {"TargetGroupArn": TARGET_GROUP},
    )


def args(**extra):
    return {
        "cluster": CLUSTER,
        "service": SERVICE,
        "target_group_arn": TARGET_GROUP,
        "task_definition": NEW,
        "region": "us-east-1",
        **extra,
    }


def test_ready_at_once(aws, clock):
    expect_poll(aws)

    result = run_module(ecs_service_ready, args())

    assert result == {
        "failed": False,
        "changed": False,
        "ready": True,
        "healthy_targets": 2,
        "desired_count": 2,
        "waited_seconds": 0.0,
        "problems": [],
    }


def test_waits_for_the_rollout_and_the_targets(aws, clock):
    expect_poll(aws, running=1, healthy=0, draining=True)
    expect_poll(aws, healthy=1)
    expect_poll(aws)

    result = run_module(ecs_service_ready, args(poll_seconds=4))

    assert result["ready"] is True
    assert clock.slept == [4, 4]
    assert result["waited_seconds"] == 8.0


def test_old_option_names_still_work(aws, clock):
    expect_poll(aws, healthy=1)
    expect_poll(aws)

    result = run_module(ecs_service_ready, args(timeout=30, delay=2))

    assert result["ready"] is True
    assert clock.slept == [2]


def test_times_out_with_what_is_missing(aws, clock):
    for _ in range(3):
        expect_poll(aws, task_definition=OLD, healthy=1)

    result = run_module(ecs_service_ready, args(wait_timeout=10, poll_seconds=5))

    assert result["failed"]
    assert f"ECS service {SERVICE} was not ready after 10 s" in result["msg"]
    assert f"runs {OLD}, not {NEW}" in result["msg"]
    assert "1 of 2 targets healthy" in result["msg"]
    assert "Production traffic was not moved" in result["msg"]
    assert result["healthy_targets"] == 1


def test_check_mode_looks_once_and_does_not_wait(aws, clock):
    expect_poll(aws, healthy=0)

    result = run_module(ecs_service_ready, args(), check_mode=True)

    assert result["failed"] is False
    assert result["ready"] is False
    assert result["problems"] == ["0 of 2 targets healthy"]
    assert clock.slept == []


def test_a_missing_service_says_to_provision(aws, clock):
    aws.stub("ecs").add_response(
        "describe_services",
        {"services": [{"serviceName": SERVICE, "status": "INACTIVE"}]},
        {"cluster": CLUSTER, "services": [SERVICE]},
    )

    result = run_module(ecs_service_ready, args())

    assert result["failed"]
    assert "does not exist" in result["msg"] and "provision.yml" in result["msg"]
