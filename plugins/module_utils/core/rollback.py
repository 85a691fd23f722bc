# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one decision of "send production back", whoever asks: rollback.yml (its fast path, the
module alb_rollback, and its cold path, the rollback role), a failed promote's rescue (the rollback
role) and the guard's Lambda. Pure: no Ansible, no boto3.

plan_rollback says to which colour production goes back and how (warm: one listener change;
cold: scale it up on its previous release, gate, then switch), or refuses with the reason, before
anything is taken or changed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.lease import UNDONE_OUTCOMES
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.schema import schema_refusal

COLOURS = ("blue", "green")


def other(colour):
    return next(c for c in COLOURS if c != colour)


def undoes_promote(journal):
    """Whether the lease's journal is a promote (in flight, interrupted or done) to undo."""
    journal = journal or {}
    return (
        journal.get("operation") == "promote"
        and bool((journal.get("details") or {}).get("from_colour"))
        and journal.get("outcome") not in UNDONE_OUTCOMES
    )


def unfinished_rollback(journal):
    """Whether the lease is a rollback that did not finish (it failed, or was interrupted)."""
    journal = journal or {}
    return journal.get("operation") == "rollback" and journal.get("outcome") != "done"


def promote_journal(journal):
    """The journal of the promote to undo: the lease's own, or, when the lease is a rollback that
    did not finish, the promote it was undoing (core.lease.undoes)."""
    journal = journal or {}
    if unfinished_rollback(journal):
        return journal.get("undoes") or journal.get("preempted") or journal
    return journal


def return_colour(journal, production_weights, asked=None):
    """The colour production goes back to.

    The one asked for; else the colour the last promote started from, as its journal recorded it
    (never a colour whose new image has not passed the health gate, and with traffic split, not
    merely the heaviest); without such a journal, the idle colour, or the heaviest of a split.
    """
    if asked:
        return asked
    journal = promote_journal(journal)
    if undoes_promote(journal):
        return journal["details"]["from_colour"]
    receiving = [c for c in COLOURS if production_weights.get(c, 0) > 0]
    if len(receiving) == 1:
        return other(receiving[0])
    return max(COLOURS, key=lambda c: production_weights.get(c, 0))


def is_warm(service, healthy_targets):
    """A colour takes production traffic at once when its service runs tasks behind healthy targets."""
    return bool(service) and service["desiredCount"] > 0 and healthy_targets > 0


WARM, COLD, REFUSED = "warm", "cold", "refused"


@dataclass(frozen=True)
class RollbackPlan:
    """Where production goes back to and how: kind is warm, cold or refused (reason says why)."""

    kind: str
    to_colour: str
    from_colour: str
    reason: str

    def as_dict(self):
        return asdict(self)


def plan_rollback(journal, production_weights, colours, records=None, asked=None):
    """The rollback to do, or its refusal.

    journal: the lease item (the last run's journal); production_weights: {colour: weight};
    colours: {colour: {"warm": bool, "image": str}} as read now (only the target's is needed);
    records: the deployment records newest first, or None when they were not read (a warm colour
    that served this very promote needs none: the schema rule is checked for every colour that
    has to be brought back); asked: the colour an operator named, if any.
    """
    to = return_colour(journal, production_weights, asked)
    leaving = other(to)
    target = colours.get(to) or {}
    refusal = schema_refusal(target["image"], records) if records is not None and target.get("image") else None
    if refusal:
        return RollbackPlan(REFUSED, to, leaving, refusal)
    if target.get("warm"):
        return RollbackPlan(WARM, to, leaving, f"{to} is warm: production goes back with one listener change")
    return RollbackPlan(
        COLD, to, leaving, f"{to} is not warm: it is scaled up on its previous release and gated before the switch"
    )
