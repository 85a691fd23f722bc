"""The migration runner (module_utils/migration_runner.py): what it accepts, and the one task it
starts, against a stubbed ECS client (botocore's Stubber refuses any call it was not told of)."""

from __future__ import annotations

import json

import boto3
import pytest
from ansible_collections.switchyard.bluegreen.plugins.module_utils import migration_runner
from botocore.stub import Stubber

REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/switchyard/app"
IMAGE = f"{REPOSITORY}@sha256:{'b' * 64}"
LIVE = f"{REPOSITORY}@sha256:{'a' * 64}"
FAMILY = "arn:aws:ecs:us-east-1:123456789012:task-definition/switchyard-production-migration"
TASK = "arn:aws:ecs:us-east-1:123456789012:task/switchyard-production/0123456789abcdef"
MIGRATION_ROLE = "arn:aws:iam::123456789012:role/switchyard-production-migration"
COMMAND = ["python", "-m", "switchyard_app.migrate", "apply"]
LOGS = {
    "logDriver": "awslogs",
    "options": {"awslogs-group": "/switchyard/switchyard-production/service", "awslogs-stream-prefix": "migration"},
}
ENVIRON = {
    "CLUSTER": "switchyard-production",
    "TASK_DEFINITION": f"{FAMILY}:1",
    "MIGRATION_ROLE": MIGRATION_ROLE,
    "SUBNETS": "subnet-1,subnet-2",
    "SECURITY_GROUPS": "sg-1",
    "ASSIGN_PUBLIC_IP": "DISABLED",
    "REPOSITORY": REPOSITORY,
    "IMAGE_POLICY": "digest",
}


def revision(number, image, role=None):
    body = {
        "taskDefinitionArn": f"{FAMILY}:{number}",
        "family": "switchyard-production-migration",
        "revision": number,
        "status": "ACTIVE",
        "networkMode": "awsvpc",
        "containerDefinitions": [{"name": "app", "image": image, "command": COMMAND, "logConfiguration": LOGS}],
    }
    return {**body, "taskRoleArn": role} if role else body


@pytest.fixture
def ecs():
    client = boto3.client("ecs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def expect_run(stub, arn, command, **extra):
    stub.add_response(
        "run_task",
        {"tasks": [{"taskArn": TASK, "lastStatus": "PROVISIONING"}], "failures": []},
        {
            **extra,
            "cluster": "switchyard-production",
            "taskDefinition": arn,
            "count": 1,
            "launchType": "FARGATE",
            "startedBy": "switchyard-production",
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": ["subnet-1", "subnet-2"],
                    "securityGroups": ["sg-1"],
                    "assignPublicIp": "DISABLED",
                }
            },
            "overrides": {"containerOverrides": [{"name": "app", "command": command}]},
        },
    )


def test_a_digest_of_the_repository_runs_the_templates_command_with_the_migration_role(ecs):
    client, stub = ecs
    stub.add_response(
        "describe_task_definition", {"taskDefinition": revision(1, "bootstrap")}, {"taskDefinition": f"{FAMILY}:1"}
    )
    stub.add_response(
        "describe_task_definition",
        {"taskDefinition": revision(1, "bootstrap")},
        {"taskDefinition": "switchyard-production-migration"},
    )
    copy = {
        k: v
        for k, v in revision(2, IMAGE, MIGRATION_ROLE).items()
        if k not in ("taskDefinitionArn", "revision", "status")
    }
    stub.add_response("register_task_definition", {"taskDefinition": revision(2, IMAGE, MIGRATION_ROLE)}, copy)
    expect_run(stub, f"{FAMILY}:2", [*COMMAND, "--release", IMAGE, f"--keep={LIVE}"])

    answer = migration_runner.handle(
        {"image": IMAGE, "keep": [LIVE, IMAGE], "started_by": "switchyard production"}, ENVIRON, lambda _: client
    )

    assert answer == {
        "task_arn": TASK,
        "task_definition_arn": f"{FAMILY}:2",
        "cluster": "switchyard-production",
        "container": "app",
        "log_group": "/switchyard/switchyard-production/service",
        "log_stream": "migration/app/0123456789abcdef",
    }


def test_a_rerun_of_the_same_image_registers_nothing(ecs):
    client, stub = ecs
    stub.add_response(
        "describe_task_definition", {"taskDefinition": revision(1, "bootstrap")}, {"taskDefinition": f"{FAMILY}:1"}
    )
    stub.add_response(
        "describe_task_definition",
        {"taskDefinition": revision(2, IMAGE, MIGRATION_ROLE)},
        {"taskDefinition": "switchyard-production-migration"},
    )
    expect_run(stub, f"{FAMILY}:2", [*COMMAND, "--release", IMAGE])

    answer = migration_runner.handle({"image": IMAGE, "started_by": "switchyard production"}, ENVIRON, lambda _: client)

    assert answer["task_definition_arn"] == f"{FAMILY}:2"


