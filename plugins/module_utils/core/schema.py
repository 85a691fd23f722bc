# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a release can still serve on the database as the records say it is (pure, no Ansible).

A contract migration removes what the release before it stopped using. A release that ships only
migrations from before that point still reads what was removed: it must not be sent traffic
again, whichever path asks (an operator's cold rollback, a promote's rescue). The order of the
migrations and who applied which come from the deployment records (each promote records the
migrations it applied, in order, and the head its release ships), so the rule needs no knowledge
of the migration tool.
"""

from __future__ import annotations


def _migrations(record):
    return record.get("migrations") or {}


def applied_in_order(records):
    """(ids in the order they were applied, {contract id: image of the promote that applied it}),
    from records newest first."""
    order, contracts = [], {}
    for record in reversed(records):
        for migration in _migrations(record).get("applied") or []:
            if migration["id"] not in order:
                order.append(migration["id"])
            if migration.get("phase") == "contract":
                contracts.setdefault(migration["id"], record.get("image"))
    return order, contracts


def release_head(image, records):
    """The last migration the release ships, as its promotes recorded it; None when no promote of
    it ran a migration step."""
    for record in records:
        if record.get("kind") == "promote" and record.get("image") == image and _migrations(record).get("head"):
            return _migrations(record)["head"]
    return None


def schema_refusal(image, records):
    """Why the release `image` must not serve on this database, or None.

    records: the deployment records, newest first (what deployment_record_info returns).
    """
    order, contracts = applied_in_order(records)
    head = release_head(image, records)
    for contract, applied_by in contracts.items():
        position = order.index(contract)
        # What the contract step came after; when the records read no longer reach back that far,
        # only a release that ships the contract itself is known to be safe.
        needed = order[position - 1] if position else contract
        if head is None:
            # No promote of it ran a migration step: the image a new stack starts with, or one
            # from before switchyard. Nothing says what it reads, so nothing refuses it here.
            continue
        if head not in order:
            reason = f"it ships {head}, which no recorded promote applied"
        elif order.index(head) < order.index(needed):
            reason = f"it ships migrations up to {head} only"
        else:
            continue
        return (
            f"{image} cannot serve on this database: contract migration {contract}, applied by the promote "
            f"of {applied_by}, removed what releases before {needed} read ({reason}). Roll forward instead: "
            f"promote a release that ships {needed} or later. Nothing was changed."
        )
    return None
