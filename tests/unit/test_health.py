"""Error-rate and readiness verdicts (module_utils/health.py)."""

import pytest
from ansible_collections.switchyard.bluegreen.plugins.module_utils.health import (
    bake,
    bake_verdict,
    error_rate,
    readiness_problems,
)


@pytest.mark.parametrize(
    ("requests", "errors", "rate"),
    [(0, 0, None), (1000, 0, 0.0), (1000, 10, 1.0), (200, 3, 1.5), (7, 7, 100.0)],
)
def test_error_rate(requests, errors, rate):
    assert error_rate(requests, errors) == rate


@pytest.mark.parametrize(
    ("requests", "errors", "verdict"),
    [
        (1000, 11, "breached"),  # 1.1 % > 1 %
        (1000, 10, "healthy"),  # exactly at the threshold is allowed
        (1000, 9, "healthy"),  # just below
        (50, 50, "insufficient_data"),  # 100 % of too few requests is not a verdict
        (100, 2, "breached"),  # the minimum itself counts
        (0, 0, "insufficient_data"),
    ],
)
def test_bake_verdict_threshold_and_minimum(requests, errors, verdict):
    assert bake_verdict(requests, errors, threshold_percent=1.0, min_requests=100) == verdict


def service(**overrides):
    base = {
        "desiredCount": 2,
        "runningCount": 2,
        "taskDefinition": "arn:td/app:4",
        "deployments": [{"status": "PRIMARY"}],
    }
    return {**base, **overrides}


def test_ready_service_has_no_problems():
    assert readiness_problems(service(), "arn:td/app:4", healthy_targets=2) == []


@pytest.mark.parametrize(
    ("svc", "expected_td", "healthy", "problem"),
    [
        (service(taskDefinition="arn:td/app:3"), "arn:td/app:4", 2, "not arn:td/app:4"),
        (service(runningCount=1), None, 2, "1 of 2 tasks running"),
        (service(deployments=[{"status": "PRIMARY"}, {"status": "ACTIVE"}]), None, 2, "draining"),
        (service(), None, 1, "1 of 2 targets healthy"),
    ],
)
def test_readiness_names_what_is_missing(svc, expected_td, healthy, problem):
    problems = readiness_problems(svc, expected_td, healthy)
    assert any(problem in p for p in problems), problems


def test_bake_measures_until_the_window_is_long_enough():
    windows = iter([0.0, 4.0, 8.0, 10.0])
    slept = []
    result = bake(lambda: {"verdict": "healthy", "window_seconds": next(windows)}, 10, 4, slept.append)
    assert result["window_seconds"] == 10.0
    assert slept == [4, 4, 2]  # the last sleep only fills the window


def test_bake_stops_at_the_first_breach():
    verdicts = iter(["insufficient_data", "breached", "healthy"])
    result = bake(lambda: {"verdict": next(verdicts), "window_seconds": 1.0}, 60, 1, lambda _: None)
    assert result["verdict"] == "breached"


def test_bake_of_zero_seconds_measures_once():
    calls = []
    bake(lambda: calls.append(1) or {"verdict": "healthy", "window_seconds": 0.0}, 0, 15, lambda _: None)
    assert calls == [1]


def test_a_bake_ends_at_once_when_the_run_loses_its_lease():
    measured, slept = [], []

    def measure():
        measured.append(1)
        return {"verdict": "healthy", "window_seconds": len(measured) * 10.0}

    answers = iter([None, "a rollback took the lease"])
    result = bake(measure, 300, 10, slept.append, lost=lambda: next(answers))
    assert result["verdict"] == "preempted" and result["preempted"] == "a rollback took the lease"
    assert len(measured) == 2 and slept == [10], "the bake must stop at the first look after the lease is lost"


def test_a_bake_that_keeps_its_lease_runs_its_window():
    measured = []

    def measure():
        measured.append(1)
        return {"verdict": "healthy", "window_seconds": len(measured) * 10.0}

    result = bake(measure, 30, 10, lambda seconds: None, lost=lambda: None)
    assert result["verdict"] == "healthy" and len(measured) == 3
