"""Error-rate and readiness verdicts (module_utils/health.py)."""

import pytest
from ansible_collections.switchyard.bluegreen.plugins.module_utils.health import (
    ProbeWindow,
    bake,
    error_rate,
    judge,
    rate_report,
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
def test_verdict_threshold_and_minimum(requests, errors, verdict):
    signals = {"requests": requests, "target_errors": errors}
    assert judge(signals, threshold_percent=1.0, min_requests=100)[0] == verdict


def test_load_balancer_5xx_count_against_the_colour():
    """A crashed colour's requests are answered 502 by the load balancer, not by its targets."""
    signals = {"requests": 1000, "target_errors": 0, "lb_errors": 100}
    verdict, reason = judge(signals, threshold_percent=1.0, min_requests=100)
    assert verdict == "breached" and "100 from the load balancer" in reason
    report = rate_report(signals, 1.0, 100, 60.0)
    assert report["errors"] == 100 and report["rate_percent"] == 10.0


def test_unhealthy_targets_are_a_verdict_without_traffic():
    signals = {"requests": 3, "target_errors": 0, "unhealthy_hosts": 2}
    verdict, reason = judge(signals, threshold_percent=1.0, min_requests=100)
    assert verdict == "breached" and "2 of its targets" in reason


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


class Clock:
    """Time for the bake loop: sleep() moves it on."""

    def __init__(self):
        self.now = 0.0
        self.slept = []

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds

    def elapsed(self):
        return self.now


def report(verdict="healthy", covered=True, window=0.0):
    return {"verdict": verdict, "reason": verdict, "covered": covered, "window_seconds": window}


def test_bake_measures_until_the_window_is_long_enough():
    clock = Clock()
    windows = []
    result = bake(lambda w: windows.append(w) or report(window=w), 10, 4, sleep=clock.sleep, elapsed=clock.elapsed)
    assert result["window_seconds"] == 10.0 and result["verdict"] == "healthy"
    assert clock.slept == [4, 4, 2]  # the last sleep only fills the window
    assert windows == [0.0, 4.0, 8.0, 10.0]


def test_bake_stops_at_the_first_breach():
    clock = Clock()
    verdicts = iter(["insufficient_data", "breached", "healthy"])
    result = bake(lambda w: report(next(verdicts), window=w), 60, 1, sleep=clock.sleep, elapsed=clock.elapsed)
    assert result["verdict"] == "breached" and clock.now == 1


def test_bake_of_zero_seconds_measures_once():
    clock = Clock()
    calls = []
    bake(lambda w: calls.append(w) or report(), 0, 15, sleep=clock.sleep, elapsed=clock.elapsed)
    assert calls == [0.0]


def test_a_bake_waits_for_late_metrics_that_cover_its_window():
    """Real ALB metrics arrive a minute or more late: the verdict waits for the window's data."""
    clock = Clock()

    def measure(window):
        arrived = clock.now >= 90  # the last bucket of the window lands 30 s after the bake
        return report("breached" if arrived else "healthy", covered=arrived, window=window)

    result = bake(measure, 60, 10, sleep=clock.sleep, elapsed=clock.elapsed, data_wait_seconds=120)
    assert result["verdict"] == "breached" and clock.now == 90


def uncovered(requests):
    """A window whose end never arrived (no bucket at or after it, not even the target health
    that AWS publishes every period), judged by the real rule on what did arrive."""

    def measure(window):
        signals = {"requests": requests, "target_errors": 0, "lb_errors": 0}
        return rate_report(signals, threshold_percent=1, min_requests=100, window_seconds=window, covered=False)

    return measure


def test_a_window_whose_end_never_arrived_is_never_healthy():
    """Its first minutes looked fine, but what came after was never delivered: no verdict, so the
    environment's insufficient-data policy decides, after the wait and not before."""
    clock = Clock()
    result = bake(uncovered(500), 60, 10, sleep=clock.sleep, elapsed=clock.elapsed, data_wait_seconds=30)
    assert result["verdict"] == "insufficient_data", result
    assert "not even its target health" in result["reason"] and "500 requests" in result["reason"], result
    assert clock.now == 90, "the delay is waited for first"


def test_after_the_wait_too_few_requests_are_judged_as_such():
    clock = Clock()
    result = bake(uncovered(3), 60, 10, sleep=clock.sleep, elapsed=clock.elapsed, data_wait_seconds=30)
    assert result["verdict"] == "insufficient_data", result
    assert "3 requests, fewer than the 100 needed" in result["reason"], result["reason"]
    assert "counted as no requests" in result["reason"], result["reason"]


def test_a_covered_quiet_window_is_judged_at_once_on_its_few_requests():
    """A later bucket (the target health of every period) arrived: the requests missing from the
    window were none, and the verdict does not wait for data that will never come."""
    clock = Clock()

    def measure(window):
        signals = {"requests": 3, "target_errors": 0, "lb_errors": 0}
        return rate_report(signals, threshold_percent=1, min_requests=100, window_seconds=window, covered=True)

    result = bake(measure, 60, 10, sleep=clock.sleep, elapsed=clock.elapsed, data_wait_seconds=180)
    assert result["verdict"] == "insufficient_data" and clock.now == 60, result


def test_extend_bakes_an_insufficient_window_longer_once():
    clock = Clock()
    verdicts = {60.0: "insufficient_data", 90.0: "insufficient_data"}
    windows = []

    def measure(window):
        windows.append(window)
        return report(verdicts.get(window, "healthy"), window=window)

    result = bake(measure, 60, 30, sleep=clock.sleep, elapsed=clock.elapsed, extend_seconds=30)
    assert result["verdict"] == "insufficient_data" and result["extended"] is True
    assert windows[-1] == 90.0 and clock.now == 90


def test_a_bake_ends_at_once_when_the_run_loses_its_lease():
    clock = Clock()
    answers = iter([None, "a rollback took the lease"])
    result = bake(
        lambda w: report(window=w), 300, 10, sleep=clock.sleep, elapsed=clock.elapsed, lost=lambda: next(answers)
    )
    assert result["verdict"] == "preempted" and result["preempted"] == "a rollback took the lease"
    assert clock.slept == [10], "the bake must stop at the first look after the lease is lost"


def test_a_bake_that_keeps_its_lease_runs_its_window():
    clock = Clock()
    result = bake(lambda w: report(window=w), 30, 10, sleep=clock.sleep, elapsed=clock.elapsed, lost=lambda: None)
    assert result["verdict"] == "healthy" and clock.slept == [10, 10, 10]


def test_probes_breach_on_a_full_window_above_the_threshold():
    window = ProbeWindow(size=4, threshold_percent=50)
    for _ in range(3):
        window.add(False, "502")
    assert window.breach() is None, "a window that is not full yet is no verdict"
    window.add(True, "200")
    assert window.breach() == "3 of the last 4 synthetic probes failed (last: 502)"
    judged = window.judge({"verdict": "healthy", "reason": "metrics fine"})
    assert judged["verdict"] == "breached" and judged["probes_sent"] == 4 and judged["probes_failed"] == 3


def test_probes_judge_the_last_ones_not_the_total():
    """A colour that crashes after a long healthy run is caught as fast as one that crashes at once."""
    window = ProbeWindow(size=4, threshold_percent=50)
    for _ in range(100):
        window.add(True, "200")
    for _ in range(3):
        window.add(False, "URLError")
    assert window.breach() is not None
    exactly_half = ProbeWindow(size=4, threshold_percent=50)
    for ok in (True, False, True, False):
        exactly_half.add(ok, "x")
    assert exactly_half.breach() is None, "the threshold itself is allowed"
