"""SANDBOX ONLY: what the AWS API emulator does not do by itself, done through its public API.

Real ECS registers a service's task addresses in its target group, and a real ALB publishes
request, 5xx and target health metrics to CloudWatch. The emulator (moto) does neither, so this
loop does both, once a tick, for every ECS service attached to a target group:

- tasks: ECS starts tasks until runningCount reaches desiredCount; the emulator only does so
  when the desired count is updated, so a service created at N tasks is nudged once.
- targets: a service with N desired tasks gets N IP targets in its target group (the emulator
  reports registered IP targets healthy). An image whose tag contains "unhealthy" never gets any,
  which is how a release that fails its health checks looks from outside.
- metrics: every target group the production listener (tag Role=production) forwards to receives
  a share of the requests by its weight. Markers in the image tag make a release misbehave once
  it takes production traffic:
    "5xx-2.5"   its targets answer 2.5 % of requests with 5xx (HTTPCode_Target_5XX_Count);
    "crash"     its tasks die: the load balancer answers 502 itself (HTTPCode_ELB_5XX_Count, per
                load balancer), target connections fail and its targets turn unhealthy;
    "after-30"  the marked fault starts 30 s after the release first took production traffic.
- delivery: like AWS, metrics are summed into buckets of --period seconds and a bucket is
  published --delay seconds after it ends (defaults: 60 s buckets, 75 s late), only when requests
  flowed. --fast publishes 1-second buckets at once, for tests that are not about detection.

- data plane: with --data-plane-port, it answers HTTP as the load balancer would, for synthetic
  probes: /production/<path> and /test/<path> go to a colour the listener of that role forwards
  to (by weight), which answers 200 with its image, 500 for a "5xx-N" share, 502 once crashed, and
  503 when it has no registered target.

- the guard: every EventBridge rule that sends CloudWatch alarm state changes to a Lambda function
  is played here, since Lambda execution in the emulator needs Docker. Once a second the harness
  evaluates the alarms the rule names on the metrics as published, as CloudWatch does (each of
  its last EvaluationPeriods complete periods, summed or at their maximum, against the threshold;
  missing data does not breach), sets each alarm whose state changes, and calls the function's
  handler (module_utils/guard.py, the very code of its package) in this process with the event
  EventBridge would deliver, when the rule's pattern matches it.

A JSON file given with --settings overrides period_seconds, delay_seconds,
requests_per_second and tick_seconds; it is read again every tick, so a test or the benchmark can
switch modes (or slow the ticks down, as a busy machine does). Whatever the ticks, each tick's
requests are spread over every bucket since the last one, and a late tick is said in the log.

Run: python sandbox/sandbox_harness.py --endpoint http://127.0.0.1:4566 [--tick 1] [--fast]
     [--data-plane-port 4567]
Never point this at a real AWS account: it refuses any endpoint that is not loopback.
"""

from __future__ import annotations

import argparse
import ast
import ipaddress
import json
import random
import re
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import boto3

REPO = Path(__file__).resolve().parent.parent

ERROR_TAG = re.compile(r"5xx-(\d+(?:\.\d+)?)")
ONSET_TAG = re.compile(r"after-(\d+)")
REALISTIC = {"period_seconds": 60, "delay_seconds": 75, "requests_per_second": 2000}
FAST = {"period_seconds": 1, "delay_seconds": 0, "requests_per_second": 2000}
RULES_SECONDS = 10  # how often the guard's EventBridge rules are read again
MAX_SPAN_SECONDS = 600.0  # a harness stopped longer than this (a suspended laptop) does not replay it


def image_tag(image: str) -> str:
    """The tag of an image reference (a digest-only reference has none)."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else ""


def healthy_image(image: str) -> bool:
    return "unhealthy" not in image_tag(image)


def error_percent(image: str) -> float:
    match = ERROR_TAG.search(image_tag(image))
    return float(match.group(1)) if match else 0.0


def crashes(image: str) -> bool:
    return "crash" in image_tag(image)


def onset_seconds(image: str) -> float:
    """How long after first taking production traffic the image's marked fault starts."""
    match = ONSET_TAG.search(image_tag(image))
    return float(match.group(1)) if match else 0.0


