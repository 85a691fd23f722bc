"""sandbox/sandbox_emulator.py: a one-off task exits as the sample service's migration would, and
logs where ECS's awslogs driver would (moto in-process, with the emulator's patch)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "sandbox"))
import sandbox_emulator  # noqa: E402 (sandbox/ is not a package; importing it patches moto's RunTask)

GROUP = "/ecs/switchyard-sandbox"
MIGRATE = ["python", "-m", "switchyard_app.migrate", "apply"]


@pytest.fixture
def cluster():
    with mock_aws():
        ec2, ecs, logs = (boto3.client(s, region_name="us-east-1") for s in ("ec2", "ecs", "logs"))
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # moto's RunTask needs it
        network = {
            "subnets": [ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]],
            "securityGroups": [ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]],
        }
        logs.create_log_group(logGroupName=GROUP)
        ecs.create_cluster(clusterName="sandbox")
        sandbox_emulator.DATABASES.clear()

        def run(image: str, command: list[str]) -> tuple[dict, list[str]]:
            ecs.register_task_definition(  # memory per task only, as the stack's Fargate revision
                family="app",
                networkMode="awsvpc",
                requiresCompatibilities=["FARGATE"],
                cpu="256",
                memory="512",
                containerDefinitions=[
                    {
                        "name": "app",
                        "image": image,
                        "logConfiguration": {
                            "logDriver": "awslogs",
                            "options": {"awslogs-group": GROUP, "awslogs-stream-prefix": "app"},
                        },
                    }
                ],
            )
            task = ecs.run_task(
                cluster="sandbox",
                taskDefinition="app",
                launchType="FARGATE",
                networkConfiguration={"awsvpcConfiguration": network},
                overrides={"containerOverrides": [{"name": "app", "command": command}]},
            )["tasks"][0]
            described = ecs.describe_tasks(cluster="sandbox", tasks=[task["taskArn"]])["tasks"][0]
            stream = f"app/app/{task['taskArn'].rsplit('/', 1)[-1]}"
            events = logs.get_log_events(logGroupName=GROUP, logStreamName=stream)["events"]
            return described, [event["message"] for event in events]

        yield run


def summary(lines: list[str]) -> dict:
    return json.loads(lines[-1])["switchyard_migrations"]


def test_a_migration_applies_what_the_release_ships_once(cluster):
    task, lines = cluster("repo/app:v2", [*MIGRATE, "--release", "repo/app:v2"])
    assert task["containers"][0]["exitCode"] == 0
    assert [m["id"] for m in summary(lines)["applied"]] == [
        "0001.create-visits",
        "0002.visits-agent",
        "0003.drop-visits-client",
    ]
    _, lines = cluster("repo/app:v2", [*MIGRATE, "--release", "repo/app:v2"])
    assert summary(lines)["applied"] == [] and summary(lines)["head"] == "0003.drop-visits-client"


def test_a_contract_migration_a_kept_release_needs_is_refused_with_the_real_rule(cluster):
    cluster("repo/app:v1-schema-1", [*MIGRATE, "--release", "repo/app:v1-schema-1"])
    task, lines = cluster("repo/app:v3", [*MIGRATE, "--release", "repo/app:v3", "--keep=repo/app:v1-schema-1"])
    assert task["containers"][0]["exitCode"] == 3
    assert "contract migration 0003.drop-visits-client refused: release repo/app:v1-schema-1" in lines[0]


def test_a_first_migration_of_a_new_database_keeps_no_release_from_it(cluster):
    task, lines = cluster("repo/app:v1", [*MIGRATE, "--release", "repo/app:v1", "--keep=repo/app:bootstrap"])
    assert task["containers"][0]["exitCode"] == 0 and len(summary(lines)["applied"]) == 3


def test_a_release_older_than_an_applied_contract_migration_is_refused(cluster):
    cluster("repo/app:v3", [*MIGRATE, "--release", "repo/app:v3"])
    task, lines = cluster("repo/app:v1-schema-1", [*MIGRATE, "--release", "repo/app:v1-schema-1"])
    assert task["containers"][0]["exitCode"] == 3
    assert "does not ship contract migration 0003.drop-visits-client" in lines[0] and "repo/app:v3" in lines[0]


def test_a_failing_migration_exits_1_and_says_so_in_its_log(cluster):
    task, lines = cluster("repo/app:v4-migration-fails", [*MIGRATE, "--release", "repo/app:v4-migration-fails"])
    assert task["containers"][0]["exitCode"] == 1
    assert task["stoppedReason"] == "Essential container in task exited"
    assert "migration-fails" in lines[0]


def test_another_one_off_command_exits_0_and_says_nothing_ran(cluster):
    task, lines = cluster("repo/app:v2", ["echo", "hello"])
    assert task["containers"][0]["exitCode"] == 0 and "no container runs here" in lines[0]
