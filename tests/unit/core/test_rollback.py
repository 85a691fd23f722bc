"""What a rollback undoes: the colour to return to, and whether it is warm (module_utils/rollback.py)."""

import pytest
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.rollback import (
    is_warm,
    other,
    plan_rollback,
    return_colour,
    undoes_promote,
)

BLUE_LIVE = {"blue": 1, "green": 0}
GREEN_LIVE = {"blue": 0, "green": 1}


def promote(state="held", phase="baking", outcome=None, **details):
    """The lease item a promote from blue to green leaves: its journal."""
    return {
        "environment": "production",
        "token": 7,
        "state": state,
        "operation": "promote",
        "phase": phase,
        "details": {"image": "app@sha256:2222", "from_colour": "blue", "to_colour": "green", **details},
        "outcome": outcome,
    }


def test_other_is_the_other_colour():
    assert (other("blue"), other("green")) == ("green", "blue")


# --- with the journal of a promote ------------------------------------------------------------


@pytest.mark.parametrize(
    "journal",
    [
        pytest.param(promote(), id="in flight, baking"),
        pytest.param(promote(phase="switching 10"), id="in flight, switching"),
        # Its ansible-playbook died: the item is still held (expired or not), no outcome.
        pytest.param(promote(phase="switching 50"), id="interrupted"),
        pytest.param(promote(state="released", phase="done", outcome="done"), id="done"),
        pytest.param(promote(state="released", phase="succeeded", outcome="succeeded"), id="succeeded"),
    ],
)
@pytest.mark.parametrize(
    "weights",
    [
        pytest.param(GREEN_LIVE, id="all on green"),
        pytest.param({"blue": 10, "green": 90}, id="split, green heaviest"),
        pytest.param({"blue": 90, "green": 10}, id="split, blue heaviest"),
        pytest.param(BLUE_LIVE, id="all on blue still"),
    ],
)
def test_a_promote_to_undo_returns_to_the_colour_it_started_from(journal, weights):
    # Whatever the traffic looks like: never the new colour, never merely the heaviest.
    assert undoes_promote(journal) is True
    assert return_colour(journal, weights) == "blue"


def test_the_journal_is_read_whichever_colour_the_promote_started_from():
    journal = promote(from_colour="green", to_colour="blue")

    assert return_colour(journal, BLUE_LIVE) == "green"
    assert return_colour(journal, {"blue": 80, "green": 20}) == "green"


@pytest.mark.parametrize("outcome", ["rolled_back", "failed", "preempted", "unchanged"])
def test_a_promote_that_ended_back_where_it_started_has_nothing_to_undo(outcome):
    # Its traffic is already on blue again: a rollback now goes by the live state, to the idle colour.
    journal = promote(state="released", phase=outcome, outcome=outcome)

    assert undoes_promote(journal) is False
    assert return_colour(journal, BLUE_LIVE) == "green"
    assert return_colour(journal, GREEN_LIVE) == "blue"


@pytest.mark.parametrize("outcome", ["rolled_back", "failed", "preempted", "unchanged"])
def test_a_promote_that_ended_back_where_it_started_and_a_split_go_to_the_heaviest(outcome):
    journal = promote(state="released", outcome=outcome)

    assert return_colour(journal, {"blue": 30, "green": 70}) == "green"


@pytest.mark.parametrize(
    "journal",
    [
        pytest.param(None, id="no lease yet"),
        pytest.param({}, id="empty"),
        pytest.param(dict(promote(), details={"image": "app@sha256:2222"}), id="promote before its journal"),
        pytest.param(dict(promote(), details=None), id="promote without details"),
        pytest.param(dict(promote(), operation="rollback"), id="a rollback"),
        pytest.param(dict(promote(), operation="finalize"), id="a finalize"),
    ],
)
def test_without_a_promote_journal_one_live_colour_means_the_idle_one(journal):
    assert undoes_promote(journal) is False
    assert return_colour(journal, BLUE_LIVE) == "green"
    assert return_colour(journal, GREEN_LIVE) == "blue"
    assert return_colour(journal, {"blue": 0, "green": 5}) == "blue"


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ({"blue": 90, "green": 10}, "blue"),
        ({"blue": 10, "green": 90}, "green"),
        ({"blue": 1, "green": 2}, "green"),
    ],
)
def test_without_a_journal_a_split_goes_to_its_heaviest_colour(weights, expected):
    assert return_colour(None, weights) == expected
    assert return_colour({}, weights) == expected


def test_without_a_journal_nor_traffic_the_answer_is_still_a_colour():
    assert return_colour(None, {"blue": 0, "green": 0}) in ("blue", "green")
    assert return_colour(None, {}) in ("blue", "green")


# --- the colour asked for -----------------------------------------------------------------------


