"""Zero downtime, shown: constant load through HAProxy while a promote and a rollback switch colours.

    .venv/bin/python scripts/zero_downtime.py [--seconds 30] [--concurrency 20]

Runs PostgreSQL, the service as blue (v1) and green (v2) and HAProxy natively, drives `hey`
against the production frontend (GET /visits, a database read), switches blue -> green at a
third of the run and back at two thirds through HAProxy's runtime API, and prints the requests
sent, the failed ones (the goal is zero) and how long each switch took to take effect.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.local_services import ServiceError, haproxy, postgres, start_service, stop  # noqa: E402


def time_to_take_effect(front_url: str, version: str, started: float, consecutive: int = 20) -> float:
    """Seconds from `started` until `consecutive` responses in a row come from `version`."""
    streak = 0
    while streak < consecutive:
        with urllib.request.urlopen(f"{front_url}/version", timeout=5) as response:
            streak = streak + 1 if version.encode() in response.read() else 0
        if time.monotonic() - started > 30:
            raise ServiceError(f"{version} never took all the traffic")
    return time.monotonic() - started


def parse_hey(output: str) -> dict:
    statuses = {int(code): int(count) for code, count in re.findall(r"\[(\d{3})\]\s+(\d+) responses", output)}
    errors_part = output.split("Error distribution:", 1)[1] if "Error distribution:" in output else ""
    errors = sum(int(n) for n in re.findall(r"^\s+\[(\d+)\]", errors_part, re.M))
    sent = sum(statuses.values()) + errors
    failed = errors + sum(count for code, count in statuses.items() if code >= 500)
    return {"sent": sent, "failed": failed, "statuses": statuses, "connection_errors": errors}


def run(seconds: float = 30, concurrency: int = 20) -> dict:
    if not shutil.which("hey"):
        raise ServiceError("hey not found: install Debian's hey (.ci/run does).")
    with postgres() as db:
        blue_url, blue = start_service(db, "v1")
        green_url, green = start_service(db, "v2")
        try:
            ports = {"blue": int(blue_url.rsplit(":", 1)[1]), "green": int(green_url.rsplit(":", 1)[1])}
            with haproxy(ports, live="blue") as balancer:
                time_to_take_effect(balancer.front_url, "v1", time.monotonic())  # HAProxy answers with blue
                # A fixed number of requests at a fixed rate: `hey -z` would cut the last ones off.
                per_client_qps = 10
                total = int(seconds * concurrency * per_client_qps)
                load = subprocess.Popen(
                    [
                        "hey",
                        "-n",
                        str(total),
                        "-c",
                        str(concurrency),
                        "-q",
                        str(per_client_qps),
                        f"{balancer.front_url}/visits",
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                switches = {}

                def switch(name: str, colour: str, version: str, at: float) -> None:
                    time.sleep(at)
                    started = time.monotonic()
                    balancer.switch_to(colour)
                    switches[name] = time_to_take_effect(balancer.front_url, version, started)

                promote = threading.Thread(target=switch, args=("promote", "green", "v2", seconds / 3))
                promote.start()
                promote.join()
                rollback = threading.Thread(
                    target=switch, args=("rollback", "blue", "v1", seconds / 3 - switches["promote"])
                )
                rollback.start()
                rollback.join()
                output, _ = load.communicate(timeout=seconds + 60)
        finally:
            stop(blue)
            stop(green)
    return {**parse_hey(output), "switch_seconds": switches, "seconds": seconds, "concurrency": concurrency}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    result = run(args.seconds, args.concurrency)
    print(
        f"load: {args.concurrency} clients x 10 requests/s for about {args.seconds:.0f} s through HAProxy (GET /visits)"
    )
    print(f"requests sent:   {result['sent']}")
    print(f"failed requests: {result['failed']} (5xx and connection errors; statuses {result['statuses']})")
    for name, took in result["switch_seconds"].items():
        print(f"{name}: all traffic on the new colour {took * 1000:.0f} ms after the switch")
    return 0 if result["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
