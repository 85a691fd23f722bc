"""Prints what a promote and a rollback cost on the sandbox: wall time and AWS API calls, what the
deployment lease adds to a promote, and how long a preempted promote takes to stop.

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
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs

import boto3

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / ".venv" / "bin"
ENDPOINT = os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566").rstrip("/")
DEPLOYMENT_KEY = "SANDBOXACCESSKEY"  # the sandbox inventory's access key; the harness uses another
FAST = ["-e", "switchyard_provision=false", "-e", "switchyard_bake_seconds=0", "-e", "switchyard_poll_seconds=0.5"]


def moto(path: str, method: str = "POST") -> bytes:
    request = urllib.request.Request(f"{ENDPOINT}/moto-api/recorder/{path}", method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def command(name: str, *args: str) -> list[str]:
    return [
        str(BIN / "ansible-playbook"),
        str(REPO / "playbooks" / name),
        "-i",
        str(REPO / "inventories" / "sandbox"),
        *args,
    ]


PLAYBOOK_ENV = {
    **os.environ,
    "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
    "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
    "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
}


def playbook(name: str, *args: str) -> float:
    return playbook_report(name, *args)[0]


def playbook_report(name: str, *args: str) -> tuple[float, dict]:
    """Wall seconds and the JSON callback's report of one run."""
    started = time.monotonic()
    done = subprocess.run(command(name, *args), cwd=REPO, check=True, capture_output=True, text=True, env=PLAYBOOK_ENV)
    return time.monotonic() - started, json.loads(done.stdout[done.stdout.index("{") :])


def lease_seconds(report: dict) -> float:
    """Seconds spent in the lease's own tasks (acquire, heartbeats and journal, release)."""
    total = 0.0
    for play in report["plays"]:
        for task in play["tasks"]:
            if "deployment lease" in task["task"]["name"] or task["task"]["name"].startswith("Journal"):
                duration = task["task"]["duration"]
                total += _seconds(duration["end"]) - _seconds(duration["start"])
    return total


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def lease_phase(table: str) -> str:
    item = boto3.client(
        "dynamodb", endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    ).get_item(TableName=table, Key={"environment": {"S": "sandbox"}}, ConsistentRead=True)
    return (item.get("Item") or {}).get("phase", {}).get("S", "")


def preempted_stop(image: str, table: str) -> tuple[float, float]:
    """Seconds from rollback.yml's start to the end of the promote it preempts (baking), and the rollback's wall."""
    promote = subprocess.Popen(
        command("promote.yml", "-e", f"image={image}", *FAST, "-e", "switchyard_bake_seconds=120"),
        cwd=REPO,
        env=PLAYBOOK_ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while lease_phase(table) != "baking 100":
        if promote.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the promote to preempt never reached its bake")
        time.sleep(0.1)
    started = time.monotonic()
    rollback_wall = playbook("rollback.yml")
    promote.wait(timeout=300)
    return time.monotonic() - started, rollback_wall


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
    promote_wall, report = playbook_report(
        "promote.yml", "-e", f"image=registry.sandbox.local/switchyard/app:{tag}-b", *FAST
    )
    moto("stop-recording")
    calls = deployment_calls()
    lease_calls = sum(count for action, count in calls.items() if action in ("GetItem", "PutItem", "UpdateItem"))

    rollback_walls = [playbook("rollback.yml") for _ in range(3)]
    table = report_contract_table(report)
    stop_after, preempting_rollback = preempted_stop(f"registry.sandbox.local/switchyard/app:{tag}-c", table)

    print(f"provision from nothing:            {provision_wall:.1f} s wall")
    print(f"promote (instant health, no bake): {promote_wall:.1f} s wall")
    print(f"AWS API calls in that promote:     {sum(calls.values())}")
    for action, count in calls.most_common():
        print(f"  {count:4d}  {action}")
    print(
        "warm rollback, 3 runs (wall, incl. ansible-playbook start): " + ", ".join(f"{w:.1f} s" for w in rollback_walls)
    )
    print(
        f"the deployment lease in that promote:  {lease_calls} DynamoDB calls, {lease_seconds(report):.1f} s of tasks"
    )
    print(
        f"a promote preempted while baking stops {stop_after:.1f} s after rollback.yml starts"
        f" (that rollback: {preempting_rollback:.1f} s wall)"
    )
    return 0


def report_contract_table(report: dict) -> str:
    """The lease table the promote's contract named."""
    for play in report["plays"]:
        for task in play["tasks"]:
            facts = task["hosts"].get("localhost", {}).get("ansible_facts", {})
            if "lease_table" in facts.get("traffic_deployment", {}):
                return facts["traffic_deployment"]["lease_table"]
    raise SystemExit("the promote's report names no lease table")


if __name__ == "__main__":
    sys.exit(main())
