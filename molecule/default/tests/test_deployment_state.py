"""After converge (promote.yml) on the sandbox: what the collection's info modules report."""

from __future__ import annotations

IMAGE = "registry.sandbox.local/switchyard/app:molecule"


def test_the_converged_image_is_live_on_the_colour_the_promote_switched_to(state, latest_record):
    assert state["live_colour"] == latest_record["to_colour"], f"live colour per the listener: {state['live_colour']}"
    assert state["colours"][state["live_colour"]]["image"] == IMAGE, state["colours"]


def test_production_goes_to_the_live_colour_only_and_test_to_the_idle_one(state):
    live, idle = state["live_colour"], state["idle_colour"]
    assert {live, idle} == {"blue", "green"}, f"traffic is split: {state['production_weights']}"
    assert state["production_weights"][live] > 0 and state["production_weights"][idle] == 0, state
    assert state["test_weights"][idle] > 0 and state["test_weights"][live] == 0, state["test_weights"]


def test_each_colour_runs_its_own_task_definition(state, latest_record):
    live, idle = state["colours"][state["live_colour"]], state["colours"][state["idle_colour"]]
    assert live["task_definition"] == latest_record["task_definition"], "the live colour runs another revision"
    assert idle["image"] == latest_record["previous_image"] != IMAGE, "the idle colour no longer runs the old image"
    assert idle["task_definition"] != live["task_definition"]


def test_the_old_colour_stays_warm_at_the_live_colours_size(state):
    live, idle = state["colours"][state["live_colour"]], state["colours"][state["idle_colour"]]
    assert live["desired_count"] > 0, live
    assert idle["desired_count"] == live["desired_count"], f"the idle colour was scaled: {idle}"


def test_the_latest_deployment_record_is_the_converges_successful_promote(latest_record):
    assert latest_record["kind"] == "promote" and latest_record["outcome"] == "succeeded", latest_record
    assert latest_record["image"] == IMAGE and latest_record["environment"] == "sandbox", latest_record
    assert latest_record["from_colour"] != latest_record["to_colour"], latest_record
