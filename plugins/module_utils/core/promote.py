# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a promote does, decided once from the live state (pure: no Ansible, no boto3).

plan_release names the colours of this release, what production runs before it, how to put the
idle colour back if the release fails, its size and what a rollback would do; a rerun of an
interrupted promote of the same image carries on with the colours its journal names. outcome
says how a promote that failed ended. promote.yml reads both and decides nothing itself.
"""

from __future__ import annotations

from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.rollback import plan_rollback

# How a promote that did not go live ended: a rollback took its lease (preempted), the watch sent
# traffic back (rolled_back), or anything else (failed).
PREEMPTED, ROLLED_BACK, FAILED = "preempted", "rolled_back", "failed"
# Sending traffic back failed too: production may still reach the new colour (not an undone
# outcome: the guard and rollback.yml undo it).
BACK_FAILED = "rollback_failed"
# The switch outcomes that sent traffic back (the watch's verdicts).
SENT_BACK = ("breached", "no_verdict")


def resumes(image, journal, took_over):
    """Whether this run carries on the interrupted promote of the same image whose lease it took over."""
    journal = journal or {}
    details = journal.get("details") or {}
    return (
        took_over is not None
        and journal.get("operation") == "promote"
        and details.get("image") == image
        and bool(details.get("from_colour"))
    )


class PlanError(Exception):
    """The release cannot be planned from this state; the text is the whole message."""


def plan_release(image, state, journal=None, took_over=None):
    """The release's plan: colours, what it replaces, how to undo it, its size, what a rollback does.

    state: the live state (the traffic role's traffic_state: live_colour, idle_colour, colours
    with image, task_definition, desired_count, warm); journal: the lease this run took over, or
    None; took_over: what acquiring the lease took over, or None.
    """
    colours = state["colours"]
    if resumes(image, journal, took_over):
        details = journal["details"]
        from_colour, to_colour = details["from_colour"], details["to_colour"]
        previous_image, restore, resumed = details.get("previous_image"), details.get("restore"), True
    elif not state.get("live_colour"):
        raise PlanError(
            f"Production traffic is not all on one colour (weights {state.get('production_weights')}): a previous"
            " run stopped in the middle of a switch, or someone changed it by hand. Run playbooks/rollback.yml"
            " to return all traffic to one colour, then try again. Nothing was changed."
        )
    else:
        from_colour, to_colour = state["live_colour"], state["idle_colour"]
        target = colours.get(to_colour) or {}
        previous_image = (colours.get(from_colour) or {}).get("image")
        restore = {
            "task_definition": target.get("task_definition") or "",
            "desired_count": target.get("desired_count") or 0,
            "image": target.get("image"),
        }
        resumed = False
    source = colours.get(from_colour) or {}
    # A rerun reads warmth (the old colour may have been scaled down since); a first run starts
    # from the colour that serves production, warm by definition.
    warm = source.get("warm") if resumed else True
    back = {from_colour: {"warm": warm, "image": previous_image}}
    rollback = plan_rollback(None, {from_colour: 0, to_colour: 100}, back, asked=from_colour)
    return {
        "image": image,
        "from_colour": from_colour,
        "to_colour": to_colour,
        "previous_image": previous_image,
        "restore": restore,
        "resumes": resumed,
        "already_live": not resumed and previous_image == image,
        "desired_count": max(int(source.get("desired_count") or 1), 1),
        "from_task_definition": source.get("task_definition") or "",
        "rollback": rollback.as_dict(),
    }


def outcome(failed_result, switch_outcome=None, first=None):
    """How a promote that did not go live ended: outcome (preempted, rolled_back, failed), lost
    (another run took the lease: nothing more moves), failure (the message) and taken_by (who
    took the lease, when the failure says). first: this outcome when sending traffic back failed
    too (the rescue's own failure is failed_result)."""
    failed = failed_result or {}
    message = failed.get("msg") or "unknown failure"
    lost = bool(failed.get("lost")) or (first is None and switch_outcome == PREEMPTED)
    if first is not None and not lost:
        message = f"{first['failure']} Sending traffic back failed too: {message}"
    if lost:
        kind = PREEMPTED
    elif first is not None:
        kind = BACK_FAILED
    else:
        kind = ROLLED_BACK if switch_outcome in SENT_BACK else FAILED
    taken_by = (failed.get("lease") or {}).get("holder") or (first or {}).get("taken_by")
    return {"outcome": kind, "lost": lost, "failure": message, "taken_by": taken_by}
