"""ecs_service_deploy: a new image is a copy of the live revision with only the image changed."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from ansible_collections.switchyard.bluegreen.plugins.modules import ecs_service_deploy

from tests.unit.plugins.modules.utils import run_module

CLUSTER = "switchyard-production"
SERVICE = "switchyard-production-green"
PREFIX = "arn:aws:ecs:us-east-1:123456789012:task-definition/switchyard-production"
OLD_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:" + "a" * 64
NEW_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:" + "b" * 64
SIDECAR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0"
TAGS = [{"key": "Service", "value": "switchyard"}]

# What register_task_definition accepts, as the live revision holds it (an ARM64 EC2/Fargate service).
REGISTRABLE = {
    "family": "switchyard-production",
    "taskRoleArn": "arn:aws:iam::123456789012:role/switchyard-task",
    "executionRoleArn": "arn:aws:iam::123456789012:role/switchyard-execution",
    "networkMode": "awsvpc",
    "containerDefinitions": [
        {
            "name": "app",
            "image": OLD_IMAGE,
            "essential": True,
            "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
            "environment": [{"name": "PORT", "value": "8080"}],
            "mountPoints": [{"sourceVolume": "uploads", "containerPath": "/srv/uploads", "readOnly": False}],
        },
        {"name": "otel", "image": SIDECAR_IMAGE, "essential": False},
    ],
    "volumes": [
        {
            "name": "uploads",
            "efsVolumeConfiguration": {"fileSystemId": "fs-0123456789abcdef0", "transitEncryption": "ENABLED"},
        }
    ],
    "placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.cpu-architecture == arm64"}],
    "requiresCompatibilities": ["EC2", "FARGATE"],
    "cpu": "512",
    "memory": "1024",
    "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
    "ephemeralStorage": {"sizeInGiB": 30},
}
READ_ONLY = {
    "status": "ACTIVE",
    "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.ecr-auth"}],
    "compatibilities": ["EC2", "FARGATE"],
    "registeredAt": datetime(2026, 11, 20, tzinfo=UTC),
    "registeredBy": "arn:aws:sts::123456789012:assumed-role/deploy/ci",
}


def revision(number, image=OLD_IMAGE, **changes):
    described = copy.deepcopy(REGISTRABLE)
    described["containerDefinitions"][0]["image"] = image
    described.update(changes)
    return {"taskDefinitionArn": f"{PREFIX}:{number}", "revision": number, **described, **READ_ONLY}


def expect_service(ecs, task_definition_arn, desired=2):
    ecs.add_response(
        "describe_services",
        {
            "services": [
                {
                    "serviceName": SERVICE,
                    "status": "ACTIVE",
                    "taskDefinition": task_definition_arn,
                    "desiredCount": desired,
                    "runningCount": desired,
                }
            ]
        },
        {"cluster": CLUSTER, "services": [SERVICE]},
    )


def expect_task_definition(ecs, described, name=None, tags=True):
    ecs.add_response(
        "describe_task_definition",
        {"taskDefinition": described, **({"tags": TAGS} if tags else {})},
        {"taskDefinition": name or described["taskDefinitionArn"], **({"include": ["TAGS"]} if tags else {})},
    )


def release_args(**extra):
    return {"cluster": CLUSTER, "service": SERVICE, "image": NEW_IMAGE, "region": "us-east-1", **extra}


def expected_registration(image=NEW_IMAGE):
    body = copy.deepcopy(REGISTRABLE)
    body["containerDefinitions"][0]["image"] = image
    return {**body, "tags": TAGS}


def test_new_image_registers_a_copy_that_keeps_every_field_and_changes_only_the_image(aws):
    ecs = aws.stub("ecs")
    expect_service(ecs, f"{PREFIX}:7", desired=0)  # the idle colour, on an older revision
    expect_task_definition(ecs, revision(7))
    expect_task_definition(ecs, revision(9), name=f"{PREFIX}:9")  # the live colour's, to copy
    # and not the family's latest: registering returns the new revision's ARN
    # The Stubber compares parameters exactly: ARM64, volumes, placement constraints, both
    # compatibilities, ephemeral storage, the sidecar's image and the tags are all still there.
    ecs.add_response("register_task_definition", {"taskDefinition": revision(10, NEW_IMAGE)}, expected_registration())
    ecs.add_response(
        "update_service",
        {"service": {"serviceName": SERVICE}},
        {"cluster": CLUSTER, "service": SERVICE, "taskDefinition": f"{PREFIX}:10", "desiredCount": 2},
    )

    result = run_module(ecs_service_deploy, release_args(task_definition=f"{PREFIX}:9", desired_count=2), diff=True)

    assert not result["failed"], result["msg"]
    assert result["changed"] is True
    assert result["registered"] is True
    assert result["task_definition_arn"] == f"{PREFIX}:10"
    assert result["diff"]["before"] == {
        "task_definition": f"{PREFIX}:7",
        "desired_count": 0,
        "images": {"app": OLD_IMAGE, "otel": SIDECAR_IMAGE},
    }
    assert result["diff"]["after"] == {
        "task_definition": f"{PREFIX}:10",
        "desired_count": 2,
        "images": {"app": NEW_IMAGE, "otel": SIDECAR_IMAGE},
    }


def test_named_containers_get_the_image_and_the_others_keep_theirs(aws):
    ecs = aws.stub("ecs")
    expect_service(ecs, f"{PREFIX}:9")
    expect_task_definition(ecs, revision(9))
    registration = expected_registration(image=OLD_IMAGE)
    registration["containerDefinitions"][1]["image"] = "otel:v2"
    ecs.add_response("register_task_definition", {"taskDefinition": revision(10)}, registration)
    ecs.add_response(
        "update_service", {"service": {}}, {"cluster": CLUSTER, "service": SERVICE, "taskDefinition": f"{PREFIX}:10"}
    )

    result = run_module(ecs_service_deploy, release_args(image="otel:v2", containers=["otel"]))

    assert result["changed"] is True
    assert result["current"]["images"] == {"app": OLD_IMAGE, "otel": "otel:v2"}


def test_already_on_that_image_and_count_is_no_change(aws):
    """The re-run of a release: the service runs the copy already; nothing is registered or updated."""
    ecs = aws.stub("ecs")
    expect_service(ecs, f"{PREFIX}:10")
    expect_task_definition(ecs, revision(10, NEW_IMAGE))
    expect_task_definition(ecs, revision(9), name=f"{PREFIX}:9")

    result = run_module(ecs_service_deploy, release_args(task_definition=f"{PREFIX}:9", desired_count=2), diff=True)

    assert result["changed"] is False
    assert result["registered"] is False
    assert result["task_definition_arn"] == f"{PREFIX}:10"
    assert result["diff"]["before"] == result["diff"]["after"]


def known(described, tags=TAGS):
    """A revision as alb_bluegreen_info returns it under revisions."""
    body = {key: value for key, value in described.items() if key in REGISTRABLE}
    return {"arn": described["taskDefinitionArn"], "revision": described["revision"], "body": body, "tags": tags}


def test_known_revisions_are_not_described_again(aws):
    """The live and idle colours' revisions, read by alb_bluegreen_info: the service alone is read,
    and the copy registered keeps every field and the tags."""
    ecs = aws.stub("ecs")
    expect_service(ecs, f"{PREFIX}:7", desired=0)
    ecs.add_response("register_task_definition", {"taskDefinition": revision(10, NEW_IMAGE)}, expected_registration())
    ecs.add_response(
        "update_service",
        {"service": {}},
        {"cluster": CLUSTER, "service": SERVICE, "taskDefinition": f"{PREFIX}:10", "desiredCount": 2},
    )
    args = release_args(
        task_definition=f"{PREFIX}:9", desired_count=2, known_revisions=[known(revision(7)), known(revision(9))]
    )

    result = run_module(ecs_service_deploy, args, diff=True)

    assert not result["failed"], result["msg"]
    assert result["registered"] is True and result["task_definition_arn"] == f"{PREFIX}:10"
    assert result["diff"]["before"]["images"] == {"app": OLD_IMAGE, "otel": SIDECAR_IMAGE}


def test_a_known_service_is_not_described_again(aws):
    """The service as the promote's state read it under the lease: no DescribeServices."""
    ecs = aws.stub("ecs")
    ecs.add_response("register_task_definition", {"taskDefinition": revision(10, NEW_IMAGE)}, expected_registration())
    ecs.add_response(
        "update_service",
        {"service": {}},
        {"cluster": CLUSTER, "service": SERVICE, "taskDefinition": f"{PREFIX}:10", "desiredCount": 2},
    )
    known_service = {"serviceName": SERVICE, "taskDefinition": f"{PREFIX}:7", "desiredCount": 0}
    args = release_args(
        task_definition=f"{PREFIX}:9",
        desired_count=2,
        known_revisions=[known(revision(7)), known(revision(9))],
        known_service=known_service,
    )

    result = run_module(ecs_service_deploy, args)

    assert not result["failed"], result["msg"]
    assert result["changed"] is True and result["previous"]["desired_count"] == 0
    assert (result["revision"]["arn"], result["revision"]["revision"]) == (f"{PREFIX}:10", 10)


