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


def expect_sums(cloudwatch, clock, requests, errors):
    """The two metric sums of one measurement at the clock's time (CloudWatch's minute buckets)."""
    start = datetime.fromtimestamp(SINCE, tz=UTC)
    end = max(datetime.fromtimestamp(clock.now, tz=UTC), datetime.fromtimestamp(SINCE + 60, tz=UTC))
    for metric, total in (("RequestCount", requests), ("HTTPCode_Target_5XX_Count", errors)):
        cloudwatch.add_response(
            "get_metric_statistics",
            {"Label": metric, "Datapoints": [{"Sum": total / 2}, {"Sum": total / 2}] if total else []},
            {
                "Namespace": "AWS/ApplicationELB",
                "MetricName": metric,
                "Dimensions": [{"Name": "LoadBalancer", "Value": LB}, {"Name": "TargetGroup", "Value": TG}],
                "StartTime": start,
                "EndTime": end,
                "Period": 60,
                "Statistics": ["Sum"],
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
    expect_sums(aws.stub("cloudwatch"), clock, requests=1000, errors=4)

    result = run_module(alb_error_rate_info, args(threshold_percent=1))

    assert result == {
        "failed": False,
        "changed": False,
        "requests": 1000,
        "errors": 4,
        "rate_percent": 0.4,
        "verdict": "healthy",
        "window_seconds": 30.0,
    }


def test_too_few_requests_is_no_verdict(aws, clock):
    expect_sums(aws.stub("cloudwatch"), clock, requests=10, errors=5)

    result = run_module(alb_error_rate_info, args())

    assert result["verdict"] == "insufficient_data"
    assert result["rate_percent"] == 50.0


def test_no_requests_has_no_rate(aws, clock):
    expect_sums(aws.stub("cloudwatch"), clock, requests=0, errors=0)

    result = run_module(alb_error_rate_info, args())

    assert result["rate_percent"] is None


def test_bake_stops_as_soon_as_the_threshold_is_breached(aws, clock, monkeypatch):
    cloudwatch = aws.stub("cloudwatch")
    expect_sums(cloudwatch, clock, requests=200, errors=1)  # at 30 s: 0.5 %

    def sleep(seconds):
        clock.now += seconds
        expect_sums(cloudwatch, clock, requests=400, errors=12)  # at 45 s: 3 %

    monkeypatch.setattr(clock, "sleep", sleep)

    result = run_module(alb_error_rate_info, args(bake_seconds=300, poll_seconds=15))

    assert result["verdict"] == "breached"
    assert result["rate_percent"] == 3.0
    assert result["window_seconds"] == 45.0


def test_throttling_is_retried(aws, clock):
    cloudwatch = aws.stub("cloudwatch")
    cloudwatch.add_client_error("get_metric_statistics", service_error_code="Throttling", http_status_code=400)
    expect_sums(cloudwatch, clock, requests=100, errors=0)

    result = run_module(alb_error_rate_info, args())

    assert result["verdict"] == "healthy"


def test_aws_errors_fail_clearly(aws, clock):
    aws.stub("cloudwatch").add_client_error(
        "get_metric_statistics", service_error_code="AccessDenied", service_message="no metrics for you"
    )

    result = run_module(alb_error_rate_info, args())

    assert result["failed"]
    assert result["msg"].startswith("Failed to read the ALB's CloudWatch metrics")
    assert "no metrics for you" in result["msg"]
