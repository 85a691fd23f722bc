# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deployment lease's decisions: pure functions of (the current item, the request, what this
machine knows), the same for DynamoDB, the lock file and the guard. No I/O here: the stores
(lease_store) read and write, lease_holder says who and where this run is, fence checks a run
still holds its token right before a write.

An item (see DOCUMENTATION of deployment_lease for every field) says who holds an environment,
for which operation, in which phase, until when, and carries a fencing token that grows by one
on every acquisition, takeover or preemption. A rollback always takes the lease over (preemption).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.redact import redact

OPERATIONS = ("promote", "rollback", "finalize")
STATES = ("acquired", "preempted", "held", "released")
ACQUIRED, HELD, RELEASED = "acquired", "held", "released"
LEASE_SECONDS = 900
# DynamoDB's TTL attribute: an item vanishes 90 days after its last heartbeat.
TTL_SECONDS = 90 * 24 * 3600
# A conditional write that finds another token reads and decides again, at most this many times.
CONFLICT_RETRIES = 3
# How a user breaks a live lease from the playbooks.
BREAK_LEASE_HINT = "-e switchyard_break_lease=true"
FIELDS = (
    "environment",
    "token",
    "state",
    "operation",
    "phase",
    "holder",
    "started",
    "heartbeat",
    "expires",
    "ttl",
    "details",
    "outcome",
    "preempted",
    "preempted_by",
    "took_over",
    "undoes",
)


class LeaseError(Exception):
    """A failure of the lease or its store; its text is the whole message for the user."""


class LeaseLost(LeaseError):
    """The run no longer holds the lease (another run took it, or it was released): lease is the item as read."""

    def __init__(self, message, lease=None):
        super().__init__(message)
        self.lease = shown(lease)


def shown(item):
    """item as runs show it: without the kept revisions (task definitions, large; the state read's
    alone)."""
    return None if item is None else {key: value for key, value in item.items() if key != "revisions"}


@dataclass(frozen=True)
class Here:
    """What this machine knows when deciding: the time, its name, whether a pid is a live play."""

    now: float
    host: str
    alive: Callable[[int], bool] = lambda pid: True


# --- the decisions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """What a run asks of the lease of one environment."""

    environment: str
    operation: str | None = None
    holder: dict = field(default_factory=dict)  # actor, run_id, host, pid
    token: int | None = None
    phase: str | None = None
    details: dict = field(default_factory=dict)
    outcome: str | None = None
    lease_seconds: int = LEASE_SECONDS
    break_lease: bool = False
    # Check mode: the run's acquisition was only predicted, so its token is above the stored one.
    check_mode: bool = False
    # Released by a promote: the revisions the services run (ARN, number, body, tags), kept for the
    # next run's state read. Only a promote's release writes them (the guard's role may not); None
    # leaves those kept so far, and a takeover that writes the whole item drops them.
    revisions: list | None = None


@dataclass(frozen=True)
class Decision:
    """What to do with the lease: write lease (the item after), or fail with failure."""

    lease: dict | None  # the item after; the current one when nothing is written
    write: bool = False
    took_over: dict | None = None
    preempted: dict | None = None
    lost: bool = False
    failure: str | None = None
    warning: str | None = None


def token_of(item):
    return int(item["token"]) if item else 0


def is_held(item):
    return bool(item) and item.get("state") == HELD


def holds(item, token):
    """Whether item is held with exactly token."""
    return is_held(item) and token is not None and token_of(item) == int(token)


def is_expired(item, now):
    return bool(item) and float(item["expires"]) < now


def playbook_gone(item, here):
    """Whether the holder ran on this machine and its ansible-playbook is no longer running."""
    holder = item.get("holder") or {}
    pid = holder.get("pid")
    return holder.get("host") == here.host and pid is not None and not here.alive(int(pid))


def stale_reason(item, request, here):
    """Why a held lease may be taken over without asking: expired, interrupted, or None (live)."""
    if is_expired(item, here.now):
        return "expired"
    if playbook_gone(item, here) and (item.get("holder") or {}).get("actor") == request.holder.get("actor"):
        return "interrupted"
    return None


def _ttl(now):
    return int(now) + TTL_SECONDS


def _details(request, base=None):
    """base details with the request's merged in, secrets redacted."""
    return redact({**(base or {}), **(request.details or {})})[0]


def new_lease(current, request, now, **extra):
    """The item of a new holder: the next token, held from now for lease_seconds."""
    lease = {
        "environment": request.environment,
        "token": token_of(current) + 1,
        "state": HELD,
        "operation": request.operation,
        "phase": request.phase or "started",
        "holder": dict(request.holder),
        "started": now,
        "heartbeat": now,
        "expires": now + request.lease_seconds,
        "ttl": _ttl(now),
        "details": _details(request),
        "outcome": None,
        "preempted": None,
        "preempted_by": None,
        "took_over": None,
        "undoes": None,
    }
    lease.update(extra)
    return lease


