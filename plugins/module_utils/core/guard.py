# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guard's judgement of an alarm (pure): whether it may send production back, before the
one rollback decision (core.rollback.plan_rollback) says where and how. The handler is
module_utils/guard.py."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.lease import is_held
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.rollback import (
    REFUSED,
    UNDONE_OUTCOMES,
    WARM,
    promote_journal,
    unfinished_rollback,
)

# Who the guard is in the lease (its holder's actor).
ACTOR = "switchyard-guard"
# The Lambda function's timeout when its environment does not say (TIMEOUT_SECONDS, set by
# infrastructure/modules/guard): a rollback of the guard held longer than this is an attempt that
# died (Lambda retries the event later), not one still at work.
ATTEMPT_SECONDS = 60


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
    """The earliest period of data that fired an alarm, (start, end) in epoch seconds: the first
    of the evaluated datapoints CloudWatch names in the event's state.reasonData, and its period;
    None when it names none."""
    try:
        reason = json.loads((state or {}).get("reasonData") or "{}")
    except ValueError:
        return None
    stamps = [point.get("timestamp") for point in reason.get("evaluatedDatapoints") or []]
    parsed = [datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() for stamp in stamps if stamp]
    if not parsed:
        return None
    return min(parsed), min(parsed) + float(reason.get("period") or 0)


def judge(journal, weights, alarmed, evidence=None, *, now=None, attempt_seconds=ATTEMPT_SECONDS):  # noqa: PLR0911
    """The verdict before warmth is known: Verdict(act=True) means "act if to_colour is warm".

    journal: the lease item (the last run's journal); weights: {colour: production weight};
    alarmed: the colour the alarm watches, or None (per load balancer); evidence: the earliest
    period of the data that fired the alarm, (start, end) (evidence_from), or None; now: epoch
    seconds (whether a lease expired); attempt_seconds: the Lambda's timeout (how long an attempt
    of the guard itself may hold the lease).

    A rollback that did not finish (it failed, or its runner died, or it was the guard's own
    attempt, which Lambda retries) is finished: its promote is undone. A live one is left alone."""
    journal = journal or {}
    if unfinished_rollback(journal):
        if is_held(journal) and not _dead(journal, now, attempt_seconds):
            return Verdict(False, "a rollback is at work (in flight): it sends production back itself")
        journal = promote_journal(journal)
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
    if evidence and switched_at and evidence[1] <= float(switched_at):
        # Every evaluated period breached, and the first ended before this release took traffic:
        # the alarm rests on the previous occupant's data (the colour's crashed release a fix
        # replaces, or, per load balancer, the previous colour), not on this release's.
        return Verdict(False, f"the data that fired it began before {leaving} took this release's traffic")
    return Verdict(True, f"{leaving} alarmed while {to} may still be warm", from_colour=leaving, to_colour=to)


def _dead(lease, now, attempt_seconds):
    """Whether a held lease's run is gone: expired, or the guard's own attempt past its timeout."""
    if now is None:
        return False
    if float(lease.get("expires") or 0) < now:
        return True
    mine = (lease.get("holder") or {}).get("actor") == ACTOR
    return mine and now - float(lease.get("heartbeat") or lease.get("started") or now) > attempt_seconds


def with_plan(verdict, plan):
    """The final verdict once the one rollback decision (core.rollback.plan_rollback) is known: the
    guard acts only when it is warm, a rollback of one listener change."""
    if not verdict.act or plan.kind == WARM:
        return verdict
    if plan.kind == REFUSED:
        return Verdict(False, plan.reason, verdict.from_colour, verdict.to_colour)
    return Verdict(
        False,
        f"{verdict.to_colour} is not warm (scaled down by finalize, or no healthy target): a rollback would not"
        " be instant, so the alarm only alerts; run playbooks/rollback.yml",
        verdict.from_colour,
        verdict.to_colour,
    )