@pytest.mark.parametrize("asked", ["blue", "green"])
@pytest.mark.parametrize(
    "journal",
    [
        pytest.param(None, id="no journal"),
        pytest.param(promote(), id="in-flight promote"),
        pytest.param(promote(from_colour="green", to_colour="blue"), id="promote from green"),
        pytest.param(promote(state="released", outcome="failed"), id="failed promote"),
    ],
)
@pytest.mark.parametrize("weights", [BLUE_LIVE, GREEN_LIVE, {"blue": 50, "green": 50}])
def test_the_colour_asked_for_wins(asked, journal, weights):
    assert return_colour(journal, weights, asked) == asked


def test_no_colour_asked_is_not_a_colour_asked():
    assert return_colour(None, BLUE_LIVE, None) == "green"
    assert return_colour(None, BLUE_LIVE, "") == "green"


# --- warm or cold -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "healthy", "warm"),
    [
        pytest.param({"serviceName": "svc-blue", "desiredCount": 2}, 2, True, id="running, healthy"),
        pytest.param({"serviceName": "svc-blue", "desiredCount": 1}, 1, True, id="one task, one target"),
        pytest.param({"serviceName": "svc-blue", "desiredCount": 2}, 0, False, id="no healthy target"),
        pytest.param({"serviceName": "svc-blue", "desiredCount": 0}, 0, False, id="scaled down"),
        # Targets still healthy while the service is scaled to 0 (draining): cold all the same.
        pytest.param({"serviceName": "svc-blue", "desiredCount": 0}, 2, False, id="scaled down, draining"),
        pytest.param(None, 2, False, id="no such service"),
        pytest.param({}, 2, False, id="empty service"),
    ],
)
def test_a_colour_is_warm_when_its_service_runs_tasks_behind_healthy_targets(service, healthy, warm):
    assert is_warm(service, healthy) is warm


def test_a_rollback_that_did_not_finish_leaves_the_next_one_the_promote_to_undo():
    """A rollback took the lease from a canary at 10 % and failed before switching: the next
    rollback still returns to the promote's from colour, not to the heaviest of the split."""
    promote = {"operation": "promote", "phase": "baking 10", "details": {"from_colour": "blue", "to_colour": "green"}}
    failed_rollback = {"operation": "rollback", "outcome": "failed", "preempted": promote}
    assert return_colour(failed_rollback, {"blue": 10, "green": 90}) == "blue"
    interrupted_rollback = {"operation": "rollback", "outcome": None, "preempted": promote}
    assert return_colour(interrupted_rollback, {"blue": 10, "green": 90}) == "blue"
    done_rollback = {"operation": "rollback", "outcome": "done", "preempted": promote}
    assert return_colour(done_rollback, {"blue": 100, "green": 0}) == "green", "a finished rollback is undone like any"


# --- the one decision: plan_rollback ------------------------------------------------------------

RECORDS = [  # newest first: r3's contract dropped what r1 reads; r2 ships what came before it
    {
        "kind": "promote",
        "image": "app:r3",
        "migrations": {"head": "0003.drop", "applied": [{"id": "0003.drop", "phase": "contract"}]},
    },
    {"kind": "promote", "image": "app:r2", "migrations": {"head": "0002.add", "applied": [{"id": "0002.add"}]}},
    {"kind": "promote", "image": "app:r1", "migrations": {"head": "0001.init", "applied": [{"id": "0001.init"}]}},
]


def test_a_warm_colour_is_one_listener_change():
    plan = plan_rollback(promote(), {"blue": 10, "green": 90}, {"blue": {"warm": True, "image": "app:r2"}}, RECORDS)
    assert (plan.kind, plan.to_colour, plan.from_colour) == ("warm", "blue", "green")


def test_a_cold_colour_is_brought_back_first():
    plan = plan_rollback(promote(), GREEN_LIVE, {"blue": {"warm": False, "image": "app:r2"}}, RECORDS)
    assert plan.kind == "cold" and "scaled up" in plan.reason


def test_a_release_the_schema_moved_past_is_refused_naming_the_contract_migration():
    plan = plan_rollback({}, GREEN_LIVE, {"blue": {"warm": False, "image": "app:r1"}}, RECORDS)
    assert plan.kind == "refused" and plan.to_colour == "blue"
    assert "0003.drop" in plan.reason and "Nothing was changed" in plan.reason


def test_the_schema_rule_is_skipped_only_when_the_records_were_not_read():
    assert plan_rollback({}, GREEN_LIVE, {"blue": {"warm": True, "image": "app:r1"}}).kind == "warm"
    assert plan_rollback({}, GREEN_LIVE, {"blue": {"warm": True, "image": "app:r1"}}, []).kind == "warm"


def test_the_colour_asked_for_wins_the_plan_too():
    plan = plan_rollback(promote(), GREEN_LIVE, {"green": {"warm": True, "image": "app:r3"}}, RECORDS, asked="green")
    assert (plan.to_colour, plan.from_colour) == ("green", "blue")
