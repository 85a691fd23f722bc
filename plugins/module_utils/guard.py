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

This file is the Lambda's shell only: the judgement is core.guard's, where production goes back
is core.rollback.plan_rollback's (the same function rollback.yml and a promote's rescue use), the
listener is written by module_utils/listener.py (the one writer) and the lease by lease_store.
The Lambda package (module lambda_package) holds this file and the module_utils it imports, none
of which needs Ansible; boto3 comes with Lambda's Python runtime. In the sandbox the harness plays
EventBridge and calls handle() itself (Lambda execution in the emulator needs Docker).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time

from ansible_collections.switchyard.bluegreen.plugins.module_utils.contract import parse, require
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.guard import (
    ACTOR,
    ATTEMPT_SECONDS,
    alarm_colour,
    evidence_from,
    judge,
    with_plan,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.lease import (
    Decision,
    Here,
    Request,
    decide,
    token_of,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.rollback import (
    COLD,
    is_warm,
    plan_rollback,
    promote_journal,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.fence import fence
from ansible_collections.switchyard.bluegreen.plugins.module_utils.lease_store import DynamoStore
from ansible_collections.switchyard.bluegreen.plugins.module_utils.listener import route
from ansible_collections.switchyard.bluegreen.plugins.module_utils.records import (
    RECORD_STREAM,
    latest_from_events,
    stamped,
    to_line,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.traffic import colour_weights

# The records the schema rule reads (core.schema): as many as rollback.yml's cold path reads.
RECORD_HISTORY = 500
# Lambda's runtime hands the root logger's records to CloudWatch Logs; this one says what it decided.
LOG = logging.getLogger("switchyard.guard")
LOG.setLevel(logging.INFO)

# --- the handler (AWS) -----------------------------------------------------------------------


def _client(service):
    import boto3  # noqa: PLC0415 - only the handler needs boto3; the decisions above do not
    from botocore.config import Config  # noqa: PLC0415

    # botocore's adaptive retries, as the modules' (module_utils/aws.py).
    return boto3.client(service, config=Config(retries={"mode": "adaptive", "max_attempts": 10}))


def lambda_handler(event, context):  # noqa: ARG001 - Lambda's signature
    return handle(event, os.environ, _client)


def _service(ecs, elbv2, deployment, colour):
    """(the colour's active service or None, whether it is warm)."""
    name = deployment["service_names"][colour]
    services = ecs.describe_services(cluster=deployment["cluster_name"], services=[name])["services"]
    service = next((s for s in services if s.get("status") == "ACTIVE"), None)
    health = elbv2.describe_target_health(TargetGroupArn=deployment["target_group_arns"][colour])
    healthy = sum(1 for d in health["TargetHealthDescriptions"] if d["TargetHealth"]["State"] == "healthy")
    return service, is_warm(service, healthy)


def _plan(journal, weights, colour, clients, deployment):
    """The one rollback decision (core.rollback.plan_rollback) for colour, as read now. The guard
    only switches to a warm colour; for one that would have to be brought back, its image and the
    records say whether it even could (the schema rule), as rollback.yml's cold path reads them."""
    ecs, elbv2, logs = clients
    service, warm = _service(ecs, elbv2, deployment, colour)
    plan = plan_rollback(journal, weights, {colour: {"warm": warm}})
    if plan.kind == COLD and service:
        task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        colours = {colour: {"warm": warm, "image": task["containerDefinitions"][0]["image"]}}
        plan = plan_rollback(journal, weights, colours, _records(logs, deployment["deployment_log_group"]))
    return plan


def _records(logs, log_group):
    """The deployment records, newest first ([] before the first one)."""
    try:
        events = logs.get_log_events(
            logGroupName=log_group, logStreamName=RECORD_STREAM, limit=RECORD_HISTORY, startFromHead=False
        )["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return latest_from_events(events, RECORD_HISTORY)


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
    evidence = evidence_from(detail.get("state"))
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
    attempt_seconds = float(environ.get("TIMEOUT_SECONDS") or ATTEMPT_SECONDS)
    verdicts = []

    logs = make_client("logs")

    def choose(current):
        """Preempt the lease only if the verdict holds on the item as read now (a conditional write)."""
        verdict = judge(current, weights, alarmed, evidence, now=here.now, attempt_seconds=attempt_seconds)
        if verdict.act:
            verdict = with_plan(verdict, _plan(current, weights, verdict.to_colour, (ecs, elbv2, logs), deployment))
        verdicts.append(verdict)
        if not verdict.act:
            return Decision(lease=current)  # nothing written
        return decide("preempted", current, request, here)

    journal, taken = store.settle(environment, choose)
    verdict = verdicts[-1]
    result = {"alarm": alarm, "environment": environment, "acted": verdict.act, "reason": verdict.reason}
    if not verdict.act:
        LOG.info(json.dumps(dict(result, message=f"{alarm}: the guard changes nothing: {verdict.reason}.")))
        return result

    leaving, to = verdict.from_colour, verdict.to_colour
    arns = deployment["target_group_arns"]
    # The guard's own token fences its writes, as every writer's does.
    lease = {"table": deployment["lease_table"], "environment": environment, "token": token_of(taken.lease)}
    guard_fence = fence(lease, lambda: store.dynamodb, here=lambda: here, aws_retry=False)
    route(elbv2, production_arn, arns, {leaving: 0, to: 100}, fence=guard_fence)
    restored = round(time.time() - started, 3)
    # Bookkeeping: production is back already.
    route(elbv2, deployment["test_listener_arn"], arns, {leaving: 1, to: 0}, fence=guard_fence)
    # What production is sent back from: the promote undone (through an unfinished rollback).
    details = promote_journal(journal).get("details") or {}
    record, _redacted = stamped(
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
    _write_record(logs, deployment["deployment_log_group"], record)
    released = Request(
        environment=environment,
        token=token_of(taken.lease),
        outcome="done",
        details={"from_colour": leaving, "to_colour": to},
    )
    store.settle_state(environment, "released", released, here)
    result.update(from_colour=leaving, to_colour=to, time_to_restore_seconds=restored)
    LOG.info(json.dumps(dict(result, message=f"{alarm}: production sent back from {leaving} to {to}.")))
    return result
