# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guard: a rollback that lives in AWS, for as long as a rollback is instant.

CloudWatch alarms on the colours (target 5xx, the load balancer's own 5xx, unhealthy hosts) go
through EventBridge to a Lambda function of the stack (infrastructure/modules/guard) whose handler
is lambda_handler below. When an alarm fires while the colour the last promote started from is
still warm (during the bake, even if the runner died, and through the standby window), the guard
does what rollback.yml's fast path does: it takes the deployment lease over, sends production
back to that colour, points the test listener at the colour it left, writes a record and lets the
lease go. Otherwise (no promote to undo, a rollback or finalize at work, the old colour scaled
down by finalize, an alarm on a colour production does not reach) it changes nothing: the alarm
only alerts.

The Lambda package (module lambda_package) holds this file and the module_utils it imports, none
of which needs Ansible; boto3 comes with Lambda's Python runtime. In the sandbox the harness plays
EventBridge and calls handle() itself (Lambda execution in the emulator needs Docker).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime

from ansible_collections.switchyard.bluegreen.plugins.module_utils.contract import parse, require
from ansible_collections.switchyard.bluegreen.plugins.module_utils.lease import (
    Decision,
    DynamoStore,
    Here,
    Request,
    decide,
    is_held,
    token_of,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.records import stamped, to_line
from ansible_collections.switchyard.bluegreen.plugins.module_utils.rollback import (
    UNDONE_OUTCOMES,
    is_warm,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.traffic import colour_weights, plan_changes

ACTOR = "switchyard-guard"
RECORD_STREAM = "records"  # the stream of module_utils/aws.py's deployment records


# --- the decision (pure) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """Whether the guard sends production back (act), from which colour to which, and why."""

    act: bool
    reason: str
    from_colour: str | None = None
    to_colour: str | None = None


def alarm_colour(metrics, target_group_arn_suffixes):
    """The colour an alarm watches (its TargetGroup dimension), or None for a per load balancer
    alarm (the load balancer's own 5xx), which is laid on the colour the last promote moved to.

    metrics: the alarm's configuration.metrics of the EventBridge event."""
    by_suffix = {suffix: colour for colour, suffix in target_group_arn_suffixes.items()}
    for metric in metrics or []:
        dimensions = ((metric.get("metricStat") or {}).get("metric") or {}).get("dimensions") or {}
        if dimensions.get("TargetGroup") in by_suffix:
            return by_suffix[dimensions["TargetGroup"]]
    return None


def evidence_from(state):
    """When the data that fired an alarm begins (epoch seconds): the earliest of the evaluated
    datapoints CloudWatch names in the event's state.reasonData; None when it names none."""
    try:
        reason = json.loads((state or {}).get("reasonData") or "{}")
    except ValueError:
        return None
    stamps = [point.get("timestamp") for point in reason.get("evaluatedDatapoints") or []]
    parsed = [datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() for stamp in stamps if stamp]
    return min(parsed) if parsed else None


def judge(journal, weights, alarmed, since=None):  # noqa: PLR0911 - one return per reason to stand aside
    """The verdict before warmth is known: Verdict(act=True) means "act if to_colour is warm".

    journal: the lease item (the last run's journal); weights: {colour: production weight};
    alarmed: the colour the alarm watches, or None (per load balancer); since: when the data that
    fired the alarm begins (evidence_from), or None."""
    journal = journal or {}
    operation = journal.get("operation")
    if operation != "promote":
        running = " (in flight)" if is_held(journal) else ""
        return Verdict(False, f"the last run is a {operation or 'nothing'}{running}, not a promote to undo")
    details = journal.get("details") or {}
    to, leaving = details.get("from_colour"), details.get("to_colour")
    if not to or not leaving:
        return Verdict(False, "the promote has not named its colours yet: production has not moved")
    if journal.get("outcome") in UNDONE_OUTCOMES:
        return Verdict(False, f"the last promote ended {journal['outcome']}: traffic is already back")
    if weights.get(leaving, 0) <= 0:
        return Verdict(False, f"production does not reach {leaving}: nothing to send back")
    if alarmed and alarmed != leaving:
        return Verdict(False, f"the alarm watches {alarmed}, not {leaving}, where the last promote sent traffic")
    switched_at = details.get("switched_at")
    if not alarmed and since is not None and switched_at and since < float(switched_at):
        # Per load balancer: data from before the switch are the previous colour's (a release
        # that replaces a crashed one), not this release's.
        return Verdict(False, f"the load balancer's 5xx that fired it began before {leaving} took traffic")
    return Verdict(True, f"{leaving} alarmed while {to} may still be warm", from_colour=leaving, to_colour=to)


def with_warmth(verdict, warm):
    """The final verdict once whether verdict.to_colour is warm is known."""
    if not verdict.act or warm:
        return verdict
    return Verdict(
        False,
        f"{verdict.to_colour} is not warm (scaled down by finalize, or no healthy target): a rollback would not"
        " be instant, so the alarm only alerts; run playbooks/rollback.yml",
        verdict.from_colour,
        verdict.to_colour,
    )


# --- the handler (AWS) -----------------------------------------------------------------------


def _client(service):
    import boto3  # noqa: PLC0415 - only the handler needs boto3; the decisions above do not
    from botocore.config import Config  # noqa: PLC0415

    # botocore's adaptive retries, as the modules' (module_utils/aws.py).
    return boto3.client(service, config=Config(retries={"mode": "adaptive", "max_attempts": 10}))


def lambda_handler(event, context):  # noqa: ARG001 - Lambda's signature
    return handle(event, os.environ, _client)


def _managed_route(elbv2, listener_arn, deployment, weights):
    """Move the listener's managed forwards to weights ({colour: weight}); whether it changed."""
    rules = elbv2.get_paginator("describe_rules").paginate(ListenerArn=listener_arn).build_full_result()["Rules"]
    # The default rule carries the listener's default actions: one call reads both.
    default = next((rule for rule in rules if rule.get("IsDefault")), None)
    if default is None:
        raise RuntimeError(f"listener {listener_arn} has no default rule: nothing was changed")
    listener = {"ListenerArn": listener_arn, "DefaultActions": default["Actions"]}
    arns = deployment["target_group_arns"]
    changes = plan_changes(listener, rules, {arns[c]: w for c, w in weights.items()}, list(arns.values()))
    for arn, kind, actions in changes:
        if kind == "listener":
            elbv2.modify_listener(ListenerArn=arn, DefaultActions=actions)
        else:
            elbv2.modify_rule(RuleArn=arn, Actions=actions)
    return bool(changes)


def _warm(ecs, elbv2, deployment, colour):
    name = deployment["service_names"][colour]
    services = ecs.describe_services(cluster=deployment["cluster_name"], services=[name])["services"]
    service = next((s for s in services if s.get("status") == "ACTIVE"), None)
    health = elbv2.describe_target_health(TargetGroupArn=deployment["target_group_arns"][colour])
    healthy = sum(1 for d in health["TargetHealthDescriptions"] if d["TargetHealth"]["State"] == "healthy")
    return is_warm(service, healthy)


def _write_record(logs, log_group, record):
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):  # the first record made it
        logs.create_log_stream(logGroupName=log_group, logStreamName=RECORD_STREAM)
    logs.put_log_events(
        logGroupName=log_group,
        logStreamName=RECORD_STREAM,
        logEvents=[{"timestamp": int(time.time() * 1000), "message": to_line(record)}],
    )


# The contract's keys the guard reads.
GUARD_KEYS = (
    "environment",
    "cluster_name",
    "service_names",
    "production_listener_arn",
    "test_listener_arn",
    "target_group_arns",
    "target_group_arn_suffixes",
    "lease_table",
    "deployment_log_group",
)


def handle(event, environ, make_client):
    """Act on one "CloudWatch Alarm State Change" event; what was decided, as a dict.

    environ: DEPLOYMENT_PARAMETER (the SSM parameter of the contract); make_client(service)
    returns a boto3 client."""
    started = time.time()
    detail = event.get("detail") or {}
    alarm = detail.get("alarmName")
    if (detail.get("state") or {}).get("value") != "ALARM":
        return {"alarm": alarm, "acted": False, "reason": "not an alarm going to ALARM"}
    parameter = environ["DEPLOYMENT_PARAMETER"]
    ssm = make_client("ssm")
    # Everything the guard will use, checked before it takes the lease: a contract it cannot act
    # on must never leave the lease saying "rollback" with the listener unmoved.
    deployment = require(
        parse(ssm.get_parameter(Name=parameter)["Parameter"]["Value"], parameter), GUARD_KEYS, parameter
    )
    elbv2 = make_client("elbv2")
    production_arn = deployment["production_listener_arn"]
    production = elbv2.describe_listeners(ListenerArns=[production_arn])["Listeners"][0]
    weights = colour_weights(production["DefaultActions"], deployment["target_group_arns"])
    alarmed = alarm_colour((detail.get("configuration") or {}).get("metrics"), deployment["target_group_arn_suffixes"])
    since = evidence_from(detail.get("state"))
    store = DynamoStore(make_client("dynamodb"), deployment["lease_table"], aws_retry=False)
    environment = deployment["environment"]
    ecs = make_client("ecs")
    host = environ.get("AWS_LAMBDA_FUNCTION_NAME") or socket.gethostname()
    request = Request(
        environment=environment,
        operation="rollback",
        holder={"actor": ACTOR, "run_id": alarm, "host": host},
        phase="restoring",
        details={"trigger": alarm},
    )
    here = Here(now=round(time.time(), 3), host=host)
    verdicts = []

    def choose(current):
        """Preempt the lease only if the verdict holds on the item as read now (a conditional write)."""
        verdict = judge(current, weights, alarmed, since)
        if verdict.act:
            verdict = with_warmth(verdict, _warm(ecs, elbv2, deployment, verdict.to_colour))
        verdicts.append(verdict)
        if not verdict.act:
            return Decision(lease=current)  # nothing written
        return decide("preempted", current, request, here)

    journal, taken = store.settle(environment, choose)
    verdict = verdicts[-1]
    result = {"alarm": alarm, "environment": environment, "acted": verdict.act, "reason": verdict.reason}
    if not verdict.act:
        print(json.dumps(dict(result, message=f"{alarm}: the guard changes nothing: {verdict.reason}.")))
        return result

    leaving, to = verdict.from_colour, verdict.to_colour
    _managed_route(elbv2, production_arn, deployment, {leaving: 0, to: 100})
    restored = round(time.time() - started, 3)
    # Bookkeeping: production is back already.
    _managed_route(elbv2, deployment["test_listener_arn"], deployment, {leaving: 1, to: 0})
    details = journal.get("details") or {}
    record, _ = stamped(
        dict(
            environment=environment,
            actor=ACTOR,
            kind="rollback",
            trigger=alarm,
            reason=verdict.reason,
            image=details.get("previous_image"),
            previous_image=details.get("image"),
            from_colour=leaving,
            to_colour=to,
            rollback_kind="warm",
            outcome="succeeded",
            time_to_restore_seconds=restored,
            preempted=taken.preempted,
        )
    )
    _write_record(make_client("logs"), deployment["deployment_log_group"], record)
    released = Request(
        environment=environment,
        token=token_of(taken.lease),
        outcome="done",
        details={"from_colour": leaving, "to_colour": to},
    )
    store.settle_state(environment, "released", released, here)
    result.update(from_colour=leaving, to_colour=to, time_to_restore_seconds=restored)
    print(json.dumps(dict(result, message=f"{alarm}: production sent back from {leaving} to {to}.")))
    return result
