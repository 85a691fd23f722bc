"""Prints what a promote and a rollback cost on the sandbox: wall time and AWS API calls, what the
deployment lease adds to a promote, how long a preempted promote takes to stop, rollback.yml against
a bare boto3 flip of the listener, and how long a crashing release takes to be detected from ALB
metrics delivered as AWS delivers them (60 s buckets, 75 s late).

    make sandbox-up && .venv/bin/python scripts/benchmark.py

Empties the sandbox of `make sandbox-up` and provisions it from nothing (timed). The promote runs with
instant health and no bake (bake 0 s, poll 1 s), so the figures are the engine's own overhead;
API calls are counted with the emulator's request recorder, leaving out the sandbox harness.
Takes about 12 minutes, 4 of them waiting for late metrics.
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
# Issue 12: at most this many AWS calls for a promote with instant health and no bake, everything
# included (the lease, its journal, the record); tests/integration/test_safety.py holds it too.
CALL_BUDGET = 20
FAST = ["-e", "switchyard_provision=false", "-e", "switchyard_bake_seconds=0", "-e", "switchyard_poll_seconds=1"]
HARNESS_SETTINGS = REPO / ".sandbox" / "harness.json"  # read by the harness of sandbox/sandbox.sh
AWS_LIKE = {"period_seconds": 60, "delay_seconds": 75, "requests_per_second": 2000}
# A bare flip: one Python process that reads the production listener and points it at the other
# target group, with nothing else (no lease, no record): the floor a rollback is compared with.
BARE_FLIP = """
import boto3, json, sys
contract = json.loads(boto3.client("ssm").get_parameter(Name=sys.argv[1])["Parameter"]["Value"])
elbv2 = boto3.client("elbv2")
arn = contract["production_listener_arn"]
action = elbv2.describe_listeners(ListenerArns=[arn])["Listeners"][0]["DefaultActions"][0]
groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or [{"TargetGroupArn": action["TargetGroupArn"]}]
live = max(groups, key=lambda g: g.get("Weight", 1))["TargetGroupArn"]
other = next(a for a in contract["target_group_arns"].values() if a != live)
elbv2.modify_listener(ListenerArn=arn, DefaultActions=[{"Type": "forward", "TargetGroupArn": other}])
"""


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


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def bare_flip(parameter: str) -> float:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": ENDPOINT,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "BAREFLIP",
        "AWS_SECRET_ACCESS_KEY": "sandbox-not-a-secret",
    }
    started = time.monotonic()
    subprocess.run([str(BIN / "python"), "-c", BARE_FLIP, parameter], check=True, env=env)
    return time.monotonic() - started


def rollback_against_bare_flip(parameter: str) -> tuple[float, float]:
    """Median wall of 5 rollback.yml and of 5 bare flips, taken in turns (both flip production)."""
    rollbacks, flips = [], []
    for _ in range(5):
        rollbacks.append(playbook("rollback.yml"))
        flips.append(bare_flip(parameter))
    playbook("rollback.yml")  # back on the release the journal names
    return median(rollbacks), median(flips)


def detection(image: str, probes_per_second: int) -> float:
    """Seconds from a crash's onset (the switch) to the watch's verdict, on AWS-like metrics, with
    synthetic probes at that rate (0: metrics alone)."""
    HARNESS_SETTINGS.write_text(json.dumps(AWS_LIKE))
    try:
        time.sleep(2)
        args = ["-e", "switchyard_bake_seconds=60", "-e", "switchyard_metric_period_seconds=60"]
        args += ["-e", f"switchyard_probe_rate_per_second={probes_per_second}"]
        done = subprocess.run(
            command("promote.yml", "-e", f"image={image}", *FAST, *args, "-e", "switchyard_metric_wait_seconds=240"),
            check=False,  # it must fail: the release crashes
            cwd=REPO,
            env=PLAYBOOK_ENV,
            capture_output=True,
            text=True,
        )
    finally:
        HARNESS_SETTINGS.unlink(missing_ok=True)
    if done.returncode == 0:
        raise SystemExit("the crashing release was not detected")
    rates = latest_record()["error_rates"]
    return rates[-1]["verdict_after_seconds"]


def latest_record() -> dict:
    logs = boto3.client(
        "logs", endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    groups = logs.describe_log_groups()["logGroups"]
    group = next(g["logGroupName"] for g in groups if "deployments" in g["logGroupName"])
    events = logs.get_log_events(logGroupName=group, logStreamName="records", startFromHead=False)["events"]
    return json.loads(max(events, key=lambda e: e["timestamp"])["message"])


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
    subprocess.run([str(REPO / "sandbox" / "sandbox.sh"), "up"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([str(REPO / "sandbox" / "sandbox.sh"), "reset"], check=True, stdout=subprocess.DEVNULL)
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

    rollback_wall, flip_wall = rollback_against_bare_flip("/switchyard/switchyard-sandbox/deployment")
    table = report_contract_table(report)
    stop_after, preempting_rollback = preempted_stop(f"registry.sandbox.local/switchyard/app:{tag}-c", table)
    by_metrics = detection(f"registry.sandbox.local/switchyard/app:{tag}-d-crash", probes_per_second=0)
    by_probes = detection(f"registry.sandbox.local/switchyard/app:{tag}-e-crash", probes_per_second=5)

    print(f"provision from nothing:            {provision_wall:.1f} s wall")
    print(f"promote (instant health, no bake): {promote_wall:.1f} s wall")
    total = sum(calls.values())
    print(
        f"AWS API calls in that promote:     {total}, budget {CALL_BUDGET}"
        f" ({total - lease_calls} without the lease and its journal)"
    )
    for action, count in calls.most_common():
        print(f"  {count:4d}  {action}")
    print(
        f"warm rollback.yml, median of 5: {rollback_wall:.2f} s wall; bare boto3 flip, median of 5:"
        f" {flip_wall:.2f} s; ratio {rollback_wall / flip_wall:.1f}x"
    )
    print(
        f"the deployment lease in that promote:  {lease_calls} DynamoDB calls, {lease_seconds(report):.1f} s of tasks"
    )
    print(
        f"a promote preempted while baking stops {stop_after:.1f} s after rollback.yml starts"
        f" (that rollback: {preempting_rollback:.1f} s wall)"
    )
    print("a crashing release, ALB metrics in 60 s buckets 75 s late, detected after its onset:")
    print(f"  by the metrics alone:              {by_metrics:.1f} s")
    print(f"  by synthetic probes (5 a second):  {by_probes:.1f} s")
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