def bucket_start(timestamp: float, period: float) -> float:
    return timestamp - timestamp % period


def spans(since: float, now: float, period: float):
    """(start, end) pieces of [since, now) cut at every bucket boundary."""
    start = since
    while start < now:
        end = min(bucket_start(start, period) + period, now)
        yield start, end
        start = end


class Buckets:
    """ALB metrics summed per period and published once a bucket is `delay` seconds past its end,
    as CloudWatch receives them from a real load balancer. Counts are summed; gauges keep their
    maximum (statistic Maximum)."""

    def __init__(self):
        self.pending = defaultdict(dict)  # (start, period) -> {(metric, dimensions): value}

    def add(self, now: float, period: float, key: tuple, value: float, gauge=False):
        """key: (metric name, ((dimension, value), ...))."""
        values = self.pending[(bucket_start(now, period), period)]
        values[key] = max(values.get(key, 0), value) if gauge else values.get(key, 0) + value

    def due(self, now: float, delay: float):
        """The buckets to publish now, as put_metric_data items, and forget them."""
        ready = [key for key in self.pending if key[0] + key[1] + delay <= now]
        for start, period in sorted(ready):
            for (metric, dimensions), value in self.pending.pop((start, period)).items():
                yield {
                    "MetricName": metric,
                    "Dimensions": [{"Name": name, "Value": v} for name, v in dimensions],
                    "Timestamp": datetime.fromtimestamp(start, UTC),
                    "Value": value,
                    "Unit": "Count",
                }


def client(endpoint: str, service: str):
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="SANDBOXHARNESS",  # tells its calls apart from the deployment's
        aws_secret_access_key="sandbox-not-a-secret",
    )


def clients(endpoint: str):
    return (client(endpoint, s) for s in ("ecs", "elbv2", "ec2", "cloudwatch"))


# --- the guard: CloudWatch's alarm evaluation and EventBridge, played ------------------------

COMPARE = {
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}


def matches(pattern, event) -> bool:
    """Whether an EventBridge event pattern (exact values only) matches the event."""
    for key, wanted in pattern.items():
        value = event.get(key) if isinstance(event, dict) else None
        if isinstance(wanted, dict):
            if not isinstance(value, dict) or not matches(wanted, value):
                return False
        elif isinstance(value, list):
            if not set(map(json.dumps, value)) & set(map(json.dumps, wanted)):
                return False
        elif value not in wanted:
            return False
    return True


def alarm_metrics(alarm: dict) -> tuple[list[tuple[str, dict]], str]:
    """(id, MetricStat) of every metric an alarm reads, and the expression it is judged on: its
    metric math, or the one metric's id."""
    if alarm.get("Metrics"):
        stats = [(q["Id"], q["MetricStat"]) for q in alarm["Metrics"] if "MetricStat" in q]
        returned = [q for q in alarm["Metrics"] if q.get("ReturnData", True)]
        return stats, returned[0].get("Expression") or returned[0]["Id"]
    metric = {
        "Namespace": alarm["Namespace"],
        "MetricName": alarm["MetricName"],
        "Dimensions": alarm.get("Dimensions", []),
    }
    return [("m1", {"Metric": metric, "Period": alarm["Period"], "Stat": alarm["Statistic"]})], "m1"


MATH_FUNCTIONS = {
    "IF": lambda condition, then, otherwise: None if condition is None else (then if condition else otherwise),
    "FILL": lambda value, fill: fill if value is None else value,
}
MATH_OPERATORS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b if b else None,  # CloudWatch has no value for x / 0
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
}


