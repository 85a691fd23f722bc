"""What a promote does, planned from the live state (module_utils/core/promote.py)."""

from __future__ import annotations

import pytest
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.promote import PlanError, outcome, plan_release

STATE = {
    "live_colour": "blue",
    "idle_colour": "green",
    "colours": {
        "blue": {"image": "app:1", "task_definition": "td:app:4", "desired_count": 3, "warm": True},
        "green": {"image": "app:0", "task_definition": "td:app:2", "desired_count": 0, "warm": False},
    },
}


def interrupted(image="app:2", **details):
    """The lease of a promote of image from blue to green that died after the health gate."""
    journal = {
        "image": image,
        "previous_image": "app:1",
        "from_colour": "blue",
        "to_colour": "green",
        "restore": {"task_definition": "td:app:2", "desired_count": 0, "image": "app:0"},
    }
    return {"operation": "promote", "state": "held", "phase": "healthy", "details": {**journal, **details}}


def test_a_first_run_goes_from_the_live_colour_to_the_idle_one_at_the_live_size():
    plan = plan_release("app:2", STATE)
    assert (plan["from_colour"], plan["to_colour"], plan["previous_image"]) == ("blue", "green", "app:1")
    assert plan["restore"] == {"task_definition": "td:app:2", "desired_count": 0, "image": "app:0"}
    assert plan["desired_count"] == 3 and plan["from_task_definition"] == "td:app:4"
    assert not plan["resumes"] and not plan["already_live"]
    # What a rollback would do: one listener change back to the colour that serves production.
    assert plan["rollback"]["kind"] == "warm" and plan["rollback"]["to_colour"] == "blue"


def test_the_image_already_live_is_nothing_to_do():
    assert plan_release("app:1", STATE)["already_live"]


def test_a_rerun_of_an_interrupted_promote_carries_on_with_its_journalled_colours():
    # Traffic is on green already (the run died after the switch): the journal, not the traffic, decides.
    state = dict(STATE, live_colour="green", idle_colour="blue")
    plan = plan_release("app:2", state, interrupted(), took_over={"reason": "interrupted"})
    assert (plan["from_colour"], plan["to_colour"], plan["previous_image"]) == ("blue", "green", "app:1")
    assert plan["restore"]["task_definition"] == "td:app:2" and plan["resumes"] and not plan["already_live"]


def test_a_rerun_whose_old_colour_was_scaled_down_plans_a_cold_way_back():
    state = {**STATE, "colours": {**STATE["colours"], "blue": {**STATE["colours"]["blue"], "warm": False}}}
    plan = plan_release("app:2", state, interrupted(), took_over={"reason": "expired"})
    assert plan["rollback"]["kind"] == "cold"


def test_another_image_or_a_lease_not_taken_over_starts_afresh():
    assert not plan_release("app:3", STATE, interrupted(), took_over={"reason": "expired"})["resumes"]
    assert not plan_release("app:2", STATE, interrupted(), took_over=None)["resumes"]
    assert not plan_release("app:2", STATE, dict(interrupted(), operation="rollback"), took_over={})["resumes"]


def test_the_size_is_at_least_one_task():
    state = {**STATE, "colours": {**STATE["colours"], "blue": {"image": "app:1", "desired_count": 0}}}
    assert plan_release("app:2", state)["desired_count"] == 1


def test_split_traffic_is_refused_unless_the_promote_that_left_it_resumes():
    split = dict(STATE, live_colour=None, idle_colour=None, production_weights={"blue": 90, "green": 10})
    with pytest.raises(PlanError, match="not all on one colour"):
        plan_release("app:2", split)
    assert plan_release("app:2", split, interrupted(), took_over={"reason": "interrupted"})["to_colour"] == "green"


def test_how_a_promote_that_did_not_go_live_ended():
    taken = {"lost": True, "msg": "lost the lease", "lease": {"holder": {"actor": "carol"}}}
    assert outcome(taken) == {
        "outcome": "preempted",
        "lost": True,
        "failure": "lost the lease",
        "taken_by": {"actor": "carol"},
    }
    assert outcome({}, "preempted")["outcome"] == "preempted"
    assert outcome({"msg": "5xx above 1 %"}, "breached")["outcome"] == "rolled_back"
    assert outcome({}, "no_verdict")["outcome"] == "rolled_back"
    assert outcome({"msg": "health gate timed out"}) == {
        "outcome": "failed",
        "lost": False,
        "failure": "health gate timed out",
        "taken_by": None,
    }


def test_a_way_back_that_failed_too_says_both():
    first = outcome({"msg": "5xx above 1 %"}, "breached")
    both = outcome({"msg": "throttled"}, "breached", first)
    assert (
        both["outcome"] == "rollback_failed"
        and both["failure"] == "5xx above 1 % Sending traffic back failed too: throttled"
    )
    lost = outcome({"msg": "carol took it", "lost": True}, "breached", first)
    assert lost["outcome"] == "preempted" and lost["failure"] == "carol took it"
