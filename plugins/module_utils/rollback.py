# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a rollback undoes (pure logic, tests/unit)."""

from __future__ import annotations

COLOURS = ("blue", "green")
# A promote that ended so has nothing left to undo: traffic is already where it started.
UNDONE_OUTCOMES = ("rolled_back", "failed", "preempted", "unchanged")


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


def promote_journal(journal):
    """The journal of the promote to undo: the lease's own, or, when the lease is a rollback that
    did not finish (it failed, or was interrupted), the promote that rollback had preempted."""
    journal = journal or {}
    if journal.get("operation") == "rollback" and journal.get("outcome") != "done" and journal.get("preempted"):
        return journal["preempted"]
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