def evaluate(expression: str, values: dict):
    """CloudWatch metric math on one period: +, -, *, /, comparisons, IF and FILL, ids from
    values (None for a metric with no datapoint). None when the result has no value."""

    def value_of(node):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return values.get(node.id)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MATH_FUNCTIONS:
            return MATH_FUNCTIONS[node.func.id](*map(value_of, node.args))
        if isinstance(node, ast.BinOp | ast.Compare):
            left, operator, right = (
                (node.left, node.op, node.right)
                if isinstance(node, ast.BinOp)
                else (node.left, node.ops[0], node.comparators[0])
            )
            a, b = value_of(left), value_of(right)
            return None if a is None or b is None else MATH_OPERATORS[type(operator)](a, b)
        raise ValueError(f"metric math the harness does not play: {ast.dump(node)}")

    return value_of(ast.parse(expression, mode="eval").body)


def alarm_state(alarm: dict, series: dict, now: float) -> str:
    """ALARM or OK, as CloudWatch judges an alarm: on its last EvaluationPeriods complete periods,
    DatapointsToAlarm of which must breach (missing data does not breach). series: {metric id:
    [(epoch seconds, value)]} of every published bucket of each of alarm_metrics(alarm), summed
    (or at their maximum) per period, then put through the alarm's metric math."""
    stats, expression = alarm_metrics(alarm)
    period = alarm.get("Period") or stats[0][1]["Period"]
    evaluations = alarm.get("EvaluationPeriods", 1)
    end = bucket_start(now, period)
    compare = COMPARE[alarm["ComparisonOperator"]]
    breaching = 0
    for start in (end - (i + 1) * period for i in range(evaluations)):
        values = {}
        for metric_id, stat in stats:
            points = [value for stamp, value in series.get(metric_id, []) if start <= stamp < start + period]
            values[metric_id] = (max(points) if stat["Stat"] == "Maximum" else sum(points)) if points else None
        value = evaluate(expression, values) if any(v is not None for v in values.values()) else None
        breaching += value is not None and compare(value, alarm["Threshold"])
    return "ALARM" if breaching >= alarm.get("DatapointsToAlarm", evaluations) else "OK"


def alarm_event(alarm: dict, previous: str, state: str, now: float) -> dict:
    """The "CloudWatch Alarm State Change" event EventBridge delivers for the alarm, with the
    periods it evaluated in state.reasonData and its metrics in configuration, as CloudWatch
    names them."""
    stamp = datetime.fromtimestamp(now, UTC).isoformat()
    stats, _ = alarm_metrics(alarm)
    period = alarm.get("Period") or stats[0][1]["Period"]
    end = bucket_start(now, period)
    evaluated = [
        {"timestamp": datetime.fromtimestamp(end - (i + 1) * period, UTC).isoformat()}
        for i in range(alarm.get("EvaluationPeriods", 1))
    ]
    reason = {"version": "1.0", "period": period, "evaluatedDatapoints": evaluated}

    def metric_stat(stat):
        metric = stat["Metric"]
        dimensions = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
        return {
            "metric": {"namespace": metric["Namespace"], "name": metric["MetricName"], "dimensions": dimensions},
            "period": stat["Period"],
            "stat": stat["Stat"],
        }

    queries = alarm.get("Metrics") or [{"Id": "m1", "MetricStat": stats[0][1], "ReturnData": True}]
    metrics = [
        {"id": q["Id"], "returnData": q.get("ReturnData", True)}
        | ({"metricStat": metric_stat(q["MetricStat"])} if "MetricStat" in q else {"expression": q["Expression"]})
        for q in queries
    ]
    return {
        "version": "0",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "time": stamp,
        "region": "us-east-1",
        "resources": [alarm["AlarmArn"]],
        "detail": {
            "alarmName": alarm["AlarmName"],
            "state": {
                "value": state,
                "reason": "sandbox harness: the published metrics",
                "reasonData": json.dumps(reason),
                "timestamp": stamp,
            },
            "previousState": {"value": previous},
            "configuration": {"metrics": metrics},
        },
    }


def by_name(metric: dict) -> dict:
    return dict(metric, Dimensions=sorted(metric.get("Dimensions", []), key=lambda d: d["Name"]))