@pytest.mark.parametrize(
    ("event", "environ", "named"),
    [
        pytest.param({"image": f"{REPOSITORY}:v2"}, {}, "is not an image of", id="a-tag-where-digests-only"),
        pytest.param(
            {"image": f"evil.example.com/app@sha256:{'c' * 64}"}, {}, "is not an image of", id="another-repository"
        ),
        pytest.param({"image": f"{IMAGE} --drop"}, {}, "is not an image of", id="trailing-arguments"),
        pytest.param({}, {}, "is not an image of", id="no-image"),
        pytest.param({"image": IMAGE, "keep": ["--help"]}, {}, "keep holds", id="keep-an-option"),
        pytest.param({"image": IMAGE, "keep": ["a b"]}, {}, "keep holds", id="keep-with-a-space"),
        pytest.param({"image": IMAGE, "keep": [LIVE] * 11}, {}, "at most 10", id="keep-too-many"),
        pytest.param({"image": IMAGE, "command": ["sh"]}, {}, "unknown fields command", id="a-command"),
        pytest.param({"image": IMAGE, "task_role_arn": "x"}, {}, "unknown fields task_role_arn", id="a-role"),
        pytest.param({"image": IMAGE, "started_by": "x;y"}, {}, "started_by", id="started-by"),
        pytest.param(
            {"image": f"{REPOSITORY}:v2@sha256"},
            {"IMAGE_POLICY": "tag_or_digest"},
            "is not an image of",
            id="half-a-digest",
        ),
        pytest.param({"image": IMAGE}, {"IMAGE_POLICY": "any"}, "IMAGE_POLICY", id="unknown-policy"),
    ],
)
def test_what_the_runner_refuses_starts_nothing(ecs, event, environ, named):
    client, _ = ecs  # no response queued: any AWS call fails the test
    answer = migration_runner.handle(event, {**ENVIRON, **environ}, lambda _: client)
    assert set(answer) == {"refused"} and named in answer["refused"], answer
    assert answer["refused"].endswith("Nothing was started.")


@pytest.mark.parametrize("image", [f"{REPOSITORY}:v2", f"{REPOSITORY}:v2@sha256:{'d' * 64}", IMAGE])
def test_the_sandbox_policy_also_takes_the_repositorys_tags(image):
    pattern = migration_runner.image_pattern(REPOSITORY, "tag_or_digest")
    assert pattern.match(image)
    assert not pattern.match(f"{REPOSITORY}-other:v2") and not pattern.match(REPOSITORY)


def test_a_revision_someone_else_registered_in_the_family_is_not_run(ecs):
    """The family's latest revision has the image and role, and one field more: a new copy is registered."""
    client, stub = ecs
    stub.add_response(
        "describe_task_definition", {"taskDefinition": revision(1, "bootstrap")}, {"taskDefinition": f"{FAMILY}:1"}
    )
    theirs = {**revision(2, IMAGE, MIGRATION_ROLE), "ephemeralStorage": {"sizeInGiB": 200}}
    stub.add_response(
        "describe_task_definition", {"taskDefinition": theirs}, {"taskDefinition": "switchyard-production-migration"}
    )
    copy = {
        k: v
        for k, v in revision(3, IMAGE, MIGRATION_ROLE).items()
        if k not in ("taskDefinitionArn", "revision", "status")
    }
    stub.add_response("register_task_definition", {"taskDefinition": revision(3, IMAGE, MIGRATION_ROLE)}, copy)
    expect_run(stub, f"{FAMILY}:3", [*COMMAND, "--release", IMAGE], clientToken="lease-7")

    answer = migration_runner.handle(
        {"image": IMAGE, "started_by": "switchyard production", "token": "lease-7"}, ENVIRON, lambda _: client
    )

    assert answer["task_definition_arn"] == f"{FAMILY}:3"


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({"image": IMAGE + "\n"}, id="image-with-a-newline"),
        pytest.param({"image": IMAGE, "keep": [LIVE + "\n"]}, id="keep-with-a-newline"),
        pytest.param({"image": IMAGE, "started_by": "a\n"}, id="started-by-with-a-newline"),
        pytest.param({"image": IMAGE, "token": "a b"}, id="token-with-a-space"),
    ],
)
def test_a_trailing_newline_or_a_bad_token_is_refused(ecs, event):
    client, _ = ecs
    assert "refused" in migration_runner.handle(event, ENVIRON, lambda _: client)


def attestation(image):
    return {"Parameter": {"Name": "x", "Value": json.dumps({"image": image, "commit": "a" * 40, "branch": "main"})}}


ATTESTED = f"/switchyard/attestations/switchyard/app/main/{'b' * 64}"


@pytest.mark.parametrize(
    ("stored", "named"),
    [
        pytest.param(None, "nothing attests that a commit on main built", id="never-attested"),
        pytest.param(attestation(LIVE), "does not attest", id="the-attestation-of-another-image"),
    ],
)
def test_where_only_mains_builds_run_an_unattested_image_is_refused(ecs, stored, named):
    client, _ = ecs
    ssm = boto3.client("ssm", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(ssm) as records:
        if stored:
            records.add_response("get_parameter", stored, {"Name": ATTESTED})
        else:
            records.add_client_error("get_parameter", "ParameterNotFound", expected_params={"Name": ATTESTED})
        environ = {**ENVIRON, "PROVENANCE": "main"}
        answer = migration_runner.handle({"image": IMAGE}, environ, {"ssm": ssm, "ecs": client}.get)
    assert set(answer) == {"refused"} and named in answer["refused"], answer


def test_where_only_mains_builds_run_an_attested_image_starts(ecs):
    client, stub = ecs
    ssm = boto3.client("ssm", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub.add_response(
        "describe_task_definition", {"taskDefinition": revision(1, "bootstrap")}, {"taskDefinition": f"{FAMILY}:1"}
    )
    stub.add_response(
        "describe_task_definition",
        {"taskDefinition": revision(2, IMAGE, MIGRATION_ROLE)},
        {"taskDefinition": "switchyard-production-migration"},
    )
    expect_run(stub, f"{FAMILY}:2", [*COMMAND, "--release", IMAGE])
    with Stubber(ssm) as records:
        records.add_response("get_parameter", attestation(IMAGE), {"Name": ATTESTED})
        answer = migration_runner.handle(
            {"image": IMAGE, "started_by": "switchyard production"},
            {**ENVIRON, "PROVENANCE": "main"},
            {"ssm": ssm, "ecs": client}.get,
        )
    assert answer["task_arn"] == TASK
