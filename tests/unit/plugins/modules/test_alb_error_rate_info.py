"""alb_error_rate_info: 5xx share of a target group's requests since a time, with a bake loop."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ansible_collections.switchyard.bluegreen.plugins.modules import alb_error_rate_info

from tests.unit.plugins.modules.utils import FakeClock, run_module

LB = "app/switchyard-production/50dc6c495c0c9188"
TG = "targetgroup/switchyard-production-green/73e2d6bc24d8a067"
SINCE = 1_800_000_000.0


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock(now=SINCE + 30)
    monkeypatch.setattr(alb_error_rate_info, "time", fake)
    return fake


SIGNALS = (
    ("requests", "RequestCount", "Sum", True),
    ("target_errors", "HTTPCode_Target_5XX_Count", "Sum", True),
    ("connection_errors", "TargetConnectionErrorCount", "Sum", True),
    ("unhealthy_hosts", "UnHealthyHostCount", "Maximum", True),
    ("lb_errors", "HTTPCode_ELB_5XX_Count", "Sum", False),
)


def expect_signals(cloudwatch, window_end, latest=SINCE, period=60, read_to=None, stamps=None, **values):
    """One GetMetricData call for the window [SINCE, window_end], in whole buckets of `period`,
    read up to read_to (the window's last bucket by default), answered with `values` split over
    two buckets, the newer starting at `latest` (or over the buckets starting at `stamps`)."""
    queries = []
    for name, metric, stat, per_group in SIGNALS:
        dimensions = [{"Name": "LoadBalancer", "Value": LB}]
        if per_group:
            dimensions.append({"Name": "TargetGroup", "Value": TG})
        metric_stat = {
            "Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": metric, "Dimensions": dimensions},
            "Period": period,
            "Stat": stat,
        }
        queries.append({"Id": name, "MetricStat": metric_stat, "ReturnData": True})
    results = []
    for name, _, stat, _ in SIGNALS:
        value = values.get(name, 0)
        starts = stamps or [latest - period, latest]
        times = [datetime.fromtimestamp(start, tz=UTC) for start in starts]
        split = [value] * len(starts) if stat == "Maximum" else [value / len(starts)] * len(starts)
        results.append({"Id": name, "Timestamps": times, "Values": split, "StatusCode": "Complete"})
    cloudwatch.add_response(
        "get_metric_data",
        {"MetricDataResults": results},
        {
            "MetricDataQueries": queries,
            "StartTime": datetime.fromtimestamp(SINCE, tz=UTC),
            "EndTime": datetime.fromtimestamp(read_to or window_end - window_end % period + period, tz=UTC),
        },
    )


def args(**extra):
    return {
        "load_balancer_arn_suffix": LB,
        "target_group_arn_suffix": TG,
        "since": SINCE,
        "min_requests": 100,
        "region": "us-east-1",
        **extra,
    }


def test_one_measurement_healthy(aws, clock):
    expect_signals(aws.stub("cloudwatch"), SINCE, requests=1000, target_errors=4)

    result = run_module(alb_error_rate_info, args(threshold_percent=1))

    assert result == {
        "failed": False,
        "changed": False,
        "requests": 1000,
        "target_errors": 4,
        "lb_errors": 0,
        "connection_errors": 0,
        "unhealthy_hosts": 0,
        "errors": 4,
        "rate_percent": 0.4,
        "verdict": "healthy",
        "reason": "0.4 % 5xx of 1000 requests",
        "window_seconds": 0.0,
        "covered": True,
        "extended": False,
        "verdict_after_seconds": 30.0,
    }


def test_too_few_requests_is_no_verdict(aws, clock):
    expect_signals(aws.stub("cloudwatch"), SINCE, requests=10, target_errors=5)

    result = run_module(alb_error_rate_info, args())

    assert result["verdict"] == "insufficient_data"
    assert result["rate_percent"] == 50.0


def test_no_requests_has_no_rate(aws, clock):
    expect_signals(aws.stub("cloudwatch"), SINCE)

    result = run_module(alb_error_rate_info, args())

    assert result["rate_percent"] is None


def test_load_balancer_5xx_of_a_crashed_colour_are_a_breach(aws, clock):
    """A crashed colour: its targets answer nothing, the load balancer answers 502."""
    expect_signals(aws.stub("cloudwatch"), SINCE, requests=1000, lb_errors=80, connection_errors=100)

    result = run_module(alb_error_rate_info, args())

    assert result["verdict"] == "breached"
    assert result["errors"] == 100, "connection errors become the load balancer's 502s: counted once"


def test_the_load_balancers_5xx_in_the_bucket_of_the_switch_are_not_laid_on_the_new_colour(aws, clock):
    """Promoting a fix over a crashed colour: the bucket that holds the switch holds the old
    colour's 502s too (they exist per load balancer only). They are counted from the next bucket."""
    since = SINCE + 30  # half way through the bucket that starts at SINCE
    clock.now = since + 90
    cloudwatch = aws.stub("cloudwatch")
    before, after = datetime.fromtimestamp(SINCE, tz=UTC), datetime.fromtimestamp(SINCE + 60, tz=UTC)
    answers = {"requests": [500, 1000], "lb_errors": [400, 0]}  # the crashed colour's 502s, then none
    results = [
        {"Id": name, "Timestamps": [before, after], "Values": answers.get(name, [0, 0]), "StatusCode": "Complete"}
        for name, *_ in SIGNALS
    ]
    cloudwatch.add_response("get_metric_data", {"MetricDataResults": results})

    result = run_module(alb_error_rate_info, args(since=since, bake_seconds=60))

    assert result["lb_errors"] == 0 and result["verdict"] == "healthy", result
    assert result["requests"] == 1500, "the colour's own signals still count the whole bucket"


def test_an_unhealthy_target_is_a_breach(aws, clock):
    expect_signals(aws.stub("cloudwatch"), SINCE, requests=20, unhealthy_hosts=2)

    result = run_module(alb_error_rate_info, args())

    assert result["verdict"] == "breached" and "2 of its targets" in result["reason"]


def test_bake_stops_as_soon_as_the_threshold_is_breached(aws, clock, monkeypatch):
    cloudwatch = aws.stub("cloudwatch")
    expect_signals(cloudwatch, SINCE + 30, requests=200, target_errors=1)  # at 30 s: 0.5 %

    def sleep(seconds):
        clock.now += seconds
        expect_signals(cloudwatch, SINCE + 45, requests=400, target_errors=12)  # at 45 s: 3 %

    monkeypatch.setattr(clock, "sleep", sleep)

    result = run_module(alb_error_rate_info, args(bake_seconds=300, poll_seconds=15))

    assert result["verdict"] == "breached"
    assert result["rate_percent"] == 3.0
    assert result["window_seconds"] == 45.0


def test_late_metrics_are_waited_for_and_never_waved_through(aws, clock, monkeypatch):
    """After a 60 s bake the last bucket has not arrived: the verdict waits for it, bounded; after
    the wait a missing bucket is no requests (AWS publishes none then), so nothing is too few."""
    clock.now = SINCE + 60
    cloudwatch = aws.stub("cloudwatch")
    expect_signals(cloudwatch, SINCE + 60, latest=SINCE - 60, requests=0)  # nothing arrived yet
    looks = []

    def sleep(seconds):
        clock.now += seconds
        looks.append(clock.now)
        expect_signals(cloudwatch, SINCE + 60, latest=SINCE - 60, requests=0)

    monkeypatch.setattr(clock, "sleep", sleep)

    result = run_module(alb_error_rate_info, args(bake_seconds=60, poll_seconds=15, data_wait_seconds=30))

    assert result["verdict"] == "insufficient_data", result
    assert "0 requests" in result["reason"] and "no metric for the end of the window" in result["reason"], result
    assert looks == [SINCE + 75, SINCE + 90]


def test_a_bucket_after_the_window_shows_it_was_delivered(aws, clock):
    """The bucket that holds the window's end is missing (no requests then) but a later one
    arrived: the window is judged at once on its own buckets; the later one is not counted."""
    clock.now = SINCE + 200
    expect_signals(
        aws.stub("cloudwatch"),
        SINCE + 60,
        read_to=SINCE + 240,
        stamps=[SINCE, SINCE + 120],
        requests=1000,
        target_errors=100,
    )

    result = run_module(alb_error_rate_info, args(bake_seconds=60, data_wait_seconds=600))

    assert result["covered"] is True, result
    assert result["requests"] == 500 and result["target_errors"] == 50, "only the window's own bucket counts"
    assert result["verdict"] == "breached", result


def test_a_poll_faster_than_a_second_is_refused(aws, clock):
    result = run_module(alb_error_rate_info, args(poll_seconds=0.2, bake_seconds=10))

    assert result["failed"] and "poll_seconds" in result["msg"]


def test_throttling_is_retried(aws, clock):
    cloudwatch = aws.stub("cloudwatch")
    cloudwatch.add_client_error("get_metric_data", service_error_code="Throttling", http_status_code=400)
    expect_signals(cloudwatch, SINCE, requests=100)

    result = run_module(alb_error_rate_info, args())

    assert result["verdict"] == "healthy"


def test_aws_errors_fail_clearly(aws, clock):
    aws.stub("cloudwatch").add_client_error(
        "get_metric_data", service_error_code="AccessDenied", service_message="no metrics for you"
    )

    result = run_module(alb_error_rate_info, args())

    assert result["failed"]
    assert result["msg"].startswith("Failed to read the ALB's CloudWatch metrics")
    assert "no metrics for you" in result["msg"]


def test_a_window_that_ends_on_a_bucket_boundary_counts_no_bucket_after_it(aws, clock):
    """[SINCE, SINCE + 60) is exactly one bucket: the next one, already delivered, is not counted."""
    clock.now = SINCE + 200
    expect_signals(aws.stub("cloudwatch"), SINCE + 60, read_to=SINCE + 240, stamps=[SINCE, SINCE + 60], requests=1000)

    result = run_module(alb_error_rate_info, args(bake_seconds=60, data_wait_seconds=600))

    assert result["requests"] == 500 and result["covered"] is True, result