class Guard:
    """Plays the rules that send alarm state changes to a Lambda function, once a second."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.cloudwatch, self.events, self.lambdas = (client(endpoint, s) for s in ("cloudwatch", "events", "lambda"))
        self.last = 0.0
        self.known_rules, self.rules_read = None, 0.0

    def rules(self, now: float):
        """(pattern, [function environment]) of every enabled rule on alarm state changes, read
        again every RULES_SECONDS (they change only when a stack is applied)."""
        if self.known_rules is None or now - self.rules_read >= RULES_SECONDS:
            self.known_rules, self.rules_read = list(self.read_rules()), now
        return self.known_rules

    def read_rules(self):
        for rule in self.events.list_rules()["Rules"]:
            pattern = json.loads(rule.get("EventPattern") or "{}")
            if rule.get("State") != "ENABLED" or pattern.get("source") != ["aws.cloudwatch"]:
                continue
            targets = self.events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
            arns = [t["Arn"] for t in targets if ":lambda:" in t["Arn"]]
            configurations = [self.lambdas.get_function_configuration(FunctionName=arn) for arn in arns]
            functions = [c.get("Environment", {}).get("Variables", {}) for c in configurations]
            yield pattern, functions

    def invoke(self, environ: dict, event: dict) -> None:
        if str(REPO / ".collections") not in sys.path:
            sys.path.insert(0, str(REPO / ".collections"))
        from ansible_collections.switchyard.bluegreen.plugins.module_utils import guard  # noqa: PLC0415

        try:
            result = guard.handle(event, environ, lambda service: client(self.endpoint, service))
        except Exception as error:  # noqa: BLE001 - a failed invocation is logged, as Lambda would
            result = {"error": repr(error)}
        print(f"harness: guard on {event['detail']['alarmName']}: {json.dumps(result)}", file=sys.stderr, flush=True)

    def published(self, alarm: dict, now: float) -> dict:
        """{metric id: [(epoch seconds, value)]}: what was published of each metric the alarm
        reads, per alarm period (summed, or at their maximum), over its evaluation periods and one
        more (GetMetricData, which matches dimensions exactly, as an alarm does)."""
        stats, _ = alarm_metrics(alarm)
        period = alarm.get("Period") or stats[0][1]["Period"]
        # Aligned on the periods: GetMetricData's periods count from StartTime, as alarm_state's.
        start = bucket_start(now, period) - (alarm.get("EvaluationPeriods", 1) + 1) * period
        # Dimensions in the order the harness publishes them (by name): the emulator matches
        # GetMetricData's dimensions as ordered lists (its Dimension sorts inconsistently), AWS as sets.
        queries = []
        for metric_id, stat in stats:
            aligned = dict(stat, Period=int(period), Metric=by_name(stat["Metric"]))
            queries.append({"Id": metric_id, "MetricStat": aligned, "ReturnData": True})
        results = self.cloudwatch.get_metric_data(
            MetricDataQueries=queries,
            StartTime=datetime.fromtimestamp(start, UTC),
            EndTime=datetime.fromtimestamp(now, UTC),
        )["MetricDataResults"]
        return {
            r["Id"]: [(t.timestamp(), v) for t, v in zip(r["Timestamps"], r["Values"], strict=True)] for r in results
        }

    def tick(self, now: float) -> None:
        if now - self.last < 1.0:
            return
        self.last = now
        for pattern, functions in self.rules(now):
            names = [arn.split(":alarm:", 1)[1] for arn in pattern.get("resources", []) if ":alarm:" in arn]
            if not names:
                continue
            for alarm in self.cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]:
                series = self.published(alarm, now)
                state, previous = alarm_state(alarm, series, now), alarm["StateValue"]
                if state == previous:
                    continue
                self.cloudwatch.set_alarm_state(
                    AlarmName=alarm["AlarmName"], StateValue=state, StateReason="sandbox harness: published metrics"
                )
                event = alarm_event(alarm, previous, state, now)
                if matches(pattern, event):
                    for environ in functions:
                        self.invoke(environ, event)


class Harness:
    def __init__(self, endpoint: str, defaults: dict, settings_file: Path | None = None, tick_seconds: float = 1.0):
        self.ecs, self.elbv2, self.ec2, self.cloudwatch = clients(endpoint)
        self.tick_seconds = tick_seconds
        self.owed = {}  # (load balancer, target group, what) -> the fraction not yet counted
        self.guard = Guard(endpoint)
        self.defaults = defaults
        self.settings_file = settings_file
        self.buckets = Buckets()
        self.first_traffic = {}  # (target group, image) -> when it first took production traffic
        self.last_tick = None
        self.routes, self.images, self.targets = {"production": [], "test": []}, {}, {}

    def answer(self, role: str) -> tuple[int, str]:
        """(status, body) of one request through the listener of the role, as its load balancer
        and the colour it picks would answer."""
        weights = next((w for _, w in self.routes.get(role, [])), None)
        if not weights or not sum(weights.values()):
            return 503, "no listener with that role forwards anywhere"
        group = random.choices(list(weights), weights=list(weights.values()))[0]  # noqa: S311 - not crypto
        image = self.images.get(group, "")
        if not self.targets.get(group):
            return 503, "no registered target"
        # The fault of a marked image starts with production traffic, probes or not.
        first = self.first_traffic.get((group, image))
        faulty = first is not None and time.time() - first >= onset_seconds(image)
        if faulty and crashes(image):
            return 502, "bad gateway"
        if faulty and random.random() * 100 < error_percent(image):  # noqa: S311 - not crypto
            return 500, "internal server error"
        return 200, json.dumps({"version": image})

    def settings(self) -> dict:
        """The delivery settings: the defaults, overridden by the settings file when there is one
        (a value that is not a positive number is ignored, said in the log)."""
        settings = dict(self.defaults)
        if self.settings_file and self.settings_file.exists():
            try:
                given = json.loads(self.settings_file.read_text())
            except (OSError, ValueError):  # a file being written: the defaults for this tick
                given = {}
            for name, value in (given if isinstance(given, dict) else {}).items():
                if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
                    settings[name] = value
                else:
                    print(f"harness: ignored setting {name}={value!r}: give a number >= 0", file=sys.stderr, flush=True)
        return settings

    def services(self):
        """(service, image) for every service attached to a target group."""
        for cluster_arn in self.ecs.list_clusters()["clusterArns"]:
            arns = self.ecs.list_services(cluster=cluster_arn)["serviceArns"]
            for start in range(0, len(arns), 10):
                described = self.ecs.describe_services(cluster=cluster_arn, services=arns[start : start + 10])[
                    "services"
                ]
                for service in described:
                    if not service.get("loadBalancers"):
                        continue
                    task = self.ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
                    yield service, task["containerDefinitions"][0]["image"]

    def addresses(self, service, count: int) -> list[str]:
        """Task addresses inside the service's first subnet (blue in its lower half, green in the
        upper), new ones for each task definition revision, as ECS starts new tasks for a new
        revision and stops the old ones."""
        subnet_id = service["networkConfiguration"]["awsvpcConfiguration"]["subnets"][0]
        cidr = self.ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["CidrBlock"]
        hosts = list(ipaddress.ip_network(cidr).hosts())
        half = len(hosts) // 2
        count = min(count, half)
        revision = int(service["taskDefinition"].rsplit(":", 1)[1])
        base = 0 if service["serviceName"].endswith("blue") else half
        start = base + (revision * 8) % (half - count + 1)
        return [str(host) for host in hosts[start : start + count]]

    def start_tasks(self, service) -> None:
        if service["runningCount"] != service["desiredCount"]:
            self.ecs.update_service(
                cluster=service["clusterArn"],
                service=service["serviceName"],
                desiredCount=service["desiredCount"],
            )

    def sync_targets(self, service, image) -> int:
        """Registers the service's task addresses in its target group; how many are registered."""
        binding = service["loadBalancers"][0]
        group = binding["targetGroupArn"]
        wanted = set()
        if healthy_image(image) and service["desiredCount"] > 0:
            wanted = set(self.addresses(service, service["desiredCount"]))
        health = self.elbv2.describe_target_health(TargetGroupArn=group)
        present = {d["Target"]["Id"] for d in health["TargetHealthDescriptions"]}
        port = binding["containerPort"]
        if wanted - present:
            targets = [{"Id": ip, "Port": port} for ip in sorted(wanted - present)]
            self.elbv2.register_targets(TargetGroupArn=group, Targets=targets)
        if present - wanted:
            targets = [{"Id": ip, "Port": port} for ip in sorted(present - wanted)]
            self.elbv2.deregister_targets(TargetGroupArn=group, Targets=targets)
        return len(wanted)

    def listener_weights(self) -> dict:
        """{role: [(load balancer arn suffix, {target group arn: weight})]} for the listeners tagged
        Role=production or Role=test, in one pass (one DescribeTags per load balancer)."""
        routes = {"production": [], "test": []}
        for lb in self.elbv2.describe_load_balancers()["LoadBalancers"]:
            suffix = lb["LoadBalancerArn"].split(":loadbalancer/", 1)[1]
            listeners = self.elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
            if not listeners:
                continue
            described = self.elbv2.describe_tags(ResourceArns=[x["ListenerArn"] for x in listeners])
            roles = {
                d["ResourceArn"]: {t["Value"] for t in d["Tags"] if t["Key"] == "Role"}
                for d in described["TagDescriptions"]
            }
            for listener in listeners:
                action = listener["DefaultActions"][0]
                groups = (action.get("ForwardConfig") or {}).get("TargetGroups")
                weights = (
                    {g["TargetGroupArn"]: g.get("Weight", 1) for g in groups}
                    if groups
                    else {action["TargetGroupArn"]: 1}
                )
                for role in roles.get(listener["ListenerArn"], set()) & set(routes):
                    routes[role].append((suffix, weights))
        return routes

    def faulty(self, group: str, image: str, now: float) -> bool:
        """Whether the image's marked fault has started: it took production traffic long enough ago."""
        first = self.first_traffic.setdefault((group, image), now)
        return now - first >= onset_seconds(image)

    def record_metrics(self, since: float, now: float) -> None:
        """Adds what the production listeners carried from `since` to `now` to the open buckets,
        spread over every bucket that span touches (a slow tick leaves no bucket empty), then
        publishes the buckets that are due. The listeners' weights are those read this tick: a
        switch within a slow tick counts from the tick before it."""
        settings = self.settings()
        period = float(settings["period_seconds"])
        rate = float(settings["requests_per_second"])
        for start, end in spans(since, now, period):
            for lb_suffix, weights in self.routes["production"]:
                self.record_span(lb_suffix, weights, (start, end), rate, period)
        data = list(self.buckets.due(now, float(settings["delay_seconds"])))
        for start in range(0, len(data), 500):
            self.cloudwatch.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data[start : start + 500])

    def record_span(self, lb_suffix: str, weights: dict, span: tuple[float, float], rate: float, period: float):
        """The requests of one load balancer over span, (start, end) within one bucket, by weight.
        Fractions of a request carry over to the next span, so a quiet service (a few requests a
        minute) still gets its few requests."""
        start, end = span
        total = sum(weights.values()) or 1
        elb_errors = lb_requests = 0
        for group, weight in weights.items():
            if weight <= 0:
                continue
            image = self.images.get(group, "")
            # Its fault starts with production traffic, also before a quiet service's first request.
            faulty = self.faulty(group, image, end)
            crashed = faulty and crashes(image)
            dimensions = (("LoadBalancer", lb_suffix), ("TargetGroup", group.split(":", 5)[5]))
            # Target health is published every period, requests or not (AWS does so while health
            # checks run): it is what shows a quiet colour's minutes were delivered.
            unhealthy = self.targets.get(group, 0) if crashed else 0
            self.buckets.add(start, period, ("UnHealthyHostCount", dimensions), unhealthy, gauge=True)
            requests = self.owe((lb_suffix, group, "requests"), rate * (end - start) * weight / total)
            if requests == 0:
                continue
            lb_requests += requests
            share = error_percent(image) / 100 if faulty and not crashed else 0.0
            errors = self.owe((lb_suffix, group, "errors"), requests * share)
            self.buckets.add(start, period, ("RequestCount", dimensions), requests)
            self.buckets.add(start, period, ("HTTPCode_Target_5XX_Count", dimensions), errors)
            self.buckets.add(start, period, ("TargetConnectionErrorCount", dimensions), requests if crashed else 0)
            elb_errors += requests if crashed else 0
        if lb_requests:
            # The load balancer's own 502s are counted per load balancer, not per target group;
            # so are all its requests, besides each target group's.
            per_lb = (("LoadBalancer", lb_suffix),)
            self.buckets.add(start, period, ("HTTPCode_ELB_5XX_Count", per_lb), elb_errors)
            self.buckets.add(start, period, ("RequestCount", per_lb), lb_requests)

    def tick(self) -> None:
        now = time.time()
        images, targets = {}, {}
        for service, image in self.services():
            self.start_tasks(service)
            group = service["loadBalancers"][0]["targetGroupArn"]
            targets[group] = self.sync_targets(service, image)
            images[group] = image
        # What the metrics and the data plane work from, replaced whole (its threads only read).
        self.routes, self.images, self.targets = self.listener_weights(), images, targets
        since = self.last_tick or now
        self.last_tick = now
        self.note_overrun(now - since)
        self.record_metrics(max(since, now - MAX_SPAN_SECONDS), now)
        self.guard.tick(now)

    def owe(self, key: tuple, amount: float) -> int:
        """The whole part of what is owed to key (requests or errors), carrying the fraction over
        to the next span: a quiet service gets its few requests, a low rate its share of errors."""
        owed = self.owed.get(key, 0.0) + amount
        whole = int(owed + 1e-9)  # 0.7 * 10 is 6.999...: still 7
        self.owed[key] = owed - whole
        return whole

    def note_overrun(self, gap: float) -> None:
        """Says in the log when a tick came late (a busy machine): its requests are spread over
        every bucket since the last tick, so the metrics stay whole, but the data plane and the
        targets lagged."""
        tick = self.tick_seconds
        if gap > 2 * tick + 0.5:
            print(
                f"harness: tick overran: {gap:.1f} s since the last (every {tick:g} s is asked); "
                f"its requests are spread over every bucket in between",
                file=sys.stderr,
                flush=True,
            )