def test_a_revision_known_under_another_arn_is_described(aws):
    ecs = aws.stub("ecs")
    expect_service(ecs, f"{PREFIX}:7", desired=0)
    expect_task_definition(ecs, revision(7))  # the service runs :7; only :9 is known
    ecs.add_response("register_task_definition", {"taskDefinition": revision(10, NEW_IMAGE)}, expected_registration())
    ecs.add_response(
        "update_service",
        {"service": {}},
        {"cluster": CLUSTER, "service": SERVICE, "taskDefinition": f"{PREFIX}:10", "desiredCount": 2},
    )

    args = release_args(task_definition=f"{PREFIX}:9", desired_count=2, known_revisions=[known(revision(9))])
    result = run_module(ecs_service_deploy, args)

    assert result["task_definition_arn"] == f"{PREFIX}:10"


def test_the_revision_to_copy_is_reused_when_it_is_the_copy(aws):
    """Green goes back to the revision blue runs (its image already): nothing is registered."""
    ecs = aws.stub("ecs")
    expect_service(ecs, f"{PREFIX}:7", desired=0)
    ecs.add_response(
        "update_service",
        {"service": {}},
        {"cluster": CLUSTER, "service": SERVICE, "taskDefinition": f"{PREFIX}:10", "desiredCount": 2},
    )
    args = release_args(
        task_definition=f"{PREFIX}:10",
        desired_count=2,
        known_revisions=[known(revision(7)), known(revision(10, NEW_IMAGE))],
    )

    result = run_module(ecs_service_deploy, args)

    assert result["changed"] is True and result["registered"] is False
    assert result["task_definition_arn"] == f"{PREFIX}:10"


