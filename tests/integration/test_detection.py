"""Detection on the sandbox: what the watch catches, from signals delivered as AWS delivers them.

The harness publishes fast metrics by default; the tests about late metrics switch it to AWS-like
delivery on a compressed scale (5-second buckets published 8 s after they end) and tell the
watch the same period, so the logic is the real one without minutes of waiting per test.
"""

from __future__ import annotations

import time

import pytest

from tests.integration.test_promote import REPO_IMAGE

pytestmark = pytest.mark.sandbox

LATE = {"period_seconds": 5, "delay_seconds": 8, "requests_per_second": 2000}
NO_PROBES = ["-e", "switchyard_probe_rate_per_second=0"]
WATCH_LATE = ["-e", "switchyard_metric_period_seconds=5", "-e", "switchyard_metric_wait_seconds=40"]


@pytest.fixture(scope="module")
def live_release(sandbox, promote):
    run = promote(f"{REPO_IMAGE}:d1")
    assert run.returncode == 0, run.failure_messages() or run.stderr
    return run


def test_a_colour_that_crashes_is_rolled_back_on_the_load_balancers_own_5xx(sandbox, promote, live_release):
    """Its targets answer nothing: no target 5xx at all, only the load balancer's 502s and
    unhealthy targets. Probes off: the metrics alone must catch it."""
    live = sandbox.live()
    run = promote(f"{REPO_IMAGE}:d2-crash", *NO_PROBES)
    assert run.returncode != 0
    failure = " ".join(run.failure_messages())
    assert "rolled back automatically" in failure, failure
    assert sandbox.live() == live, "traffic must be back on the previous colour"
    rates = sandbox.records()[0]["error_rates"]
    assert rates[-1]["verdict"] == "breached", rates
    assert rates[-1]["lb_errors"] > 0 or rates[-1]["unhealthy_hosts"] > 0, rates
    assert sandbox.records()[0]["outcome"] == "rolled_back"


def test_5xx_in_late_metrics_are_waited_for_and_caught(sandbox, promote, live_release, harness_signals):
    """With metrics 8 s late, a 4 s bake ends before any of its buckets arrived: the watch waits
    for them and rolls back, where judging at the end of the bake would have seen nothing."""
    harness_signals(**LATE)
    live = sandbox.live()
    started = time.monotonic()
    run = promote(f"{REPO_IMAGE}:d3-5xx-5", *WATCH_LATE, *NO_PROBES)
    assert run.returncode != 0, "a release whose 5xx arrive late must not go on"
    assert sandbox.live() == live
    rates = sandbox.records()[0]["error_rates"]
    assert rates[-1]["verdict"] == "breached" and rates[-1]["rate_percent"] >= 4, rates
    assert time.monotonic() - started > LATE["delay_seconds"], "the verdict cannot precede the metrics"


def test_a_bake_without_data_is_no_verdict_and_sends_traffic_back(sandbox, promote, live_release, harness_signals):
    """No requests, so no metrics at all: insufficient data is a failure (the sandbox's policy),
    never a release waved through."""
    harness_signals(period_seconds=1, delay_seconds=0, requests_per_second=0)
    live = sandbox.live()
    run = promote(f"{REPO_IMAGE}:d4", "-e", "switchyard_metric_wait_seconds=3", *NO_PROBES)
    assert run.returncode != 0
    failure = " ".join(run.failure_messages())
    assert "could not be judged" in failure and "switchyard_insufficient_data" in failure, failure
    assert sandbox.live() == live
    assert sandbox.records()[0]["outcome"] == "rolled_back"


def test_a_healthy_release_passes_on_late_metrics(sandbox, promote, live_release, harness_signals):
    harness_signals(**LATE)
    before = sandbox.live()
    run = promote(f"{REPO_IMAGE}:d5", *WATCH_LATE)
    assert run.returncode == 0, run.failure_messages() or run.stderr
    assert sandbox.live() != before
    rates = sandbox.records()[0]["error_rates"]
    assert rates[-1]["verdict"] == "healthy" and rates[-1]["requests"] >= 100, rates


def test_synthetic_probes_catch_a_crash_long_before_late_metrics(sandbox, promote, live_release, harness_signals):
    """With metrics 8 s late, the probes through the test listener see the 502s within seconds
    of the crash (onset: the switch) and traffic goes back before any metric bucket arrives."""
    harness_signals(**LATE)
    live = sandbox.live()
    run = promote(f"{REPO_IMAGE}:d6-crash", *WATCH_LATE, "-e", "switchyard_bake_seconds=30")
    assert run.returncode != 0
    assert sandbox.live() == live
    rates = sandbox.records()[0]["error_rates"]
    assert rates[-1]["verdict"] == "breached" and "synthetic probes" in rates[-1]["reason"], rates
    assert rates[-1]["verdict_after_seconds"] <= 15, rates
