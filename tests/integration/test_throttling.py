"""promote.yml and rollback.yml succeed while 30 % of their AWS API calls are throttled (issue 8).

sandbox/throttling_proxy.py stands between the playbooks and the emulator and answers a seeded
30 % of the AWS calls itself with the throttling error of the call's protocol. The playbooks reach
AWS only through it; this test reads AWS back directly from the emulator.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import REPO, TF_WORKSPACE, playbook_runner
from tests.integration.test_promote import FAST, REPO_IMAGE, Sandbox

pytestmark = pytest.mark.sandbox

RATE = 0.3
SEED = 7
# Throttled calls of each protocol over the promote and the rollback, so that the test cannot
# pass because the throttling missed the calls that matter. A promote and a rollback make about
# 13 ELBv2 calls since the API budget (issue 12): 30 % of them is about 4, but a seed can fall
# short (8 throttled only 1); seed 7 throttles more than 3 of each protocol's with today's calls.
MIN_THROTTLED = 3
PROTOCOLS = ("json", "query")  # ECS, Logs, SSM, DynamoDB, CloudWatch; ELBv2


class Proxy:
    """The throttling proxy, run as a script, in front of the test emulator."""

    def __init__(self, upstream: str):
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(REPO / "sandbox" / "throttling_proxy.py"),
                *("--upstream", upstream, "--rate", str(RATE), "--seed", str(SEED)),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://"):
            self.stop()
            pytest.fail(f"the throttling proxy did not start (it printed {self.url!r})")

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/_proxy/stats", timeout=10) as response:
            return json.load(response)

    def stop(self) -> None:
        self.process.terminate()
        self.process.communicate(timeout=10)


def since(after: dict, before: dict | None = None) -> dict[str, dict[str, int]]:
    """Per protocol, the forwarded and throttled calls between two readings of the stats."""
    empty = {"forwarded": 0, "throttled": 0}
    earlier = (before or {}).get("protocols", {})
    return {
        protocol: {key: counts[key] - earlier.get(protocol, empty)[key] for key in empty}
        for protocol, counts in after["protocols"].items()
    }


@pytest.fixture
def proxy(sandbox_endpoint):
    running = Proxy(sandbox_endpoint)
    yield running
    running.stop()


@pytest.fixture
def sandbox(provisioned, aws, run_playbook):
    """The stack read through the emulator directly; production is never left split."""
    reader = Sandbox(aws, provisioned["stack"])
    yield reader
    if sum(1 for weight in reader.weights("production").values() if weight > 0) > 1:
        healed = run_playbook("rollback.yml")  # unthrottled
        assert healed.returncode == 0, f"production was left split and rollback.yml failed: {healed.stderr[-2000:]}"


def test_promote_and_rollback_succeed_with_30_percent_of_aws_calls_throttled(sandbox, proxy):
    through_proxy = playbook_runner({"AWS_ENDPOINT_URL": proxy.url, "SWITCHYARD_TF_WORKSPACE": TF_WORKSPACE}, "sandbox")
    old_live = sandbox.live()
    image = f"{REPO_IMAGE}:v-throttled"

    started = time.monotonic()
    promote = through_proxy("promote.yml", "-e", f"image={image}", *FAST)
    promote_seconds = time.monotonic() - started
    after_promote = proxy.stats()

    assert promote.returncode == 0, (
        f"promote.yml failed under {RATE:.0%} throttling: {promote.failure_messages() or promote.stderr[-3000:]}"
    )
    new_live = sandbox.live()
    assert new_live != old_live, "production must have moved to the other colour"
    assert sandbox.image(new_live) == image

    started = time.monotonic()
    rollback = through_proxy("rollback.yml")
    rollback_seconds = time.monotonic() - started
    after_rollback = proxy.stats()

    assert rollback.returncode == 0, (
        f"rollback.yml failed under {RATE:.0%} throttling: {rollback.failure_messages() or rollback.stderr[-3000:]}"
    )
    assert sandbox.live() == old_live, "the rollback must send production back to the previous colour"

    calls = {"promote.yml": since(after_promote), "rollback.yml": since(after_rollback, after_promote)}
    print(
        f"\nunder {RATE:.0%} throttling (seed {SEED}): promote {promote_seconds:.0f} s, rollback "
        f"{rollback_seconds:.0f} s; calls by protocol {calls}"
    )
    for playbook, by_protocol in calls.items():
        assert sum(counts["throttled"] for counts in by_protocol.values()) > 0, (
            f"{playbook} went through the proxy without a single throttled call: {by_protocol}"
        )
    for protocol in PROTOCOLS:
        total = sum(by_protocol.get(protocol, {}).get("throttled", 0) for by_protocol in calls.values())
        assert total >= MIN_THROTTLED, (
            f"only {total} {protocol} calls were throttled (at least {MIN_THROTTLED} expected): "
            f"{json.dumps(after_rollback['actions'], indent=1)}"
        )