def test_check_mode_predicts_the_new_revision_without_registering(aws):
    ecs = aws.stub("ecs")
    expect_service(ecs, f"{PREFIX}:7", desired=0)
    expect_task_definition(ecs, revision(7))
    expect_task_definition(ecs, revision(9), name=f"{PREFIX}:9")
    expect_task_definition(ecs, revision(9), name="switchyard-production", tags=False)
    # neither register_task_definition nor update_service is expected

    result = run_module(
        ecs_service_deploy, release_args(task_definition=f"{PREFIX}:9", desired_count=2), check_mode=True
    )

    assert result["changed"] is True
    assert result["registered"] is True
    assert result["task_definition_arn"] == f"{PREFIX}:10"
    assert result["current"]["desired_count"] == 2


def test_desired_count_alone_touches_no_task_definition(aws):
    ecs = aws.stub("ecs")
    expect_service(ecs, f"{PREFIX}:9", desired=2)
    ecs.add_response("update_service", {"service": {}}, {"cluster": CLUSTER, "service": SERVICE, "desiredCount": 0})

    result = run_module(ecs_service_deploy, {"cluster": CLUSTER, "service": SERVICE, "desired_count": 0})

    assert result["changed"] is True
    assert result["previous"] == {"task_definition": f"{PREFIX}:9", "desired_count": 2}
    assert result["current"] == {"task_definition": f"{PREFIX}:9", "desired_count": 0}


def test_a_given_task_definition_and_count_already_set_is_no_change(aws):
    ecs = aws.stub("ecs")
    expect_service(ecs, f"{PREFIX}:9", desired=2)

    result = run_module(
        ecs_service_deploy,
        {"cluster": CLUSTER, "service": SERVICE, "task_definition": f"{PREFIX}:9", "desired_count": 2},
    )

    assert result["changed"] is False


def test_an_unknown_container_is_refused(aws):
    ecs = aws.stub("ecs")
    expect_service(ecs, f"{PREFIX}:9")
    expect_task_definition(ecs, revision(9))

    result = run_module(ecs_service_deploy, release_args(containers=["web"]))

    assert result["failed"]
    assert "no container named web (containers: app, otel)" in result["msg"]


def test_a_missing_service_says_to_provision(aws):
    aws.stub("ecs").add_response(
        "describe_services",
        {"services": [], "failures": [{"arn": SERVICE, "reason": "MISSING"}]},
        {"cluster": CLUSTER, "services": [SERVICE]},
    )

    result = run_module(ecs_service_deploy, release_args())

    assert result["failed"]
    assert f"ECS service {SERVICE} does not exist in cluster {CLUSTER}" in result["msg"]
    assert "provision.yml" in result["msg"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"desired_count": -1}, "desired_count must be 0 or more"),
        ({}, "one of the following is required"),
        ({"desired_count": 1, "containers": ["app"]}, "missing parameter(s) required by 'containers': image"),
    ],
)
def test_refusals_before_any_aws_call(aws, args, message):
    result = run_module(ecs_service_deploy, {"cluster": CLUSTER, "service": SERVICE, **args})

    assert result["failed"]
    assert message in result["msg"]
