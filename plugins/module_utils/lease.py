# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deployment lease: one item per environment, the same semantics in DynamoDB and in a file.

An item (see DOCUMENTATION of deployment_lease for every field) says who holds an environment,
for which operation, in which phase, until when, and carries a fencing token that grows by one
on every acquisition, takeover or preemption. Every mutating step of a run checks it still holds
its token; a rollback always takes the lease over (preemption).

The decisions are pure functions of (the current item, the request, what this machine knows):
acquire, preempt, heartbeat (state held) and release. A store applies a decision with a
conditional write on the token it read:
  - DynamoStore (AWS): GetItem (consistent), decide, PutItem on the condition that the token is
    still the one read; on ConditionalCheckFailedException it reads and decides again. Acquiring a
    lease nobody holds is one UpdateItem on that condition, adding one to the token. A heartbeat
    or release of the run that holds the lease is one UpdateItem on the condition that the item is
    still held with its token (its changes do not depend on the rest of the item); when the
    condition fails, it reads and decides as above (the run has lost the lease, or released it).
  - FileStore (development environment): a JSON file {environment: item}; read-decide-write under
    an exclusive flock of a lock file beside it; written atomically (temporary file, os.replace).
"""

from __future__ import annotations

import getpass
import json
import os
import re
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

try:
    import fcntl
except ImportError:  # not POSIX: the file backend says so when used
    fcntl = None

try:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
    from botocore.exceptions import ClientError
except ImportError:  # the file backend needs no boto3; the module checks for it before DynamoDB
    TypeDeserializer = TypeSerializer = None
    ClientError = None

try:
    from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler

    aws_error_handler = AWSErrorHandler.common_error_handler
except ImportError:  # in the guard's Lambda package (module_utils/guard.py), which has no Ansible

    def aws_error_handler(description):
        return lambda function: function  # botocore's errors as they are


from ansible_collections.switchyard.bluegreen.plugins.module_utils.records import redact

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
)
# The process of a play: ansible-playbook, or a versioned script such as ansible-playbook-3.11.
_PLAYBOOK = re.compile(r"^ansible-playbook(-[0-9.]+)?$")
PROC = "/proc"


class LeaseError(Exception):
    """A failure of the lease store; its text is the whole message for the user."""


class LeaseTableMissing(LeaseError):
    def __init__(self, table):
        super().__init__(
            f"The DynamoDB table {table} of the deployment lease does not exist (in this account and region)."
            " Provision the environment first (playbooks/provision.yml). Nothing was changed."
        )


# --- what this machine knows ---------------------------------------------------------------


def clock():
    """Now, in epoch seconds (tests replace it)."""
    return time.time()


def _proc_file(proc, pid, name):
    try:
        with open(os.path.join(proc, str(pid), name), "rb") as handle:
            return handle.read()
    except OSError:
        return None


def cmdline(pid, proc=None):
    """The arguments of process pid; None when there is no such process."""
    raw = _proc_file(proc or PROC, pid, "cmdline")
    return None if raw is None else [arg.decode(errors="replace") for arg in raw.split(b"\0") if arg]


def parent_pid(pid, proc=None):
    """The parent of process pid; None when there is no such process."""
    raw = _proc_file(proc or PROC, pid, "stat")
    if raw is None:
        return None
    # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
    fields = raw.decode(errors="replace").rsplit(")", 1)[-1].split()
    return int(fields[1]) if len(fields) > 1 else None


def is_playbook(argv):
    """Whether these are the arguments of an ansible-playbook process."""
    return any(_PLAYBOOK.match(os.path.basename(arg)) for arg in argv or ())


def playbook_pid(start=None, proc=None):
    """The pid of the ansible-playbook running this process, or None (not found, or no /proc).

    Walks the ancestors from start (this process) to the nearest whose command line is
    ansible-playbook's. Its workers are forks of it with the same command line and last one task,
    so the walk goes on up while the parent is ansible-playbook too: the pid is the play's.
    """
    proc = proc or PROC
    pid = os.getpid() if start is None else start
    found = None
    while pid and pid > 1:
        argv = cmdline(pid, proc)
        if argv is None:
            break
        if is_playbook(argv):
            found = pid
        elif found is not None:
            break
        pid = parent_pid(pid, proc)
    return found


def playbook_alive(pid, proc=None):
    """Whether pid is a running ansible-playbook; True when this machine cannot tell (no /proc)."""
    proc = proc or PROC
    if not os.path.isdir(proc):
        return True
    return is_playbook(cmdline(pid, proc))


def default_actor():
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return "unknown"


@dataclass(frozen=True)
class Here:
    """What this machine knows when deciding: the time, its name, whether a pid is a live play."""

    now: float
    host: str
    alive: Callable[[int], bool] = lambda pid: True

    @classmethod
    def local(cls):
        return cls(now=round(clock(), 3), host=socket.gethostname(), alive=playbook_alive)


def local_holder(actor=None, run_id=None, host=None):
    """The holder of this run: actor and host default to this machine's, pid is the play's."""
    return {
        "actor": actor or default_actor(),
        "run_id": run_id,
        "host": host or socket.gethostname(),
        "pid": playbook_pid(),
    }


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


def preempt(current, request, here):
    """state=preempted (rollback): the lease is taken whatever its state (token + 1)."""
    if not is_held(current):
        return Decision(lease=new_lease(current, request, here.now), write=True)
    # With its journal (image, from and to colour): a rollback that fails after this takeover leaves
    # the next one what to undo.
    preempted = dict(summary(current), details=current.get("details") or {})
    preempted_by = {"holder": dict(request.holder), "operation": request.operation, "at": here.now}
    return Decision(
        lease=new_lease(current, request, here.now, preempted=preempted, preempted_by=preempted_by),
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
        "lease": item,
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


def _decimals(value):
    """value with floats as Decimal, which is what boto3's serializer accepts."""
    if isinstance(value, dict):
        return {key: _decimals(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_decimals(item) for item in value]
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def to_dynamodb(item):
    """The item in DynamoDB's attribute-value form."""
    return TypeSerializer().serialize(_decimals(item))["M"]


def from_dynamodb(attributes):
    """A DynamoDB item as plain values (int, float, str, dict, list, None)."""
    return plain(TypeDeserializer().deserialize({"M": attributes}))


# --- DynamoDB (AWS environments) -------------------------------------------------------------


def error_code(error):
    """The AWS error code of a botocore ClientError."""
    return error.response.get("Error", {}).get("Code")


@aws_error_handler("read the deployment lease")
def get_lease_item(dynamodb, table, environment, **retry):
    """The raw item of environment, or None. retry: aws_retry=True for a module's client."""
    try:
        response = dynamodb.get_item(
            TableName=table, Key={"environment": {"S": environment}}, ConsistentRead=True, **retry
        )
    except ClientError as e:
        if error_code(e) == "ResourceNotFoundException":
            raise LeaseTableMissing(table) from None
        raise
    return response.get("Item")


def conditional_write(table, write):
    """write()'s response, or None when its condition did not hold (another run wrote first)."""
    try:
        return write()
    except ClientError as e:
        if error_code(e) == "ConditionalCheckFailedException":
            return None
        if error_code(e) == "ResourceNotFoundException":
            raise LeaseTableMissing(table) from None
        raise


@aws_error_handler("write the deployment lease")
def put_lease_item(dynamodb, table, attributes, seen, **retry):
    """Write the item if its token is still seen (0: no item); False when another write came first."""
    written = conditional_write(
        table,
        lambda: dynamodb.put_item(
            TableName=table,
            Item=attributes,
            ConditionExpression="attribute_not_exists(environment) OR #token = :seen",
            ExpressionAttributeNames={"#token": "token"},
            ExpressionAttributeValues={":seen": {"N": str(seen)}},
            **retry,
        ),
    )
    return written is not None


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
    return fields, _details(request)


def set_clauses(items, prefix, path, names, values):
    """The SET clauses of an UpdateItem that writes items ({attribute: value}, under path), their
    placeholders added to names and values."""
    clauses = []
    for index, (key, value) in enumerate(sorted(items.items())):
        names[f"#{prefix}{index}"] = key
        values[f":{prefix}{index}"] = TypeSerializer().serialize(_decimals(value))
        clauses.append(f"{path}#{prefix}{index} = :{prefix}{index}")
    return clauses


@aws_error_handler("write the deployment lease")
def update_held_item(dynamodb, table, environment, token, changes, **retry):
    """Apply holder_changes to the item if it is still held with token: the item before, or None
    when it is not (another run took it, or it was released)."""
    fields, details = changes
    names = {"#token": "token", "#state": "state"}
    if details:
        names["#details"] = "details"  # DynamoDB refuses a name the expressions do not use
    values = {":token": {"N": str(token)}, ":held": {"S": HELD}}
    sets = set_clauses(fields, "f", "", names, values) + set_clauses(details, "d", "#details.", names, values)
    response = conditional_write(
        table,
        lambda: dynamodb.update_item(
            TableName=table,
            Key={"environment": {"S": environment}},
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression="#token = :token AND #state = :held",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD",
            **retry,
        ),
    )
    return None if response is None else from_dynamodb(response["Attributes"])


@aws_error_handler("write the deployment lease")
def take_free_item(dynamodb, table, lease, **retry):
    """Write lease (a new holder's item) if the environment's item is missing or not held, adding
    one to its token: (True, the item before or None) when it was free, (False, None) when a run
    holds it (the caller reads and decides: refuse, or take a stale lease over)."""
    fields = {key: value for key, value in lease.items() if key not in ("environment", "token")}
    names = {"#environment": "environment", "#token": "token", "#state": "state"}
    values = {":one": {"N": "1"}, ":held": {"S": HELD}}
    sets = set_clauses(fields, "f", "", names, values)
    response = conditional_write(
        table,
        lambda: dynamodb.update_item(
            TableName=table,
            Key={"environment": {"S": lease["environment"]}},
            UpdateExpression="SET " + ", ".join(sets) + " ADD #token :one",
            ConditionExpression="attribute_not_exists(#environment) OR #state <> :held",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD",
            **retry,
        ),
    )
    if response is None:
        return False, None
    return True, from_dynamodb(response["Attributes"]) if response.get("Attributes") else None


class DynamoStore:
    """The lease items in a DynamoDB table whose partition key is environment (S).

    A module's client retries through amazon.aws (aws_retry=True on each call); a plain boto3
    client (the guard's) relies on botocore's own retries: aws_retry=False.
    """

    def __init__(self, dynamodb, table, aws_retry=True):
        self.dynamodb = dynamodb
        self.table = table
        self.retry = {"aws_retry": True} if aws_retry else {}

    def read(self, environment):
        attributes = get_lease_item(self.dynamodb, self.table, environment, **self.retry)
        return from_dynamodb(attributes) if attributes else None

    def settle(self, environment, choose, write=True):
        """(item before, decision): read, choose, write on the token read; again on a conflict."""
        for _ in range(1 + CONFLICT_RETRIES):
            current = self.read(environment)
            decision = choose(current)
            if not (write and decision.write):
                return current, decision
            if put_lease_item(self.dynamodb, self.table, to_dynamodb(decision.lease), token_of(current), **self.retry):
                return current, decision
        raise LeaseError(
            f"The deployment lease of {environment} in {self.table} changed under this run"
            f" {1 + CONFLICT_RETRIES} times in a row; nothing was changed. Run again."
        )

    def settle_state(self, environment, state, request, here, write=True):
        """(item before, decision) for decide(state, ...), in one call when the run that holds the
        lease renews or releases it, and when a run acquires a lease nobody holds."""
        if write and state == ACQUIRED:
            # The usual case, a lease nobody holds, in one conditional write; a held one (refused,
            # or a stale one taken over) as settle() decides.
            free, before = take_free_item(self.dynamodb, self.table, new_lease(None, request, here.now), **self.retry)
            if free:
                return before, decide(state, before, request, here)
        if write and state in (HELD, RELEASED) and request.token is not None:
            before = update_held_item(
                self.dynamodb,
                self.table,
                environment,
                int(request.token),
                holder_changes(state, request, here),
                **self.retry,
            )
            if before is not None:
                return before, decide(state, before, request, here)
        return self.settle(environment, lambda current: decide(state, current, request, here), write=write)


# --- file (development environment) ----------------------------------------------------------


class FileStore:
    """The lease items in a JSON file {environment: item}, locked through <path>.lock."""

    def __init__(self, path, mode=0o644):
        self.path = path
        self.lock_path = path + ".lock"
        self.mode = mode

    def _load(self):
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return {}
        except ValueError as e:
            raise LeaseError(
                f"The deployment lease file {self.path} is not JSON ({e}). Fix or remove it. Nothing was changed."
            ) from None
        if not isinstance(data, dict):
            raise LeaseError(f"The deployment lease file {self.path} does not hold a JSON object. Nothing was changed.")
        return data

    def read(self, environment):
        return self._load().get(environment)

    def _replace(self, data):
        """Write data atomically: a temporary file in the same directory, then os.replace."""
        directory = os.path.dirname(self.path) or "."
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(self.path)}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, self.mode)
            os.replace(temporary, self.path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise

    def settle(self, environment, choose, write=True):
        """(item before, decision): read, choose and write under an exclusive lock (reads only when not write)."""
        if not write:
            current = self.read(environment)
            return current, choose(current)
        if fcntl is None:
            raise LeaseError("The file backend of the deployment lease needs a POSIX system (fcntl).")
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, self.mode)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            data = self._load()
            current = data.get(environment)
            decision = choose(current)
            if decision.write:
                self._replace(dict(data, **{environment: decision.lease}))
            return current, decision
        finally:
            os.close(fd)  # releases the lock

    def settle_state(self, environment, state, request, here, write=True):
        """(item before, decision) for decide(state, ...), under the lock."""
        return self.settle(environment, lambda current: decide(state, current, request, here), write=write)


def lost_reason(item, environment, token):
    """None while the run of token still holds the lease; else why it stops (the lost message)."""
    if holds(item, token):
        return None
    return lost_message(item, Request(environment=environment, token=int(token)))


# The `lease` option of the modules that bake (doc fragment switchyard.bluegreen.error_rate).
WATCHED_LEASE_OPTION = dict(
    type="dict",
    options=dict(
        table=dict(type="str"),
        path=dict(type="path"),
        environment=dict(type="str", required=True),
        token=dict(type="int", required=True, no_log=False),  # a fencing number, not a secret
    ),
)


def lease_watcher(lease, dynamodb=None):
    """For a bake: a function that says why the run of lease["token"] lost its lease, or None.

    lease holds table or path, environment and token (None: nothing to watch); dynamodb creates
    the DynamoDB client when the lease is in a table.
    """
    if not lease:
        return None
    if lease.get("path"):
        store = FileStore(lease["path"])
    elif dynamodb is not None and lease.get("table"):
        store = DynamoStore(dynamodb(), lease["table"])
    else:
        raise LeaseError("The lease to watch names neither a lock file (path) nor, for an AWS module, a table.")
    return lambda: lost_reason(store.read(lease["environment"]), lease["environment"], lease["token"])
