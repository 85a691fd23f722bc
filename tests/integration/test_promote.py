"""promote.yml, rollback.yml and status.yml end to end on the sandbox.

The tests run in file order against one provisioned stack; each reads the live colour from
AWS first, as the playbooks do, so none depends on what an earlier one left live.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO, TF_WORKSPACE

pytestmark = pytest.mark.sandbox

REPO_IMAGE = "registry.sandbox.local/switchyard/app"
FAST = ["-e", "switchyard_provision=false", "-e", "switchyard_bake_seconds=4", "-e", "switchyard_poll_seconds=1"]


class Sandbox:
    """What the tests read back from AWS, through boto3, never through our own modules."""

    def __init__(self, aws, stack):
        self.elbv2, self.ecs, self.logs = aws("elbv2"), aws("ecs"), aws("logs")
        self.stack = stack

    def weights(self, listener: str) -> dict[str, int]:
        arn = self.stack[f"{listener}_listener_arn"]
        action = self.elbv2.describe_listeners(ListenerArns=[arn])["Listeners"][0]["DefaultActions"][0]
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or [
            {"TargetGroupArn": action["TargetGroupArn"], "Weight": 1}
        ]
        by_arn = {g["TargetGroupArn"]: g.get("Weight", 1) for g in groups}
        return {colour: by_arn.get(arn, 0) for colour, arn in self.stack["target_group_arns"].items()}

    def live(self) -> str:
        receiving = [c for c, w in self.weights("production").items() if w > 0]
        assert len(receiving) == 1, f"production is split: {self.weights('production')}"
        return receiving[0]

    def idle(self) -> str:
        return "green" if self.live() == "blue" else "blue"

    def service(self, colour: str) -> dict:
        return self.ecs.describe_services(
            cluster=self.stack["cluster_name"], services=[self.stack["service_names"][colour]]
        )["services"][0]

    def image(self, colour: str) -> str:
        task = self.ecs.describe_task_definition(taskDefinition=self.service(colour)["taskDefinition"])
        return task["taskDefinition"]["containerDefinitions"][0]["image"]

    def snapshot(self) -> dict:
        """Everything a deployment may change: listeners, services, task definition revisions."""
        return {
            "production": self.weights("production"),
            "test": self.weights("test"),
            "services": {
                c: (self.service(c)["taskDefinition"], self.service(c)["desiredCount"]) for c in ("blue", "green")
            },
            "revisions": self.ecs.list_task_definitions(familyPrefix=self.stack["task_family"])["taskDefinitionArns"],
        }

    def records(self) -> list[dict]:
        events = self.logs.get_log_events(
            logGroupName=self.stack["deployment_log_group"], logStreamName="records", startFromHead=False
        )["events"]
        return [json.loads(e["message"]) for e in sorted(events, key=lambda e: e["timestamp"], reverse=True)]

    def wait_for_no_targets(self, colour: str, timeout: float = 20) -> None:
        """Let the harness deregister the targets of a service scaled to zero outside a playbook."""
        arn = self.stack["target_group_arns"][colour]
        deadline = time.monotonic() + timeout
        while self.elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]:
            if time.monotonic() > deadline:
                pytest.fail(f"the sandbox harness never deregistered the targets of {colour}")
            time.sleep(0.5)


@pytest.fixture(scope="module")
def first_release(sandbox, promote):
    """v1 live on one colour, the bootstrap image warm on the other."""
    run = promote(f"{REPO_IMAGE}:v1")
    assert run.returncode == 0, run.failure_messages() or run.stderr
    return run


BAD_INPUTS = [
    pytest.param(["-e", "image="], "No image given", id="no-image"),
    pytest.param(
        ["-e", f"image={REPO_IMAGE}:v9", "-e", "switchyard_poll_seconds=0.2"],
        "switchyard_poll_seconds is '0.2': give a number at least 1",
        id="tight-poll",
    ),
    pytest.param(
        ["-e", f"image={REPO_IMAGE}:v9", "-e", "switchyard_insufficient_data=ignore"],
        "switchyard_insufficient_data is 'ignore': give one of fail, extend, continue",
        id="unknown-insufficient-data-policy",
    ),
    # Each setting out of its range, of the wrong type, or unknown: refused before the lease.
    *[
        pytest.param(["-e", f"image={REPO_IMAGE}:v9", "-e", f"switchyard_{name}={value}"], message, id=name)
        for name, value, message in [
            ("error_threshold_percent", "-1", "switchyard_error_threshold_percent is '-1': give a number at least 0"),
            ("bake_seconds", "-5", "switchyard_bake_seconds is '-5': give a whole number at least 0"),
            ("min_requests", "ten", "switchyard_min_requests is 'ten': give a whole number at least 1"),
            ("health_timeout", "0", "switchyard_health_timeout is '0': give a whole number above 0"),
            ("switch_mode", "bluegreen", "switchyard_switch_mode is 'bluegreen': give one of"),
        ]
    ],
    pytest.param(["-e", "image=Not An Image"], "is not an image reference", id="malformed-image"),
    pytest.param(["-e", f"image={REPO_IMAGE}"], "is not an image reference", id="image-without-tag-or-digest"),
    pytest.param(
        ["-e", f"image={REPO_IMAGE}:v9", "-e", "switchyard_environment=prod"], "Unknown environment", id="unknown-env"
    ),
    pytest.param(
        [
            "-e",
            f"image={REPO_IMAGE}:v9",
            "-e",
            "switchyard_switch_mode=canary",
            "-e",
            '{"switchyard_switch_steps": [10, 50]}',
        ],
        "switchyard_switch_steps is [10, 50]: give whole percentages that rise strictly",
        id="steps-not-ending-at-100",
    ),
    pytest.param(
        [
            "-e",
            f"image={REPO_IMAGE}:v9",
            "-e",
            '{"switchyard_switch_steps": [60, 40, 100]}',
            "-e",
            "switchyard_switch_mode=linear",
        ],
        "switchyard_switch_steps is [60, 40, 100]: give whole percentages that rise strictly",
        id="steps-not-rising",
    ),
    pytest.param(
        [
            "-e",
            f"image={REPO_IMAGE}:v9",
            "-e",
            "switchyard_production_listener_arn="
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/nope/0123456789abcdef/0123456789abcdef",
        ],
        "does not exist",
        id="unknown-listener",
    ),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUTS)
def test_bad_input_is_refused_with_no_aws_change(sandbox, lease, first_release, run_playbook, args, message):
    before, lease_before = sandbox.snapshot(), lease.item()
    run = run_playbook("promote.yml", "-e", "switchyard_provision=false", *args)
    assert run.returncode != 0, "a bad input must fail the run"
    messages = " ".join(run.failure_messages())
    assert message in messages, f"expected {message!r} in the failure, got: {messages or run.stderr[-2000:]}"
    assert sandbox.snapshot() == before, "a refused run must not change anything in AWS"
    if "exist" not in message:
        assert lease.item() == lease_before, "a bad setting must be refused before the deployment lease is taken"
    else:  # found only when the live state is read, under the lease: which goes back, not left held
        item = lease.item()
        assert item["token"] == lease_before["token"] + 1, item
        assert (item["state"], item["operation"], item["outcome"]) == ("released", "promote", "failed"), item


def test_promote_moves_production_to_the_other_colour_and_test_to_the_idle_one(sandbox, promote, first_release):
    old_live = sandbox.live()
    run = promote(f"{REPO_IMAGE}:v2")
    assert run.returncode == 0, run.failure_messages() or run.stderr
    new_live = sandbox.live()
    assert new_live != old_live
    assert sandbox.image(new_live) == f"{REPO_IMAGE}:v2"
    assert sandbox.weights("test")[old_live] > 0 and sandbox.weights("test")[new_live] == 0, (
        "after a promote the test listener must point at the idle (old) colour"
    )
    assert sandbox.service(old_live)["desiredCount"] > 0, "the old colour stays warm for its standby period"
    record = sandbox.records()[0]
    assert (record["kind"], record["outcome"], record["to_colour"]) == ("promote", "succeeded", new_live)


def test_promote_of_the_live_image_changes_nothing(sandbox, promote, first_release):
    live_image = sandbox.image(sandbox.live())
    before = sandbox.snapshot()
    run = promote(live_image)
    assert run.returncode == 0, run.failure_messages() or run.stderr
    assert run.changed == 0
    assert sandbox.snapshot() == before


def test_check_mode_changes_nothing_and_shows_the_planned_switch(sandbox, promote, first_release):
    before = sandbox.snapshot()
    idle = sandbox.idle()
    run = promote(f"{REPO_IMAGE}:v-check", "--check", "--diff")
    assert run.returncode == 0, run.failure_messages() or run.stderr
    assert sandbox.snapshot() == before, "check mode must not change AWS"
    switch = run.task_results("Set the listener's weights production")
    assert switch and switch[0]["changed"], "check mode must report the switch it would make"
    planned = switch[0]["diff"]["after"]["default"]
    assert list(planned) == [sandbox.stack["target_group_arns"][idle]], planned


def test_unhealthy_release_fails_before_the_switch_and_is_scaled_back(sandbox, promote, first_release):
    idle = sandbox.idle()
    # Start from a cold idle colour. (A warm one still has the previous release's healthy targets
    # until the harness replaces them; real ECS reports that as an older deployment still active,
    # which service_ready waits for, but the emulator does not model deployments.)
    sandbox.ecs.update_service(
        cluster=sandbox.stack["cluster_name"], service=sandbox.stack["service_names"][idle], desiredCount=0
    )
    sandbox.wait_for_no_targets(idle)
    before = sandbox.snapshot()
    run = promote(f"{REPO_IMAGE}:v4-unhealthy", "-e", "switchyard_health_timeout=6")
    assert run.returncode != 0
    assert "was not ready" in " ".join(run.failure_messages())
    after = sandbox.snapshot()
    assert after["production"] == before["production"], "production traffic must not move"
    assert after["services"][idle] == before["services"][idle], "the idle colour must be put back as it was"
    assert sandbox.records()[0]["outcome"] == "failed"


def test_error_rate_above_threshold_rolls_back_automatically(sandbox, promote, first_release):
    before = sandbox.snapshot()
    live = sandbox.live()
    run = promote(f"{REPO_IMAGE}:v5-5xx-5")
    assert run.returncode != 0
    failure = " ".join(run.failure_messages())
    measured = re.search(r"([\d.]+) % of \d+ requests", failure)
    assert measured and 4.5 <= float(measured.group(1)) <= 5.5 and "above the 1.0 % threshold" in failure, failure
    assert sandbox.live() == live, "traffic must be back on the previous colour"
    assert sandbox.snapshot()["services"] == before["services"]
    record = sandbox.records()[0]
    assert record["outcome"] == "rolled_back"
    assert record["error_rates"][-1]["verdict"] == "breached"


def test_error_rate_just_below_threshold_succeeds(sandbox, promote, first_release):
    # 0.8 %, not closer: the guard's alarms judge 10-second periods of a few hundred requests, where
    # 0.9 % on average is above 1 % in a period now and then, and the guard then rightly acts.
    run = promote(f"{REPO_IMAGE}:v6-5xx-0.8")
    assert run.returncode == 0, run.failure_messages() or run.stderr
    rates = sandbox.records()[0]["error_rates"]
    assert rates[-1]["verdict"] == "healthy" and 0.5 < rates[-1]["rate_percent"] <= 1.0, rates


@pytest.mark.parametrize(("mode", "steps"), [("canary", [10, 100]), ("linear", [25, 50, 75, 100])])
def test_weighted_modes_pass_through_their_steps(sandbox, promote, first_release, mode, steps):
    old_live = sandbox.live()
    run = promote(
        f"{REPO_IMAGE}:v7-{mode}", "-e", f"switchyard_switch_mode={mode}", "-e", "switchyard_step_bake_seconds=2"
    )
    assert run.returncode == 0, run.failure_messages() or run.stderr
    record = sandbox.records()[0]
    assert [r["percent"] for r in record["error_rates"]] == steps
    assert all(r["requests"] > 0 for r in record["error_rates"]), "each step must be measured under traffic"
    assert sandbox.live() != old_live


def test_warm_rollback_is_one_listener_change(sandbox, run_playbook, promote, first_release):
    previous = sandbox.live()
    assert promote(f"{REPO_IMAGE}:v8").returncode == 0
    started = time.monotonic()
    run = run_playbook("rollback.yml")
    wall = time.monotonic() - started
    assert run.returncode == 0, run.failure_messages() or run.stderr
    assert sandbox.live() == previous
    record = sandbox.records()[0]
    assert (record["kind"], record["rollback_kind"]) == ("rollback", "warm")
    print(f"\nwarm rollback: {wall:.1f} s wall, {record['time_to_restore_seconds']} s to restore (in-play)")


def test_cold_rollback_scales_the_previous_colour_up_first(sandbox, run_playbook, promote, first_release):
    # Its own previous release, whatever ran before it (an earlier test may leave an unhealthy image
    # on the idle colour): two healthy releases, so the idle colour holds the first.
    for tag in ("cold-v1", "cold-v2"):
        run = promote(f"{REPO_IMAGE}:{tag}")
        assert run.returncode == 0, run.failure_messages() or run.stderr
    idle = sandbox.idle()
    assert sandbox.image(idle) == f"{REPO_IMAGE}:cold-v1"
    sandbox.ecs.update_service(
        cluster=sandbox.stack["cluster_name"], service=sandbox.stack["service_names"][idle], desiredCount=0
    )
    run = run_playbook("rollback.yml")
    assert run.returncode == 0, run.failure_messages() or run.stderr
    assert sandbox.live() == idle and sandbox.image(idle) == f"{REPO_IMAGE}:cold-v1"
    assert sandbox.service(idle)["desiredCount"] > 0
    assert sandbox.records()[0]["rollback_kind"] == "cold"


def test_status_reports_live_colour_and_history(sandbox, promote, run_playbook, first_release):
    # Its own history, whatever ran before it: a promote, then its rollback.
    promoted = promote(f"{REPO_IMAGE}:status-v2")
    assert promoted.returncode == 0, promoted.failure_messages() or promoted.stderr
    rolled = run_playbook("rollback.yml")
    assert rolled.returncode == 0, rolled.failure_messages() or rolled.stderr
    run = run_playbook("status.yml")
    assert run.returncode == 0, run.failure_messages() or run.stderr
    shown = json.dumps(run.report)
    assert f"live colour {sandbox.live()}" in shown
    assert "rollback succeeded" in shown and "promote" in shown


def test_live_image_prints_what_status_writes_for_scripts(sandbox, sandbox_endpoint, first_release):
    """deploy.yml's production job promotes the digest staging runs: scripts/live_image.py reads it
    from status.yml's machine-readable status file."""
    env = {**os.environ, "AWS_ENDPOINT_URL": sandbox_endpoint, "SWITCHYARD_TF_WORKSPACE": TF_WORKSPACE}
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "live_image.py"), "-i", str(REPO / "inventories" / "sandbox")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == sandbox.image(sandbox.live())


