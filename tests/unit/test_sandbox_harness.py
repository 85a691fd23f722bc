"""sandbox/sandbox_harness.py: metrics delivered as AWS delivers them, and the image markers."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "sandbox"))
from sandbox_harness import (  # noqa: E402 (sandbox/ is not a package)
    FAST,
    Buckets,
    Harness,
    alarm_state,
    crashes,
    error_percent,
    evaluate,
    matches,
    onset_seconds,
)

REQUESTS = ("RequestCount", (("LoadBalancer", "app/x/1"), ("TargetGroup", "targetgroup/x/2")))
UNHEALTHY = ("UnHealthyHostCount", REQUESTS[1])


def test_a_bucket_is_published_only_once_it_is_over_and_late():
    buckets = Buckets()
    buckets.add(120.0, 60, REQUESTS, 500)
    buckets.add(150.0, 60, REQUESTS, 700)
    assert list(buckets.due(179.0, 75)) == []  # the minute is not over
    assert list(buckets.due(254.0, 75)) == []  # over, but AWS is 75 s late
    (point,) = buckets.due(255.0, 75)
    assert point["Value"] == 1200 and point["Timestamp"].timestamp() == 120.0
    assert list(buckets.due(400.0, 75)) == [], "a bucket is published once"


def test_a_gauge_keeps_its_maximum():
    buckets = Buckets()
    for value in (0, 2, 1):
        buckets.add(10.0, 60, UNHEALTHY, value, gauge=True)
    (point,) = buckets.due(1000.0, 0)
    assert point["Value"] == 2


def test_image_markers():
    assert error_percent("registry/app:v3-5xx-2.5") == 2.5
    assert crashes("registry/app:v4-crash-after-30") and not crashes("registry/app:v4")
    assert onset_seconds("registry/app:v4-crash-after-30") == 30 and onset_seconds("registry/app:v4") == 0
    assert not crashes("registry/crash/app:v4"), "only the tag carries markers"


def data_plane(image: str, targets: int = 2, first_traffic: float | None = 0.0) -> Harness:
    """A harness whose test listener forwards to one target group running image, without AWS."""
    harness = Harness("http://127.0.0.1:9", dict(FAST))
    harness.routes = {"production": [], "test": [("app/x/1", {"tg-green": 1})]}
    harness.images = {"tg-green": image}
    harness.targets = {"tg-green": targets}
    if first_traffic is not None:
        harness.first_traffic[("tg-green", image)] = first_traffic
    return harness


def test_the_data_plane_answers_as_the_load_balancer_would():
    assert data_plane("app:v1").answer("test")[0] == 200
    assert data_plane("app:v2-crash").answer("test")[0] == 502
    assert data_plane("app:v2-crash", first_traffic=None).answer("test")[0] == 200, "no production traffic yet"
    assert data_plane("app:v2-crash-after-999999999999").answer("test")[0] == 200, "its fault has not started"
    assert data_plane("app:v1", targets=0).answer("test")[0] == 503
    assert data_plane("app:v1").answer("production")[0] == 503, "no production listener in this harness"


class Published:
    """Stands in for CloudWatch's PutMetricData: keeps what the harness publishes."""

    def __init__(self):
        self.points = []

    def put_metric_data(self, Namespace, MetricData):  # noqa: N803 - boto3's names
        self.points.extend(MetricData)

    def series(self, metric: str, per_group: bool = True) -> dict:
        """{bucket start: value} of one metric, per target group or per load balancer."""
        return {
            p["Timestamp"].timestamp(): p["Value"]
            for p in self.points
            if p["MetricName"] == metric and (len(p["Dimensions"]) == 2) == per_group
        }


def production(image: str, requests_per_second: float) -> tuple[Harness, Published]:
    """A harness whose production listener sends everything to one target group running image."""
    harness = Harness("http://127.0.0.1:9", dict(FAST, requests_per_second=requests_per_second))
    harness.cloudwatch = published = Published()
    group = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/green/2"
    harness.routes = {"production": [("app/x/1", {group: 1})], "test": []}
    harness.images, harness.targets = {group: image}, {group: 2}
    return harness, published


def test_a_slow_tick_spreads_its_requests_over_every_bucket_it_spans():
    """A tick 3.5 s after the last (a busy machine) leaves no 1-second bucket empty, and loses no
    request: each bucket gets its share of the time."""
    harness, published = production("app:v1", requests_per_second=1000)
    harness.record_metrics(100.5, 104.0)
    harness.record_metrics(104.0, 104.0)  # publishes [103, 104)
    requests = published.series("RequestCount")
    assert requests == {100.0: 500, 101.0: 1000, 102.0: 1000, 103.0: 1000}, requests
    assert published.series("RequestCount", per_group=False) == requests, "the load balancer's own count too"


def test_errors_follow_the_requests_into_each_bucket():
    harness, published = production("app:v3-5xx-5", requests_per_second=1000)
    harness.record_metrics(100.0, 103.0)
    harness.record_metrics(103.0, 103.0)
    assert published.series("HTTPCode_Target_5XX_Count") == {100.0: 50, 101.0: 50, 102.0: 50}


def test_a_quiet_service_gets_its_few_requests_and_no_datapoint_for_a_quiet_period():
    """Three requests a minute: fractions carry over from tick to tick, and a bucket without a
    request publishes nothing at all, as a load balancer does."""
    harness, published = production("app:v1", requests_per_second=0.05)
    for second in range(60):
        harness.record_metrics(1000.0 + second, 1001.0 + second)
    harness.record_metrics(1060.0, 1060.0)
    requests = published.series("RequestCount")
    assert sum(requests.values()) == 3, requests
    assert len(requests) == 3, "only the three seconds that carried a request have a datapoint"
    assert len(published.series("UnHealthyHostCount")) == 60, "target health is published every period"


