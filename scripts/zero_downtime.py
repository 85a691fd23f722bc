"""Zero downtime, shown: constant load through HAProxy while promote.yml and rollback.yml switch colours.

    .venv/bin/python scripts/zero_downtime.py [--concurrency 10]

Runs the development environment natively (PostgreSQL, HAProxy with dev/haproxy.cfg, blue on v1;
see sandbox/local_services.py), drives `hey` against the production frontend (GET /visits, a
database read), runs `playbooks/promote.yml -i inventories/development` to v2 and then
`playbooks/rollback.yml` in the middle of it, and prints the requests sent, the failed ones (the
goal is zero), how long each playbook took and how long each switch took to take effect (from
HAProxy's weights changing to every response coming from the new colour).

The releases carry the sample service's schema history: v1 ships migration 0001, v2 adds 0002 (an
expand: the promote migrates before v2 runs, and v1 keeps working on the result after the
rollback), and v3 adds 0003, a contract that drops a column v1 reads: its promote, with v1 live,
must be refused before anything runs, under the same load.
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox.local_services import Development, ServiceError, development  # noqa: E402

IMAGE = "switchyard/app"
# Each release ships the first N of app/migrations (local_services.build_image).
RELEASES = {f"{IMAGE}:v1": 1, f"{IMAGE}:v2": 2, f"{IMAGE}:v3": 3}


def time_to_take_effect(front_url: str, version: str, started: float, consecutive: int = 20) -> float:
    """Seconds from `started` until `consecutive` responses in a row come from `version`."""
    streak = 0
    while streak < consecutive:
        with urllib.request.urlopen(f"{front_url}/version", timeout=5) as response:
            streak = streak + 1 if version.encode() in response.read() else 0
        if time.monotonic() - started > 30:
            raise ServiceError(f"{version} never took all the traffic")
    return time.monotonic() - started


class SwitchWatch(threading.Thread):
    """Notes when HAProxy starts sending `colour` traffic, then how long until it has all of it."""

    def __init__(self, dev: Development, colour: str, version: str):
        super().__init__(daemon=True)
        self.dev, self.colour, self.version = dev, colour, version
        self.took: float | None = None

    def run(self) -> None:
        deadline = time.monotonic() + 120
        while self.dev.weight(self.colour) == 0:
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        self.took = time_to_take_effect(self.dev.balancer.front_url, self.version, time.monotonic())


def parse_hey(output: str) -> dict:
    statuses = {int(code): int(count) for code, count in re.findall(r"\[(\d{3})\]\s+(\d+) responses", output)}
    errors_part = output.split("Error distribution:", 1)[1] if "Error distribution:" in output else ""
    errors = sum(int(n) for n in re.findall(r"^\s+\[(\d+)\]", errors_part, re.M))
    sent = sum(statuses.values()) + errors
    failed = errors + sum(count for code, count in statuses.items() if code >= 500)
    return {"sent": sent, "failed": failed, "statuses": statuses, "connection_errors": errors}


def run(concurrency: int = 10) -> dict:
    if not shutil.which("hey"):
        raise ServiceError("hey not found: install Debian's hey (.ci/run does).")
    steps = [
        ("promote", "promote.yml", ["-e", f"image={IMAGE}:v2", "-e", "switchyard_bake_seconds=3"], "green", "v2"),
        ("rollback", "rollback.yml", [], "blue", "v1"),
    ]
    with development(f"{IMAGE}:v1", RELEASES) as dev:
        # Requests at a fixed rate until SIGINT, on which hey lets requests in flight finish and
        # reports (`hey -z` would cut the last ones off).
        per_client_qps = 10
        load_started = time.monotonic()
        load = subprocess.Popen(
            [
                "hey",
                "-n",
                "100000000",
                "-c",
                str(concurrency),
                "-q",
                str(per_client_qps),
                f"{dev.balancer.front_url}/visits",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        time.sleep(1)  # the load is flowing before anything moves
        switches = {}
        for name, playbook, args, colour, version in steps:
            watch = SwitchWatch(dev, colour, f"{IMAGE}:{version}")
            watch.start()
            started = time.monotonic()
            done = dev.playbook(playbook, *args)
            took = time.monotonic() - started
            watch.join(timeout=35)
            if done.returncode != 0:
                load.kill()
                raise ServiceError(f"{playbook} failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
            switches[name] = {"playbook_seconds": took, "effect_seconds": watch.took}
        # v1 live again on the migrated schema: it still writes, and v3's contract step is refused.
        with urllib.request.urlopen(urllib.request.Request(f"{dev.balancer.front_url}/visits", method="POST")) as r:
            v1_write = r.status
        contract = dev.playbook("promote.yml", "-e", f"image={IMAGE}:v3")
        time.sleep(1)  # and keeps flowing after the rollback
        load.send_signal(signal.SIGINT)
        output, _ = load.communicate(timeout=60)
        seconds = time.monotonic() - load_started
    return {
        **parse_hey(output),
        "switches": switches,
        "seconds": seconds,
        "concurrency": concurrency,
        "v1_write_after_rollback": v1_write,
        "contract_promote": {"returncode": contract.returncode, "output": contract.stdout[-4000:]},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    result = run(args.concurrency)
    print(
        f"load: {args.concurrency} clients x 10 requests/s for {result['seconds']:.0f} s through HAProxy (GET /visits)"
    )
    print(f"requests sent:   {result['sent']}")
    print(f"failed requests: {result['failed']} (5xx and connection errors; statuses {result['statuses']})")
    for name, figures in result["switches"].items():
        print(
            f"{name}: playbook {figures['playbook_seconds']:.1f} s; all traffic on the new colour"
            f" {figures['effect_seconds'] * 1000:.0f} ms after HAProxy's weights changed"
        )
    refused = result["contract_promote"]["returncode"] != 0 and "refused" in result["contract_promote"]["output"]
    print(f"v1 after the rollback, on the migrated schema: POST /visits answered {result['v1_write_after_rollback']}")
    print(
        f"promote of v3 (a contract migration v1 still needs) with v1 live: {'refused' if refused else 'NOT refused'}"
    )
    return 0 if result["failed"] == 0 and refused else 1


if __name__ == "__main__":
    sys.exit(main())