def test_finalize_scales_the_old_colour_down_only_after_its_standby(sandbox, promote, run_playbook, first_release):
    old_live = sandbox.live()
    # The window leaves room for a slow, loaded CI machine: the promote's tail and the early
    # finalize must both end inside it for the check to mean anything.
    assert promote(f"{REPO_IMAGE}:v9", "-e", "switchyard_standby_seconds=30").returncode == 0
    standby_until = sandbox.records()[0]["standby_until"]
    early = run_playbook("finalize.yml")
    assert early.returncode == 0, early.failure_messages() or early.stderr
    assert time.time() < standby_until, "the test is too slow to check a finalize during the standby"
    assert sandbox.service(old_live)["desiredCount"] > 0, "finalize must not end a standby early"
    time.sleep(max(0.0, standby_until - time.time()) + 0.5)
    late = run_playbook("finalize.yml")
    assert late.returncode == 0, late.failure_messages() or late.stderr
    assert sandbox.service(old_live)["desiredCount"] == 0, "after its standby the old colour is scaled down"
    assert sandbox.service(sandbox.live())["desiredCount"] > 0, "finalize never touches the live colour"


def test_promote_keeps_every_field_of_the_live_task_definition(sandbox, promote, first_release):
    """An ARM64 service with a volume stays ARM64 with its volume: only the image changes."""
    live = sandbox.live()
    base = sandbox.ecs.describe_task_definition(taskDefinition=sandbox.service(live)["taskDefinition"])[
        "taskDefinition"
    ]
    container = {
        **base["containerDefinitions"][0],
        "image": f"{REPO_IMAGE}:arm-v1",
        "mountPoints": [{"sourceVolume": "scratch", "containerPath": "/scratch", "readOnly": False}],
    }
    registered = sandbox.ecs.register_task_definition(
        family=base["family"],
        containerDefinitions=[container, *base["containerDefinitions"][1:]],
        executionRoleArn=base["executionRoleArn"],
        taskRoleArn=base.get("taskRoleArn", base["executionRoleArn"]),
        networkMode=base["networkMode"],
        cpu=base["cpu"],
        memory=base["memory"],
        requiresCompatibilities=["FARGATE"],
        runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        volumes=[{"name": "scratch"}],
        placementConstraints=[],
    )["taskDefinition"]
    sandbox.ecs.update_service(
        cluster=sandbox.stack["cluster_name"],
        service=sandbox.stack["service_names"][live],
        taskDefinition=registered["taskDefinitionArn"],
    )

    run = promote(f"{REPO_IMAGE}:arm-v2")

    assert run.returncode == 0, run.failure_messages() or run.stderr
    assert sandbox.live() != live
    shipped = sandbox.ecs.describe_task_definition(taskDefinition=sandbox.service(sandbox.live())["taskDefinition"])[
        "taskDefinition"
    ]
    assert shipped["taskDefinitionArn"] != registered["taskDefinitionArn"]
    assert shipped["containerDefinitions"][0]["image"] == f"{REPO_IMAGE}:arm-v2"
    assert shipped["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}, (
        "an ARM64 service came back as another architecture"
    )
    assert shipped["volumes"] == registered["volumes"], "the volume was dropped"
    assert shipped["containerDefinitions"][0]["mountPoints"] == container["mountPoints"]
    assert shipped["requiresCompatibilities"] == ["FARGATE"]
    unchanged = {key: value for key, value in registered.items() if key not in _PER_REVISION}
    kept = {key: value for key, value in shipped.items() if key not in _PER_REVISION}
    assert kept == unchanged, "a field other than the image changed"


# What differs between two revisions by nature, not by the release.
_PER_REVISION = {"taskDefinitionArn", "revision", "registeredAt", "registeredBy", "containerDefinitions"}