def test_a_low_rate_gets_its_share_of_errors_whatever_the_ticks():
    """5 % of 10 requests a second, ticks off the bucket boundaries: 5 errors in 100 requests."""
    harness, published = production("app:v3-5xx-5", requests_per_second=10)
    for tick in range(10):
        harness.record_metrics(100.3 + tick, 101.3 + tick)
    harness.record_metrics(200.0, 200.0)
    assert sum(published.series("RequestCount").values()) == 100
    assert sum(published.series("HTTPCode_Target_5XX_Count").values()) == 5


def test_a_late_tick_is_said_in_the_log(capsys):
    harness, _ = production("app:v1", requests_per_second=10)
    harness.note_overrun(1.2)
    assert capsys.readouterr().err == ""
    harness.note_overrun(4.0)
    assert "tick overran: 4.0 s since the last" in capsys.readouterr().err


# --- the guard: alarm evaluation and EventBridge, as the harness plays them --------------------

METRIC = {"Namespace": "AWS/ApplicationELB", "MetricName": "UnHealthyHostCount", "Dimensions": []}
GAUGE = {
    **METRIC,
    "Period": 10,
    "Statistic": "Maximum",
    "EvaluationPeriods": 2,
    "DatapointsToAlarm": 2,
    "Threshold": 1.0,
    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
}


def stat(name):
    return {"Metric": dict(METRIC, MetricName=name), "Period": 10, "Stat": "Sum"}


# As modules/guard writes a colour's target 5xx alarm: a share of its requests, once 100 flowed.
RATE = {
    "EvaluationPeriods": 2,
    "DatapointsToAlarm": 2,
    "Threshold": 1.0,
    "ComparisonOperator": "GreaterThanThreshold",
    "Metrics": [
        {
            "Id": "rate",
            "Expression": "IF(FILL(requests, 0) >= 100, 100 * FILL(errors, 0) / FILL(requests, 0), 0)",
            "ReturnData": True,
        },
        {"Id": "errors", "MetricStat": stat("HTTPCode_Target_5XX_Count"), "ReturnData": False},
        {"Id": "requests", "MetricStat": stat("RequestCount"), "ReturnData": False},
    ],
}


def test_a_rate_alarm_fires_on_its_last_complete_periods_only():
    # 2 % of the requests in [100, 110) and in [110, 120): at 120 both periods are complete.
    breach = {"requests": [(101, 500), (105, 500), (111, 1000)], "errors": [(102, 20), (113, 20)]}
    assert alarm_state(RATE, breach, now=120.5) == "ALARM"
    assert alarm_state(RATE, breach, now=119.0) == "OK", "[110, 120) is not over yet: one period breaches"
    assert alarm_state(RATE, {}, now=120.5) == "OK", "missing data does not breach"


def test_a_rate_alarm_judges_a_share_not_a_count():
    # 0.9 % of 20,000 requests is 180 errors a period: many, but below the 1 % the bake allows.
    below = {"requests": [(100, 20000), (110, 20000)], "errors": [(100, 180), (110, 180)]}
    assert alarm_state(RATE, below, now=120.5) == "OK"
    above = {"requests": [(100, 20000), (110, 20000)], "errors": [(100, 220), (110, 220)]}
    assert alarm_state(RATE, above, now=120.5) == "ALARM"
    few = {"requests": [(100, 50), (110, 50)], "errors": [(100, 25), (110, 25)]}
    assert alarm_state(RATE, few, now=120.5) == "OK", "50 requests a period are too few to judge"
    no_errors = {"requests": [(100, 20000), (110, 20000)]}
    assert alarm_state(RATE, no_errors, now=120.5) == "OK", "no 5xx published: FILL makes it 0"


def test_metric_math_as_cloudwatch_plays_it():
    assert evaluate("IF(a >= 1, 100 * FILL(b, 0) / a, 0)", {"a": 4, "b": None}) == 0
    assert evaluate("100 * b / (a + b)", {"a": 1, "b": 1}) == 50
    assert evaluate("a / b", {"a": 1, "b": 0}) is None, "no value for x / 0"
    assert evaluate("a + b", {"a": 1, "b": None}) is None, "a missing metric has no value"


def test_a_gauge_alarm_takes_the_maximum_of_each_period():
    data = {"m1": [(101, 0), (102, 2), (111, 1)]}
    assert alarm_state(GAUGE, data, now=120.5) == "ALARM"
    assert alarm_state(GAUGE, {"m1": [(101, 0), (111, 1)]}, now=120.5) == "OK", "no unhealthy host in [100, 110)"


def test_event_patterns_match_as_eventbridge_matches_them():
    pattern = {"source": ["aws.cloudwatch"], "resources": ["arn:a"], "detail": {"state": {"value": ["ALARM"]}}}
    event = {"source": "aws.cloudwatch", "resources": ["arn:a", "arn:b"], "detail": {"state": {"value": "ALARM"}}}
    assert matches(pattern, event)
    assert not matches(pattern, {**event, "detail": {"state": {"value": "OK"}}}), "OK must never match"
    assert not matches(pattern, {**event, "resources": ["arn:c"]}), "another alarm"
    assert not matches(pattern, {**event, "source": "aws.ecs"})
