# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fencing: a run that lost its deployment lease changes nothing more.

Every module that changes a listener, a service, starts a task or writes a record takes the run's
lease (the option `lease`) and calls the fence right before it writes, in its own process: one
conditional write renews the lease (or, for a record with an outcome, releases it) only while it is
still held with the run's token, and carries the run's journal (phase and details) with it. When
the run no longer holds it, the fence raises LeaseLost and nothing is written (a record is written
all the same, marked). A bake only reads the lease (lease_watcher) to stop early.
"""

from __future__ import annotations

from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.lease import (
    HELD,
    LEASE_SECONDS,
    RELEASED,
    LeaseError,
    LeaseLost,
    Request,
    lost_message,
    lost_reason,
    plain,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.lease_holder import local_here
from ansible_collections.switchyard.bluegreen.plugins.module_utils.lease_store import DynamoStore, FileStore

# Where the lease is and which token the run holds: the option of every module that reads it.
_WHERE = dict(
    table=dict(type="str"),
    path=dict(type="path"),
    environment=dict(type="str", required=True),
    token=dict(type="int", required=True, no_log=False),  # a fencing number, not a secret
)

# The `lease` option of the modules that bake (doc fragment switchyard.bluegreen.error_rate).
WATCHED_LEASE_OPTION = dict(type="dict", options=_WHERE)

# The `lease` option of the modules that write (doc fragment switchyard.bluegreen.fence).
FENCE_OPTION = dict(
    type="dict",
    options=dict(
        _WHERE,
        lease_seconds=dict(type="int", default=LEASE_SECONDS),
        phase=dict(type="str"),
        details=dict(type="dict", default={}),
    ),
)


def store_for(lease, dynamodb=None, aws_retry=True):
    """The store of lease (its path, or its table through dynamodb(), a client factory)."""
    if lease.get("path"):
        return FileStore(lease["path"])
    if dynamodb is not None and lease.get("table"):
        return DynamoStore(dynamodb(), lease["table"], aws_retry=aws_retry)
    raise LeaseError("The lease option names neither a lock file (path) nor, for an AWS module, a table.")


def fence(lease, dynamodb=None, check_mode=False, here=local_here, aws_retry=True):
    """A function to call right before a write: it renews the lease of lease["token"] with its
    journal (or, given lease["outcome"], releases it with it) and returns the item, or raises
    LeaseLost (nothing may be written). Without a lease (a run outside any lease, a module used on
    its own) it checks nothing and returns None."""
    if not lease:
        return lambda: None
    store = store_for(lease, dynamodb, aws_retry)
    request = Request(
        environment=lease["environment"],
        token=int(lease["token"]),
        phase=lease.get("phase") or None,
        details=lease.get("details") or {},
        lease_seconds=lease.get("lease_seconds") or LEASE_SECONDS,
        check_mode=check_mode,
        outcome=lease.get("outcome") or None,
        revisions=lease.get("revisions"),
    )
    state = RELEASED if request.outcome else HELD

    def check():
        _before, decision = store.settle_state(request.environment, state, request, here(), write=not check_mode)
        if decision.lost:
            raise LeaseLost(decision.failure or lost_message(decision.lease, request), plain(decision.lease))
        return decision.lease

    return check


def lease_watcher(lease, dynamodb=None):
    """For a bake: a function that says why the run of lease["token"] lost its lease, or None.

    lease holds table or path, environment and token (None: nothing to watch); dynamodb creates
    the DynamoDB client when the lease is in a table.
    """
    if not lease:
        return None
    store = store_for(lease, dynamodb)
    return lambda: lost_reason(store.read(lease["environment"]), lease["environment"], lease["token"])