def serve_data_plane(harness: Harness, port: int) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            role = self.path.strip("/").split("/", 1)[0]
            status, body = harness.answer(role)
            payload = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if status == 200 else "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass  # one line per probe would drown the log

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--tick", type=float, default=1.0, help="seconds between passes")
    parser.add_argument("--period", type=float, default=REALISTIC["period_seconds"], help="metric bucket seconds")
    parser.add_argument("--delay", type=float, default=REALISTIC["delay_seconds"], help="publication delay seconds")
    parser.add_argument("--fast", action="store_true", help="1-second buckets published at once")
    parser.add_argument("--settings", type=Path, help="JSON file that overrides the delivery settings")
    parser.add_argument("--data-plane-port", type=int, default=0, help="answer HTTP as the load balancer (0: off)")
    args = parser.parse_args()
    if urlparse(args.endpoint).hostname not in ("127.0.0.1", "localhost"):
        print(f"refusing {args.endpoint}: it drives local emulators only", file=sys.stderr)
        return 2
    defaults = dict(FAST) if args.fast else dict(REALISTIC, period_seconds=args.period, delay_seconds=args.delay)
    harness = Harness(args.endpoint, defaults, args.settings, args.tick)
    if args.data_plane_port:
        serve_data_plane(harness, args.data_plane_port)
    while True:
        try:
            harness.tick()
        except Exception as error:  # noqa: BLE001 - keep going while the stack is being built
            print(f"harness: {error}", file=sys.stderr)
        # The pause asked for this time (the settings may slow the ticks down, as a busy machine does).
        harness.tick_seconds = max(float(harness.settings().get("tick_seconds", args.tick)), 0.1)
        time.sleep(harness.tick_seconds)


if __name__ == "__main__":
    sys.exit(main())
