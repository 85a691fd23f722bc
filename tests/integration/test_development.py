"""promote, rollback and status on the development environment: the same playbooks and roles as in
AWS, HAProxy's runtime API as the traffic layer.

No Docker engine here, so the environment runs natively: Debian's PostgreSQL, HAProxy with
dev/haproxy.cfg itself (loopback addresses instead of compose names), and each colour as a
process that `sandbox/local_services.py run-colour` replaces as `docker compose up` would.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from sandbox.local_services import development, served_version, stop_colour
from tests.conftest import playbook_runner

IMAGE = "switchyard/app"


class Load:
    """Steady requests to the production frontend in a thread; counts what failed."""

    def __init__(self, url: str, per_second: int = 40):
        self.url, self.pause = f"{url}/visits", 1 / per_second
        self.sent = self.failed = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.sent += 1
            try:
                with urllib.request.urlopen(self.url, timeout=5):
                    pass
            except (urllib.error.URLError, OSError) as e:
                self.failed += 1
                self.failures.append(str(e))
            time.sleep(self.pause)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()


@pytest.fixture(scope="module")
def dev():
    """The development environment, natively: blue runs v1 and is live, green is not running yet."""
    with development(f"{IMAGE}:v1") as environment:
        run = playbook_runner(environment.env, "development")
        overrides = ["-e", json.dumps({"switchyard_local_stack": environment.stack}), "-e", "switchyard_bake_seconds=3"]

        def play(playbook: str, *args: str, **extra_env: str):
            if extra_env:
                return playbook_runner({**environment.env, **extra_env}, "development")(playbook, *overrides, *args)
            return run(playbook, *overrides, *args)

        yield SimpleNamespace(
            play=play,
            balancer=environment.balancer,
            weights=lambda: {colour: environment.weight(colour) for colour in ("blue", "green")},
            state=environment.state_dir,
            stack=environment.stack,
        )


@pytest.fixture
def v1_live_on_blue(dev):
    """Blue live on v1, whatever the test before left: a rollback from v2 on green gets there."""
    if dev.weights() != {"blue": 100, "green": 0}:
        run = dev.play("rollback.yml")
        assert run.returncode == 0, run.failure_messages() or run.stderr
    assert dev.weights() == {"blue": 100, "green": 0} and served_version(dev.balancer.front_url) == f"{IMAGE}:v1"


@pytest.fixture
def v2_live_on_green(dev):
    """Green live on v2 with blue warm on v1, whatever the test before left (the first state, a
    rollback's or a stopped green): promoting v2 gets there."""
    if (
        dev.weights() != {"blue": 0, "green": 100}
        or served_version(dev.balancer.front_url) != f"{IMAGE}:v2"
        or served_version(dev.balancer.test_url) != f"{IMAGE}:v1"
    ):
        run = dev.play("promote.yml", "-e", f"image={IMAGE}:v2")
        assert run.returncode == 0, run.failure_messages() or run.stderr
    assert served_version(dev.balancer.test_url) == f"{IMAGE}:v1"


def test_promote_switches_haproxy_to_the_new_colour_without_failed_requests(dev, v1_live_on_blue):
    with Load(dev.balancer.front_url) as load:
        run = dev.play("promote.yml", "-e", f"image={IMAGE}:v2")
    assert run.returncode == 0, run.failure_messages() or run.stderr
    assert served_version(dev.balancer.front_url) == f"{IMAGE}:v2"
    assert dev.weights() == {"blue": 0, "green": 100}
    # The test frontend now serves the old colour, warm for an instant rollback.
    assert served_version(dev.balancer.test_url) == f"{IMAGE}:v1"
    assert load.sent > 50 and load.failed == 0, load.failures[:5]
    record = json.loads((dev.state / "deployments.jsonl").read_text().splitlines()[-1])
    assert record["outcome"] == "succeeded" and record["to_colour"] == "green"
    assert record["error_rates"][-1]["verdict"] in ("healthy", "insufficient_data")


def test_promoting_the_live_image_again_changes_nothing(dev, v2_live_on_green):
    run = dev.play("promote.yml", "-e", f"image={IMAGE}:v2")
    assert run.returncode == 0, run.failure_messages() or run.stderr
    assert run.changed == 0
    assert dev.weights() == {"blue": 0, "green": 100}


def test_check_mode_moves_no_traffic(dev, v2_live_on_green):
    run = dev.play("promote.yml", "-e", f"image={IMAGE}:v9", "--check")
    assert run.returncode == 0, run.failure_messages() or run.stderr
    assert dev.weights() == {"blue": 0, "green": 100}
    assert served_version(dev.balancer.test_url) == f"{IMAGE}:v1", "check mode must not replace the idle colour"


def test_a_release_that_answers_5xx_is_rolled_back_automatically(dev, v2_live_on_green):
    with Load(dev.balancer.front_url, per_second=60):
        run = dev.play(
            "promote.yml", "-e", f"image={IMAGE}:v3", APP_FAULT_PERCENT="50", SWITCHYARD_FAULTY_IMAGE=f"{IMAGE}:v3"
        )
    assert run.returncode != 0
    message = " ".join(run.failure_messages())
    assert "rolled back automatically" in message and "threshold" in message
    assert dev.weights() == {"blue": 0, "green": 100}, "all traffic back on green"
    assert served_version(dev.balancer.front_url) == f"{IMAGE}:v2"
    # The idle colour is put back as it was: its previous image runs again.
    assert served_version(dev.balancer.test_url) == f"{IMAGE}:v1"
    record = json.loads((dev.state / "deployments.jsonl").read_text().splitlines()[-1])
    assert record["outcome"] == "rolled_back" and record["error_rates"][-1]["verdict"] == "breached"


def test_a_promote_while_another_run_holds_the_lock_file_is_refused(dev):
    """The development environment has the same lease semantics as AWS, from a local lock file."""
    lease_file = Path(dev.stack["record_file"]).parent / "lease.json"
    saved = lease_file.read_text() if lease_file.exists() else None
    now = time.time()
    held = json.loads(saved) if saved else {}
    token = int(held.get("development", {}).get("token", 0)) + 1
    held["development"] = {
        "environment": "development",
        "token": token,
        "state": "held",
        "operation": "promote",
        "phase": "baking 100",
        "holder": {"actor": "a-colleague", "run_id": "7", "host": "their-laptop"},
        "started": now - 30,
        "heartbeat": now - 5,
        "expires": now + 600,
        "details": {"image": f"{IMAGE}:theirs"},
    }
    lease_file.write_text(json.dumps(held))
    weights = dev.weights()
    try:
        run = dev.play("promote.yml", "-e", f"image={IMAGE}:v7")
        assert run.returncode != 0
        refusal = " ".join(run.failure_messages())
        assert "a-colleague" in refusal and "baking 100" in refusal, refusal
        assert dev.weights() == weights and run.changed == 0
    finally:
        held["development"]["state"] = "released"
        held["development"]["outcome"] = "done"
        lease_file.write_text(json.dumps(held))


def test_rollback_returns_traffic_to_the_warm_colour_and_status_reads_it_from_haproxy(dev, v2_live_on_green):
    with Load(dev.balancer.front_url) as load:
        run = dev.play("rollback.yml")
    assert run.returncode == 0, run.failure_messages() or run.stderr
    assert dev.weights() == {"blue": 100, "green": 0}
    assert served_version(dev.balancer.front_url) == f"{IMAGE}:v1"
    assert load.failed == 0, load.failures[:5]
    record = json.loads((dev.state / "deployments.jsonl").read_text().splitlines()[-1])
    assert record["kind"] == "rollback" and record["rollback_kind"] == "warm"

    status = dev.play("status.yml")
    assert status.returncode == 0, status.failure_messages() or status.stderr
    shown = json.dumps(
        [[r.get("msg")] + [item.get("msg") for item in r.get("results", [])] for r in status.task_results("Show")]
    )
    assert "live colour blue" in shown and f"{IMAGE}:v1" in shown and "rollback succeeded" in shown


def test_rollback_to_a_colour_that_is_not_running_is_refused_and_changes_nothing(dev, v1_live_on_blue):
    stop_colour(dev.state, "green")  # the idle colour
    deadline = time.monotonic() + 10
    while dev.balancer.command("show stat").count(",DOWN,") < 2 and time.monotonic() < deadline:
        time.sleep(0.2)  # HAProxy's checks notice (both backends)
    run = dev.play("rollback.yml")
    assert run.returncode != 0
    assert "docker compose up -d green" in " ".join(run.failure_messages())
    assert dev.weights() == {"blue": 100, "green": 0}


def test_a_development_environment_that_is_not_running_is_named(dev, tmp_path):
    stack = {**dev.stack, "socket": str(tmp_path / "nowhere.sock")}
    run = playbook_runner({}, "development")(
        "promote.yml", "-e", json.dumps({"switchyard_local_stack": stack}), "-e", f"image={IMAGE}:v4"
    )
    assert run.returncode != 0
    assert "docker compose up -d --build" in " ".join(run.failure_messages())


@pytest.mark.parametrize(
    ("playbook", "says"),
    [("provision.yml", "docker compose up -d --build"), ("finalize.yml", "there is nothing to scale down")],
)
def test_playbooks_that_mean_nothing_locally_say_so(playbook, says):
    run = playbook_runner({}, "development")(playbook)
    assert run.returncode != 0
    assert says in " ".join(run.failure_messages())
