"""Detection on the sandbox: what the watch catches, from signals delivered as AWS delivers them.

The harness publishes fast metrics by default; the tests about late metrics switch it to AWS-like
delivery on a compressed scale (5-second buckets published 8 s after they end) and tell the
watch the same period, so the logic is the real one without minutes of waiting per test.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

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


def test_slow_harness_ticks_still_publish_every_bucket_and_a_promote_is_judged_on_them(
    sandbox, promote, live_release, harness_signals, aws, provisioned
):
    """A busy machine: the harness ticks every 3 s, across three 1-second buckets each time.
    Every bucket still gets its requests (none is left empty, so none looks missing), and a
    healthy release is judged healthy on them."""
    harness_signals(period_seconds=1, delay_seconds=0, requests_per_second=2000, tick_seconds=3)
    # The first bucket wholly under these settings (the harness read them within the fixture's tick).
    # Earlier ones may be the previous test's 5-second buckets, which a 1-second query sees as gaps.
    first = int(time.time()) + 1
    before = sandbox.live()
    run = promote(f"{REPO_IMAGE}:d7", "-e", "switchyard_metric_wait_seconds=10")
    assert run.returncode == 0, run.failure_messages() or run.stderr
    assert sandbox.live() != before
    rates = sandbox.records()[0]["error_rates"]
    assert rates[-1]["verdict"] == "healthy" and rates[-1]["requests"] >= 100, rates

    # Every bucket from the first to at least four ticks later; a busy machine may publish the last
    # ticks late, so wait for them (a bucket left empty in the middle stays empty, and fails).
    end = max(int(time.time()) - 3, first + 12)
    suffix = provisioned["stack"]["load_balancer_arn_suffix"]
    query = {
        "Id": "requests",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/ApplicationELB",
                "MetricName": "RequestCount",
                "Dimensions": [{"Name": "LoadBalancer", "Value": suffix}],
            },
            "Period": 1,
            "Stat": "Sum",
        },
    }
    deadline = time.monotonic() + 20
    while True:
        series = aws("cloudwatch").get_metric_data(
            MetricDataQueries=[query],
            StartTime=datetime.fromtimestamp(first, UTC),
            EndTime=datetime.fromtimestamp(end, UTC),
        )["MetricDataResults"][0]
        seconds = sorted(int(t.timestamp()) for t in series["Timestamps"])
        missing = sorted(set(range(first, end)) - set(seconds))
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(1)
    # A tick that added its requests to one bucket would leave two of every three empty.
    assert not missing, f"buckets missing under 3-second ticks: {missing} (present: {seconds})"


QUIET = {"period_seconds": 1, "delay_seconds": 0, "requests_per_second": 0.1}  # six requests a minute


def test_a_quiet_service_follows_the_insufficient_data_policy_fail(sandbox, promote, live_release, harness_signals):
    """Six requests a minute: most 1-second buckets have no datapoint, as AWS publishes none for a
    period without requests. That is no late data: the watch judges after its wait, finds too few
    requests, and the policy (fail in the sandbox) sends traffic back, saying so."""
    harness_signals(**QUIET)
    live = sandbox.live()
    run = promote(f"{REPO_IMAGE}:d8", "-e", "switchyard_metric_wait_seconds=3")
    assert run.returncode != 0
    failure = " ".join(run.failure_messages())
    assert "fewer than the 100 needed" in failure and "insufficient data is fail" in failure, failure
    assert sandbox.live() == live
    record = sandbox.records()[0]
    assert record["outcome"] == "rolled_back", record
    last = record["error_rates"][-1]
    assert last["verdict"] == "insufficient_data" and last["insufficient_data_policy"] == "fail", last


def test_a_quiet_service_goes_on_under_the_policy_continue_and_says_so(sandbox, promote, live_release, harness_signals):
    harness_signals(**QUIET)
    before = sandbox.live()
    run = promote(
        f"{REPO_IMAGE}:d9", "-e", "switchyard_metric_wait_seconds=3", "-e", "switchyard_insufficient_data=continue"
    )
    assert run.returncode == 0, run.failure_messages() or run.stderr
    assert sandbox.live() != before
    said = [r.get("msg", "") for r in run.task_results("Say that the release goes on without a verdict")]
    assert any("is continue" in msg for msg in said), said
    last = sandbox.records()[0]["error_rates"][-1]
    assert last["verdict"] == "insufficient_data" and last["insufficient_data_policy"] == "continue", last


def test_on_a_quiet_service_the_probes_still_judge(sandbox, promote, live_release, harness_signals):
    """Too few requests for the metrics to judge a rate (and its targets stay healthy), but the
    synthetic probes see 9 in 10 answers fail: a breach, whatever the insufficient-data policy."""
    harness_signals(**QUIET)
    live = sandbox.live()
    run = promote(
        f"{REPO_IMAGE}:d10-5xx-90", "-e", "switchyard_insufficient_data=continue", "-e", "switchyard_bake_seconds=15"
    )
    assert run.returncode != 0
    assert sandbox.live() == live
    last = sandbox.records()[0]["error_rates"][-1]
    assert last["verdict"] == "breached" and "synthetic probes" in last["reason"], last
