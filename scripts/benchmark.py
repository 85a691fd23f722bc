"""Prints what a promote and a rollback cost on the sandbox: wall time and AWS API calls.

    make sandbox-up && .venv/bin/python scripts/benchmark.py

Empties the sandbox of `make sandbox-up` and provisions it from nothing (timed). The promote runs with
instant health and no bake (bake 0 s, poll 0.5 s), so the figures are the engine's own overhead;
API calls are counted with the emulator's request recorder, leaving out the sandbox harness.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / ".venv" / "bin"
ENDPOINT = os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566").rstrip("/")
DEPLOYMENT_KEY = "SANDBOXACCESSKEY"  # the sandbox inventory's access key; the harness uses another
FAST = ["-e", "switchyard_provision=false", "-e", "switchyard_bake_seconds=0", "-e", "switchyard_poll_seconds=0.5"]


def moto(path: str, method: str = "POST") -> bytes:
    request = urllib.request.Request(f"{ENDPOINT}/moto-api/recorder/{path}", method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def playbook(name: str, *args: str) -> float:
    started = time.monotonic()
    subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            str(REPO / "playbooks" / name),
            "-i",
            str(REPO / "inventories" / "sandbox"),
            *args,
        ],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg")},
    )
    return time.monotonic() - started


def action_of(entry: dict) -> str:
    headers = {k.lower(): v for k, v in entry["headers"].items()}
    if "x-amz-target" in headers:
        return headers["x-amz-target"].split(".")[-1]
    raw = entry.get("body") or ""
    if entry.get("body_encoded"):
        raw = base64.b64decode(raw).decode(errors="replace")
    body = parse_qs(raw)
    return body.get("Action", [entry["method"] + " " + entry["url"].split("?")[0]])[0]


def deployment_calls() -> Counter:
    lines = moto("download-recording", method="GET").decode().splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    ours = [e for e in entries if DEPLOYMENT_KEY in e["headers"].get("Authorization", "")]
    return Counter(action_of(e) for e in ours)


def main() -> int:
    subprocess.run([str(REPO / "scripts" / "sandbox.sh"), "up"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([str(REPO / "scripts" / "sandbox.sh"), "reset"], check=True, stdout=subprocess.DEVNULL)
    provision_wall = playbook("provision.yml")

    tag = time.strftime("bench-%H%M%S")
    playbook("promote.yml", "-e", f"image=registry.sandbox.local/switchyard/app:{tag}-a", *FAST)  # warm-up

    moto("reset-recording")
    moto("start-recording")
    promote_wall = playbook("promote.yml", "-e", f"image=registry.sandbox.local/switchyard/app:{tag}-b", *FAST)
    moto("stop-recording")
    calls = deployment_calls()

    rollback_walls = [playbook("rollback.yml") for _ in range(3)]

    print(f"provision from nothing:            {provision_wall:.1f} s wall")
    print(f"promote (instant health, no bake): {promote_wall:.1f} s wall")
    print(f"AWS API calls in that promote:     {sum(calls.values())}")
    for action, count in calls.most_common():
        print(f"  {count:4d}  {action}")
    print(
        "warm rollback, 3 runs (wall, incl. ansible-playbook start): " + ", ".join(f"{w:.1f} s" for w in rollback_walls)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