def summary(item):
    """Who held item, for what, how far: the took_over and preempted records."""
    return {
        "holder": item.get("holder"),
        "operation": item.get("operation"),
        "phase": item.get("phase"),
        "token": token_of(item),
    }


def acquire(current, request, here):
    """state=acquired: a free or stale lease is taken (token + 1); a live one is refused."""
    if not is_held(current):
        return Decision(lease=new_lease(current, request, here.now), write=True)
    reason = stale_reason(current, request, here) or ("broken" if request.break_lease else None)
    if reason is None:
        return Decision(lease=current, failure=refusal_message(current, request, here))
    took_over = dict(summary(current), reason=reason)
    return Decision(
        lease=new_lease(current, request, here.now, took_over=took_over),
        write=True,
        took_over=took_over,
        warning=takeover_warning(current, reason, here),
    )


# A promote that ended so has nothing left to undo: traffic is already where it started.
UNDONE_OUTCOMES = ("rolled_back", "failed", "preempted", "unchanged")


def undoes(current):
    """What a rollback that takes the lease current over undoes: current's promote (in flight,
    interrupted or done) with its journal, or what current, a rollback that did not finish, was
    undoing; None. Kept in the rollback's lease, so a rollback that fails or dies leaves the next
    one (an operator's, or the guard's retry) what to finish."""
    current = current or {}
    if current.get("operation") == "promote" and current.get("outcome") not in UNDONE_OUTCOMES:
        return dict(summary(current), details=current.get("details") or {})
    if current.get("operation") == "rollback" and current.get("outcome") != "done":
        return current.get("undoes") or current.get("preempted")
    return None


def preempt(current, request, here):
    """state=preempted (rollback): the lease is taken whatever its state (token + 1)."""
    if not is_held(current):
        return Decision(lease=new_lease(current, request, here.now, undoes=undoes(current)), write=True)
    # With its journal (image, from and to colour): a rollback that fails after this takeover leaves
    # the next one what to undo.
    preempted = dict(summary(current), details=current.get("details") or {})
    preempted_by = {"holder": dict(request.holder), "operation": request.operation, "at": here.now}
    return Decision(
        lease=new_lease(
            current, request, here.now, preempted=preempted, preempted_by=preempted_by, undoes=undoes(current)
        ),
        write=True,
        preempted=preempted,
        warning=preemption_warning(current, request),
    )


def as_predicted(current, request, here):
    """current, or in check mode the lease as this run's predicted (unwritten) acquisition left it.

    Tokens only grow, so a token above the stored one was never issued: in check mode it is the
    one an earlier acquired or preempted of the same run predicted.
    """
    if not (request.check_mode and request.token is not None and int(request.token) > token_of(current)):
        return current
    return dict(current or new_lease(None, request, here.now), token=int(request.token), state=HELD)


def heartbeat(current, request, here):
    """state=held: the holder of token renews the lease (and moves the phase); anyone else has lost it."""
    current = as_predicted(current, request, here)
    if not holds(current, request.token):
        return Decision(lease=current, lost=True, failure=lost_message(current, request))
    lease = dict(
        current,
        heartbeat=here.now,
        expires=here.now + request.lease_seconds,
        ttl=_ttl(here.now),
        details=_details(request, current.get("details")),
    )
    if request.phase:
        lease["phase"] = request.phase
    return Decision(lease=lease, write=True)


def release(current, request, here):
    """state=released: the holder of token lets go; a run that lost the lease changes nothing."""
    current = as_predicted(current, request, here)
    if current and current.get("state") == RELEASED and token_of(current) == request.token:
        return Decision(lease=current)  # released already, by this run
    if not holds(current, request.token):
        return Decision(lease=current, lost=True)
    lease = dict(
        current,
        state=RELEASED,
        phase=request.phase or request.outcome or current.get("phase"),
        outcome=request.outcome,
        heartbeat=here.now,
        expires=here.now,
        ttl=_ttl(here.now),
        details=_details(request, current.get("details")),
    )
    if request.revisions is not None:
        lease["revisions"] = request.revisions
    return Decision(lease=lease, write=True)


DECIDE = {"acquired": acquire, "preempted": preempt, "held": heartbeat, "released": release}


def decide(state, current, request, here):
    """The decision for state (acquired, preempted, held, released) given the current item."""
    return DECIDE[state](current, request, here)


def status(item, here):
    """What deployment_lease_info returns about item (None when there is no lease)."""
    if not item:
        return {
            "lease": None,
            "held": False,
            "expired": False,
            "age_seconds": None,
            "interrupted": False,
            "in_flight": False,
        }
    held = is_held(item)
    expired = is_expired(item, here.now)
    interrupted = held and (expired or playbook_gone(item, here))
    return {
        "lease": shown(item),
        "held": held,
        "expired": expired,
        "age_seconds": int(here.now - float(item["started"])),
        "interrupted": interrupted,
        "in_flight": held and not interrupted,
    }


