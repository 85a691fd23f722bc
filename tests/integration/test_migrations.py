"""A promote's migration step on the sandbox: a one-off ECS task of the new image, waited for, before
the new colour runs; a failing one stops the promote before any traffic moves.

The sandbox emulator plays the one-off task's container (sandbox/sandbox_emulator.py): it applies
the sample service's migrations to a database it keeps in memory, by the service's own rules.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.integration.test_promote import REPO_IMAGE

pytestmark = pytest.mark.sandbox


def migration_tasks(sandbox) -> list[dict]:
    ecs, cluster = sandbox.ecs, sandbox.stack["cluster_name"]
    arns = ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"]
    arns += ecs.list_tasks(cluster=cluster)["taskArns"]
    tasks = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []
    return [t for t in tasks if "switchyard_app.migrate" in json.dumps(t.get("overrides", {}))]


def test_a_promote_migrates_with_a_one_off_task_of_the_new_image_before_it_runs(sandbox, promote, run_playbook):
    live, idle = sandbox.live(), sandbox.idle()
    live_image = sandbox.image(live)
    before = {task["taskArn"] for task in migration_tasks(sandbox)}

    run = promote(f"{REPO_IMAGE}:m1")

    assert run.returncode == 0, run.failure_messages() or run.stderr
    (task,) = [task for task in migration_tasks(sandbox) if task["taskArn"] not in before]
    command = task["overrides"]["containerOverrides"][0]["command"]
    assert command[:4] == ["python", "-m", "switchyard_app.migrate", "apply"]
    assert command[4:6] == ["--release", f"{REPO_IMAGE}:m1"]
    assert f"--keep={live_image}" in command, "the live release can still run: the migration must keep it working"
    assert task["lastStatus"] == "STOPPED" and task["containers"][0]["exitCode"] == 0
    assert task["startedBy"].startswith("switchyard")
    # The stack's migration runner ran it: a revision of the migration family (Terraform's template,
    # its fixed command) with the image, and the migration role, which the service's tasks lack.
    migration = sandbox.stack["migration"]
    revision = sandbox.ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])["taskDefinition"]
    assert revision["family"] == migration["task_family"], revision["family"]
    assert revision["taskRoleArn"].endswith(f"/{sandbox.stack['name']}-migration"), revision.get("taskRoleArn")
    container = revision["containerDefinitions"][0]
    assert container["image"] == f"{REPO_IMAGE}:m1" and container["command"] == command[:4]
    assert "DB_MIGRATION_SECRET_ARN" in {e["name"] for e in container["environment"]}
    assert set(task["overrides"]) <= {"containerOverrides", "inferenceAcceleratorOverrides"}, task["overrides"]
    assert set(task["overrides"]["containerOverrides"][0]) == {"name", "command"}
    # The new colour runs a revision of its own family with the image, not the migration's role.
    service_revision = sandbox.ecs.describe_task_definition(taskDefinition=sandbox.service(idle)["taskDefinition"])
    assert service_revision["taskDefinition"]["family"] == sandbox.stack["task_family"]
    assert service_revision["taskDefinition"].get("taskRoleArn") != revision["taskRoleArn"]
    assert sandbox.image(idle) == f"{REPO_IMAGE}:m1"

    record = sandbox.records()[0]
    assert record["image"] == f"{REPO_IMAGE}:m1" and record["outcome"] == "succeeded"
    migrations = record["migrations"]
    assert migrations["head"] == "0003.drop-visits-client"
    assert migrations["task"] == task["taskArn"] and migrations["log_stream"].endswith(task["taskArn"].split("/")[-1])
    assert all(set(m) == {"id", "phase", "seconds"} for m in migrations["applied"])

    status = run_playbook("status.yml")
    shown = " ".join(str(r.get("msg", "")) for r in status.task_results("Show the database schema"))
    assert "Schema: 0003.drop-visits-client" in shown, shown


def test_a_failing_migration_stops_the_promote_before_any_traffic_moves(sandbox, promote, lease):
    before = sandbox.snapshot()
    image = f"{REPO_IMAGE}:m2-migration-fails"

    run = promote(image)

    assert run.returncode != 0
    message = " ".join(run.failure_messages())
    assert f"The migration of {image} failed (exit code 1, log stream {sandbox.stack['log_group_name']}:" in message
    assert "the sandbox plays a migration the database refuses" in message
    assert "Production traffic has not moved" in message
    after = sandbox.snapshot()
    assert after["production"] == before["production"] and after["test"] == before["test"]
    assert after["services"] == before["services"], "the idle colour must not run the release"
    assert lease.item().get("state") != "held"
    record = sandbox.records()[0]
    assert record["image"] == image and record["outcome"] == "failed"


def test_a_cold_rollback_to_a_release_the_schema_moved_past_is_refused(sandbox, promote, run_playbook, lease, aws):
    """The previous colour was scaled down holding a release that ships migrations up to 0001
    only, and contract migration 0003 has been applied since (by this module's promotes): starting
    it would pass its checks and fail its writes. rollback.yml refuses, naming the migration, and
    changes nothing. (Its history is rehearsed: the emulator's database has every migration by now,
    so a release that old could no longer be promoted here for real.)"""
    run = promote(f"{REPO_IMAGE}:m3")  # a healthy release live, its colour's journal free
    assert run.returncode == 0, run.failure_messages() or run.stderr
    cold, old_image = sandbox.idle(), f"{REPO_IMAGE}:m0-schema-1"
    service = sandbox.service(cold)
    task = sandbox.ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    container = dict(task["containerDefinitions"][0], image=old_image)
    keys = ("family", "taskRoleArn", "executionRoleArn", "networkMode", "requiresCompatibilities", "cpu", "memory")
    old = sandbox.ecs.register_task_definition(
        containerDefinitions=[container], **{k: task[k] for k in keys if k in task}
    )["taskDefinition"]["taskDefinitionArn"]
    cluster, name = sandbox.stack["cluster_name"], service["serviceName"]
    sandbox.ecs.update_service(cluster=cluster, service=name, taskDefinition=old, desiredCount=0)
    try:
        sandbox.wait_for_no_targets(cold)
        # Every field a promote's record has (status.yml reads them), with the head it shipped.
        now = datetime.now(UTC)
        record = {
            "kind": "promote", "image": old_image, "previous_image": None, "outcome": "succeeded",
            "environment": "sandbox", "actor": "rehearsal", "from_colour": sandbox.live(), "to_colour": cold,
            "recorded_at": now.isoformat(), "migrations": {"head": "0001.create-visits", "applied": []},
        }  # fmt: skip
        aws("logs").put_log_events(
            logGroupName=sandbox.stack["deployment_log_group"],
            logStreamName="records",
            logEvents=[{"timestamp": int(now.timestamp() * 1000), "message": json.dumps(record)}],
        )
        before = sandbox.snapshot()
        run = run_playbook("rollback.yml")

        assert run.returncode != 0, "a rollback to a release the schema moved past must fail"
        message = " ".join(run.failure_messages())
        assert f"{old_image} cannot serve on this database: contract migration 0003.drop-visits-client" in message
        assert "it ships migrations up to 0001.create-visits only" in message, "its recorded head must be read"
        assert "Roll forward instead" in message, message
        assert sandbox.snapshot() == before, "nothing may change: production stays where it is, the colour cold"
        assert lease.item().get("state") != "held", "the lease is let go"
    finally:
        sandbox.ecs.update_service(
            cluster=cluster,
            service=name,
            taskDefinition=service["taskDefinition"],
            desiredCount=service["desiredCount"],
        )
