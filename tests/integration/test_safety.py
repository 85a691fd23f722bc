"""Deployment safety on the sandbox: one lease per environment, a rollback that always wins,
runs that recover from interruption (issue 8). Everything goes through the playbooks; the tests
read AWS back through boto3."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import REPO, TF_WORKSPACE, playbook_runner
from tests.integration.test_promote import FAST, REPO_IMAGE

pytestmark = pytest.mark.sandbox

ENVIRONMENT = "sandbox"


class CountingProxy:
    """sandbox/throttling_proxy.py at rate 0: forwards everything and counts the calls per action."""

    def __init__(self, upstream: str):
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "sandbox" / "throttling_proxy.py"), "--upstream", upstream, "--rate", "0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = self.process.stdout.readline().strip()

    def calls(self, action: str) -> int:
        return self.all_calls().get(action, 0)

    def all_calls(self) -> dict[str, int]:
        """{service:Action: calls forwarded} of everything that went through."""
        with urllib.request.urlopen(f"{self.url}/_proxy/stats", timeout=10) as response:
            return {action: counts.get("forwarded", 0) for action, counts in json.load(response)["actions"].items()}

    def stop(self) -> None:
        self.process.terminate()
        self.process.communicate(timeout=10)


@pytest.fixture
def counted_start(sandbox_endpoint):
    """Start a playbook in the background whose AWS calls go through a counting proxy."""
    proxy = CountingProxy(sandbox_endpoint)
    yield (
        proxy,
        playbook_runner(
            {"AWS_ENDPOINT_URL": proxy.url, "SWITCHYARD_TF_WORKSPACE": TF_WORKSPACE}, "sandbox", background=True
        ),
    )
    proxy.stop()


@pytest.fixture(scope="module")
def released(sandbox, promote, lease):
    """A release live and no run holding the lease."""
    run = promote(f"{REPO_IMAGE}:safety-v1")
    assert run.returncode == 0, run.failure_messages() or run.stderr
    assert lease.item()["state"] == "released"
    return run


def test_a_promote_with_instant_health_and_no_bake_makes_at_most_20_aws_calls(counted_start, promote, released):
    # Everything the promote asks AWS, the lease and its journal, the migration and the record
    # included (issue 20). The state is read once under the lease and kept up to date by the run's
    # own writes: the revisions the last promote left in the lease, the listeners' rules, the
    # services; the migration's revision is the release's.
    proxy, start = counted_start
    # A promote that went live just before, whatever the test before this one left (a rollback or
    # a failed promote keeps fewer revisions in the lease).
    before = promote(f"{REPO_IMAGE}:budget-before")
    assert before.returncode == 0, before.failure_messages() or before.stderr
    run = start("promote.yml", "-e", f"image={REPO_IMAGE}:budget", *FAST, "-e", "switchyard_bake_seconds=0").wait()
    assert run.returncode == 0, run.failure_messages() or run.stderr

    calls = proxy.all_calls()
    assert sum(calls.values()) <= 20, json.dumps(calls, sort_keys=True)
    # The previous promote left both colours' revisions in the lease: none is described again.
    assert calls.get("ecs:DescribeTaskDefinition", 0) == 0, calls
    # The state's service read, then the health gate's; the listeners' rules once each.
    assert calls.get("ecs:DescribeServices") == 2 and calls.get("elasticloadbalancing:DescribeRules") == 2, calls
    assert calls.get("ecs:RegisterTaskDefinition") == 1 and calls.get("ecs:UpdateService") == 1, calls
    # The migration: the stack's runner starts it (its own calls are its own), the promote watches it.
    assert calls.get("lambda:Invoke") == 1 and "ecs:RunTask" not in calls, calls


def test_two_concurrent_promotes_exactly_one_proceeds(sandbox, start, lease, released):
    first = start("promote.yml", "-e", f"image={REPO_IMAGE}:race-a", *FAST)
    time.sleep(1.5)
    second = start("promote.yml", "-e", f"image={REPO_IMAGE}:race-b", *FAST)
    runs = [first.wait(), second.wait()]

    assert sorted(run.returncode == 0 for run in runs) == [False, True], [r.failure_messages() for r in runs]
    loser = next(run for run in runs if run.returncode != 0)
    refusal = " ".join(loser.failure_messages())
    assert "is held by" in refusal and "for promote" in refusal and "switchyard_break_lease" in refusal, refusal
    assert loser.changed == 0, "the refused promote must change nothing"
    winner_image = f"{REPO_IMAGE}:race-a" if runs[0].returncode == 0 else f"{REPO_IMAGE}:race-b"
    assert sandbox.image(sandbox.live()) == winner_image
    assert lease.item()["state"] == "released"


@pytest.mark.parametrize(
    ("mode", "phase"), [("canary", "baking 10"), ("all_at_once", "baking 100")], ids=["canary-step", "all-at-once-bake"]
)
def test_rollback_preempts_a_baking_promote(sandbox, counted_start, run_playbook, lease, released, mode, phase):
    old = sandbox.live()
    old_image = sandbox.image(old)
    proxy, start = counted_start
    running = start(
        "promote.yml",
        "-e",
        f"image={REPO_IMAGE}:preempted-{mode}",
        *FAST,
        "-e",
        f"switchyard_switch_mode={mode}",
        "-e",
        "switchyard_step_bake_seconds=8",
        "-e",
        "switchyard_bake_seconds=8",
    )
    lease.wait_for_phase(phase, running)
    listener_writes = proxy.calls("elasticloadbalancing:ModifyListener")

    rollback = run_playbook("rollback.yml")  # straight to the emulator, not through the proxy
    assert rollback.returncode == 0, rollback.failure_messages() or rollback.stderr
    restored = sandbox.weights("production")
    promoted = running.wait()

    assert listener_writes > 0, "the proxy saw none of the promote's listener writes: the count proves nothing"
    assert proxy.calls("elasticloadbalancing:ModifyListener") == listener_writes, (
        "the promote wrote a listener after the rollback took over"
    )

    assert promoted.returncode != 0, "a preempted promote must exit non-zero"
    message = " ".join(promoted.failure_messages())
    assert "preempted" in message and "rollback" in message, message
    assert sandbox.live() == old and sandbox.image(old) == old_image, "production ends on the old colour"
    assert sandbox.weights("production") == restored, "the promote wrote the listener after the rollback"
    record = next(r for r in sandbox.records() if r["kind"] == "promote")
    assert record["outcome"] == "preempted", record
    assert record["preempted_by"]["actor"], record
    assert lease.item()["operation"] == "rollback"


def test_rollback_during_the_health_gate_never_lets_production_move(sandbox, start, run_playbook, lease, released):
    old = sandbox.live()
    idle = sandbox.idle()
    sandbox.ecs.update_service(
        cluster=sandbox.stack["cluster_name"], service=sandbox.stack["service_names"][idle], desiredCount=0
    )
    sandbox.wait_for_no_targets(idle)
    running = start(
        "promote.yml", "-e", f"image={REPO_IMAGE}:gate-unhealthy", *FAST, "-e", "switchyard_health_timeout=10"
    )
    lease.wait_for_phase("releasing", running)
    time.sleep(1)  # inside the health gate

    rollback = run_playbook("rollback.yml")
    assert rollback.returncode == 0, rollback.failure_messages() or rollback.stderr
    promoted = running.wait()

    assert promoted.returncode != 0
    assert sandbox.live() == old
    assert sandbox.weights("production")[idle] == 0
    assert next(r for r in sandbox.records() if r["kind"] == "promote")["outcome"] == "preempted"


def test_an_expired_lease_lets_a_promote_through_and_a_live_one_does_not(sandbox, promote, lease, released):
    now = time.time()
    stale = {
        "environment": ENVIRONMENT,
        "token": int(lease.item()["token"]) + 1,
        "state": "held",
        "operation": "promote",
        "phase": "baking 100",
        "holder": {"actor": "someone-else", "run_id": "42", "host": "their-laptop"},
        "started": now - 600,
        "heartbeat": now - 300,
        "expires": now + 300,
        "details": {"image": f"{REPO_IMAGE}:theirs"},
    }
    lease.put(stale)
    before = sandbox.snapshot()
    refused = promote(f"{REPO_IMAGE}:after-stale")
    assert refused.returncode != 0
    refusal = " ".join(refused.failure_messages())
    assert "someone-else" in refusal and "baking 100" in refusal and "their-laptop" in refusal, refusal
    assert sandbox.snapshot() == before, "a refused promote must change nothing"

    lease.put({**stale, "expires": now - 1})
    passed = promote(f"{REPO_IMAGE}:after-stale")
    assert passed.returncode == 0, passed.failure_messages() or passed.stderr
    assert sandbox.image(sandbox.live()) == f"{REPO_IMAGE}:after-stale"
    item = lease.item()
    assert item["state"] == "released" and item["took_over"]["reason"] == "expired", item


def test_a_promote_the_plan_refuses_lets_the_lease_go_and_changes_nothing(
    sandbox, promote, run_playbook, lease, released
):
    """Split production traffic (by hand) is refused once the lease is held: the lease goes back with
    the outcome failed, so status and the next run see no promote in flight."""
    elbv2 = sandbox.elbv2
    arn = sandbox.stack["production_listener_arn"]
    actions = elbv2.describe_listeners(ListenerArns=[arn])["Listeners"][0]["DefaultActions"]
    groups = [{"TargetGroupArn": g, "Weight": 50} for g in sandbox.stack["target_group_arns"].values()]
    split = [{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]
    elbv2.modify_listener(ListenerArn=arn, DefaultActions=split)
    try:
        before, token = sandbox.snapshot(), int(lease.item()["token"])
        refused = promote(f"{REPO_IMAGE}:into-a-split")
        assert refused.returncode != 0
        refusal = " ".join(refused.failure_messages())
        assert "not all on one colour" in refusal and "rollback.yml" in refusal, refusal
        assert sandbox.snapshot() == before, "a refused promote must change nothing"
        item = lease.item()
        assert int(item["token"]) == token + 1 and item["state"] == "released" and item["outcome"] == "failed", item

        status = run_playbook("status.yml")
        assert status.returncode == 0, status.failure_messages() or status.stderr
        assert "INTERRUPTED" not in _status_lines(status)
    finally:
        elbv2.modify_listener(ListenerArn=arn, DefaultActions=actions)


def _status_lines(run) -> str:
    return json.dumps(run.report)


def wait_until_scaled_up(sandbox, colour: str, image: str, run, timeout: float = 120) -> None:
    """Until the colour's service runs the image with tasks (the promote's release is done)."""
    deadline = time.monotonic() + timeout
    while not (sandbox.image(colour) == image and sandbox.service(colour)["desiredCount"] > 0):
        if run.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the promote never scaled {colour} up on {image}")
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("phase", "mode", "then"),
    [
        ("releasing", "all_at_once", "rerun"),
        # The journal of a healthy gate rides on the switch's check: killed once the idle colour
        # runs the new image, the lease still says releasing (or, a moment later, switching 100).
        ("releasing, scaled up", "all_at_once", "rollback"),
        ("baking 10", "canary", "rerun"),
        ("baking 100", "all_at_once", "rollback"),
    ],
    ids=["task-definition-registered", "idle-colour-scaled-up", "canary-at-10", "bake-at-100"],
)
def test_a_promote_killed_part_way_is_told_and_recovered(
    sandbox, start, run_playbook, promote, lease, released, phase, mode, then
):
    old = sandbox.live()
    old_image = sandbox.image(old)
    image = f"{REPO_IMAGE}:killed-{re.sub(r'[^a-z0-9]+', '-', phase)}"
    slow = [
        "-e",
        f"switchyard_switch_mode={mode}",
        "-e",
        "switchyard_step_bake_seconds=8",
        "-e",
        "switchyard_bake_seconds=8",
    ]
    running = start("promote.yml", "-e", f"image={image}", *FAST, *slow)
    journalled = [phase]
    if phase == "releasing, scaled up":
        lease.wait_for_phase("releasing", running)
        wait_until_scaled_up(sandbox, sandbox.idle(), image, running)
        journalled = ["releasing", "switching 100"]
    else:
        lease.wait_for_phase(phase, running)
    running.kill()

    status = run_playbook("status.yml")
    assert status.returncode == 0, status.failure_messages() or status.stderr
    shown = _status_lines(status)
    assert "INTERRUPTED" in shown and image in shown, shown[-3000:]
    assert any(f"phase {p}" in shown for p in journalled), shown[-3000:]

    def rollback_restores():
        back = run_playbook("rollback.yml")
        assert back.returncode == 0, back.failure_messages() or back.stderr
        assert sandbox.live() == old and sandbox.image(old) == old_image, "rollback returns to the old release"

    def rerun_converges():
        again = promote(image, *slow)
        assert again.returncode == 0, again.failure_messages() or again.stderr
        assert sandbox.image(sandbox.live()) == image
        assert sandbox.weights("production")[sandbox.live()] > 0 and sandbox.live() != old

    if then == "rerun":
        rerun_converges()
        rollback_restores()
    else:
        rollback_restores()
        rerun_converges()
    assert lease.item()["state"] == "released"
    # No sequence leaves the only warm colour scaled down.
    assert sandbox.service(sandbox.live())["desiredCount"] > 0