# --- messages --------------------------------------------------------------------------------


def utc(epoch):
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(epoch)))


def _who(item):
    holder = item.get("holder") or {}
    return (
        f"{holder.get('actor') or 'an unknown actor'} on {holder.get('host') or 'an unknown host'}"
        f" (run {holder.get('run_id') or 'unknown'}, token {token_of(item)})"
    )


def refusal_message(item, request, here):
    """Why acquired is refused on a live lease, and the three ways on."""
    started, expires = float(item["started"]), float(item["expires"])
    message = (
        f"The deployment lease of {item['environment']} is held by {_who(item)} for {item.get('operation')},"
        f" phase {item.get('phase')}, started {int(here.now - started)} s ago;"
        f" it expires at {utc(expires)} ({int(expires - here.now)} s from now)."
    )
    if playbook_gone(item, here):
        holder = item.get("holder") or {}
        message += (
            f" Its ansible-playbook (pid {holder.get('pid')}) no longer runs on this machine, but it was"
            f" {holder.get('actor')}'s run, not {request.holder.get('actor')}'s."
        )
    return (
        f"{message} To go on: wait until it expires; or run playbooks/rollback.yml, which always takes"
        f" the lease over; or, if you know the holder is dead, pass {BREAK_LEASE_HINT}. Nothing was changed."
    )


def _my_operation(item, request):
    """The operation of the run of request.token: asked, or as the item that replaced it recorded it."""
    if request.operation:
        return request.operation
    for replaced in (item or {}).get("preempted"), (item or {}).get("took_over"):
        if replaced and replaced.get("token") == request.token and replaced.get("operation"):
            return replaced["operation"]
    return "This run"


def lost_message(item, request):
    """Why a run that no longer holds the lease stops (state held)."""
    mine = _my_operation(item, request)
    environment = request.environment
    if not item:
        return (
            f"{mine} lost the deployment lease of {environment}: the lease (token {request.token}) no longer"
            " exists; this run changes nothing more."
        )
    if token_of(item) == request.token:
        return (
            f"{mine} no longer holds the deployment lease of {environment}: token {request.token} was released"
            f" ({item.get('outcome') or item.get('phase')}) at {utc(item['heartbeat'])}; this run changes nothing more."
        )
    holder = item.get("holder") or {}
    operation = item.get("operation")
    taken = f" (released since: {item.get('outcome') or item.get('phase')})" if item.get("state") == RELEASED else ""
    return (
        f"{mine} lost the deployment lease of {environment}: {holder.get('actor')} took it for {operation}"
        f" (token {token_of(item)}) at {utc(item['started'])}{taken}; production is in the {operation}'s hands;"
        " this run changes nothing more."
    )


def takeover_warning(item, reason, here):
    why = {
        "expired": f"it expired at {utc(item['expires'])} ({int(here.now - float(item['expires']))} s ago)",
        "interrupted": f"its ansible-playbook (pid {(item.get('holder') or {}).get('pid')}) no longer runs here",
        "broken": f"break_lease was set, although it was live until {utc(item['expires'])}",
    }[reason]
    return (
        f"Took over the deployment lease of {item['environment']} from {_who(item)}: {why}. That run was in"
        f" {item.get('operation')}, phase {item.get('phase')}; it may have left the environment half way."
    )


def preemption_warning(item, request):
    return (
        f"{request.operation or 'This run'} preempted {_who(item)} on the deployment lease of"
        f" {item['environment']}; its {item.get('operation')} (phase {item.get('phase')}) stops at its next check."
    )


# --- values ----------------------------------------------------------------------------------


def plain(value):
    """value with DynamoDB's Decimals as int (integral) or float, at any depth."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    return value


def holder_changes(state, request, here):
    """What a heartbeat (held) or release of the lease's holder sets: (top-level fields, details),
    exactly what heartbeat() and release() make of any item held with request.token."""
    fields = {"heartbeat": here.now, "ttl": _ttl(here.now)}
    if state == HELD:
        fields["expires"] = here.now + request.lease_seconds
        if request.phase:
            fields["phase"] = request.phase
    else:
        fields.update(state=RELEASED, outcome=request.outcome, expires=here.now)
        if request.phase or request.outcome:
            fields["phase"] = request.phase or request.outcome
        if request.revisions is not None:
            fields["revisions"] = request.revisions
    return fields, _details(request)


def lost_reason(item, environment, token):
    """None while the run of token still holds the lease; else why it stops (the lost message)."""
    if holds(item, token):
        return None
    return lost_message(item, Request(environment=environment, token=int(token)))
