# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every AWS call of the collection: one retry policy, one error type.

Retry policy, the same for every module:
  1. botocore retries each request itself in its adaptive mode (client-side rate limiting and
     up to 10 attempts), which handles throttling and transient errors of any service;
  2. when those attempts are used up, RETRY (amazon.aws's jittered backoff) tries the call again
     a few times, further apart. amazon.aws's list of codes lacks ThrottlingException (ECS,
     CloudWatch Logs, SSM), so it is added. RETRY acts only on calls made with aws_retry=True,
     which every call below is.
Listener actions are read and written in one place, module_utils/listener.py.

Errors: each call raises AnsibleAWSError (AWSErrorHandler); a module's main() turns it into
one failure with module.fail_json_aws_error.
"""

from __future__ import annotations

try:
    from botocore.config import Config
except ImportError:
    Config = None  # AnsibleAWSModule says botocore is missing before any client is made

from ansible_collections.amazon.aws.plugins.module_utils.botocore import (
    boto3_conn,
    get_aws_connection_info,
    is_boto3_error_code,
)
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper
from ansible_collections.switchyard.bluegreen.plugins.module_utils.records import RECORD_STREAM

# botocore's own retries: adaptive mode, 10 attempts in all.
BOTOCORE_RETRIES = {"mode": "adaptive", "max_attempts": 10}
# Throttling codes that amazon.aws 10.1's AWSRetry does not know (it knows Throttling).
EXTRA_THROTTLING_CODES = ["ThrottlingException", "TooManyRequestsException"]
# After botocore gives up: 4 more tries, 3 s apart at first, doubling, jittered, at most 30 s.
RETRY = AWSRetry.jittered_backoff(retries=4, delay=3, max_delay=30, catch_extra_error_codes=EXTRA_THROTTLING_CODES)


def client(module, service):
    """A client of service with the collection's retry policy (call it with aws_retry=True)."""
    config = Config(retries=dict(BOTOCORE_RETRIES))
    return RetryingBotoClientWrapper(connect(module, service, config), RETRY)


def connect(module, service, config):
    """A boto3 client with the module's connection options, made by amazon.aws's boto3_conn (as
    AnsibleAWSModule.client() makes it: its user agent, the module's aws_config merged into config),
    after a refusal that names what to set when no region is known."""
    region, endpoint, params = get_aws_connection_info(module)
    if not region:
        module.fail_json(
            msg=f"No AWS region for {service}: set region in the inventory's switchyard_aws_connection"
            " or AWS_REGION. Nothing was changed."
        )
    return boto3_conn(
        module, conn_type="client", resource=service, region=region, endpoint=endpoint, config=config, **params
    )


class _MissingParameter(AWSErrorHandler):
    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ParameterNotFound")


class _MissingLogStream(AWSErrorHandler):
    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ResourceNotFoundException")


class _MissingTaskDefinition(AWSErrorHandler):
    @classmethod
    def _is_missing(cls):
        # ECS answers ClientException "Unable to describe task definition" for a family without
        # an active revision.
        return is_boto3_error_code("ClientException")


# ECS


@AWSErrorHandler.common_error_handler("describe the ECS services")
def describe_services(ecs, cluster, names):
    """Active services among names (at most 10, ECS's limit per call)."""
    found = ecs.describe_services(cluster=cluster, services=list(names), aws_retry=True)["services"]
    return [service for service in found if service.get("status") == "ACTIVE"]


def describe_service(ecs, cluster, name):
    """The active service called name, or None."""
    found = describe_services(ecs, cluster, [name])
    return found[0] if found else None


@AWSErrorHandler.common_error_handler("describe the task definition")
def describe_task_definition(ecs, task_definition):
    """(task definition, tags) of an ARN, family:revision, or family (its latest active revision)."""
    response = ecs.describe_task_definition(taskDefinition=task_definition, include=["TAGS"], aws_retry=True)
    return response["taskDefinition"], response.get("tags") or []


@_MissingTaskDefinition.list_error_handler("describe the family's latest task definition")
def describe_latest_revision(ecs, family):
    """The family's latest active revision (one call, whatever the number of revisions), or None."""
    return ecs.describe_task_definition(taskDefinition=family, aws_retry=True)["taskDefinition"]


@AWSErrorHandler.common_error_handler("register the task definition")
def register_task_definition(ecs, body, tags):
    """Register body (registrable fields only) with tags; the new revision."""
    extra = {"tags": tags} if tags else {}
    return ecs.register_task_definition(**body, **extra, aws_retry=True)["taskDefinition"]


def registrable_fields(ecs):
    """Every field register_task_definition accepts besides tags, as the client's API model says."""
    members = ecs.meta.service_model.operation_model("RegisterTaskDefinition").input_shape.members
    return frozenset(members) - {"tags"}


class TaskNotStartedError(RuntimeError):
    """RunTask answered with failures instead of a task (no capacity, a bad image, ...)."""


@AWSErrorHandler.common_error_handler("run the one-off task")
def run_task(ecs, request):
    """The task RunTask started; TaskNotStartedError with ECS's reasons when it started none."""
    response = ecs.run_task(**request, aws_retry=True)
    if not response.get("tasks"):
        reasons = (
            "; ".join(
                f"{f.get('arn', '')} {f.get('reason', '')} {f.get('detail', '')}".strip()
                for f in response.get("failures", [])
            )
            or "no reason given"
        )
        raise TaskNotStartedError(f"ECS started no task: {reasons}")
    return response["tasks"][0]


@AWSErrorHandler.common_error_handler("describe the one-off task")
def describe_tasks(ecs, cluster, task_arns):
    return ecs.describe_tasks(cluster=cluster, tasks=list(task_arns), aws_retry=True)["tasks"]


@AWSErrorHandler.common_error_handler("update the ECS service")
def update_service(ecs, **kwargs):
    ecs.update_service(**kwargs, aws_retry=True)


# ELBv2 (listener actions: module_utils/listener.py)


@AWSErrorHandler.common_error_handler("describe the target group's target health")
def healthy_target_count(elbv2, target_group_arn):
    health = elbv2.describe_target_health(TargetGroupArn=target_group_arn, aws_retry=True)["TargetHealthDescriptions"]
    return sum(1 for d in health if d["TargetHealth"]["State"] == "healthy")


# CloudWatch


# What an ALB tells about one target group: (name, metric, statistic, per target group or per
# load balancer). The load balancer's own 5xx (a crashed or hanging target) exist only per load
# balancer; the rest per target group.
ALB_SIGNALS = (
    ("requests", "RequestCount", "Sum", True),
    ("target_errors", "HTTPCode_Target_5XX_Count", "Sum", True),
    ("connection_errors", "TargetConnectionErrorCount", "Sum", True),
    ("unhealthy_hosts", "UnHealthyHostCount", "Maximum", True),
    ("lb_errors", "HTTPCode_ELB_5XX_Count", "Sum", False),
)
PER_LOAD_BALANCER = {name for name, _metric, _stat, per_group in ALB_SIGNALS if not per_group}


@AWSErrorHandler.common_error_handler("read the ALB's CloudWatch metrics")
def alb_signals(cloudwatch, load_balancer, target_group, *, start, end, period, per_lb_from=None, until=None):
    """Every ALB signal of a target group over [start, until) in one GetMetricData call (no metric
    math) that reads up to `end` (until defaults to end): {name: total (maximum for a gauge)}, and
    the start of the latest bucket that arrived up to `end`, of any signal (None when none did).
    Reading past the window shows whether CloudWatch has delivered it: a later bucket arrived, so
    a bucket missing inside the window is a period without requests (AWS publishes none then).
    The per load balancer signals count only buckets from per_lb_from on: the bucket that holds a
    switch also holds what the other colour did before it."""
    until = end if until is None else until
    queries = []
    for name, metric, statistic, per_group in ALB_SIGNALS:
        dimensions = [{"Name": "LoadBalancer", "Value": load_balancer}]
        if per_group:
            dimensions.append({"Name": "TargetGroup", "Value": target_group})
        metric_stat = {
            "Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": metric, "Dimensions": dimensions},
            "Period": int(period),
            "Stat": statistic,
        }
        queries.append({"Id": name, "MetricStat": metric_stat, "ReturnData": True})
    values = {signal[0]: [] for signal in ALB_SIGNALS}
    latest = None
    request = dict(MetricDataQueries=queries, StartTime=start, EndTime=end)
    while True:
        response = cloudwatch.get_metric_data(aws_retry=True, **request)
        for series in response["MetricDataResults"]:
            points = zip(series["Timestamps"], series["Values"])  # noqa: B905 - managed nodes may predate strict=
            points = [(stamp, value) for stamp, value in points if stamp < until]
            if per_lb_from is not None and series["Id"] in PER_LOAD_BALANCER:
                points = [(stamp, value) for stamp, value in points if stamp >= per_lb_from]
            values[series["Id"]].extend(value for _time, value in points)
            if series["Timestamps"]:
                newest = max(series["Timestamps"])
                latest = newest if latest is None else max(latest, newest)
        if not response.get("NextToken"):
            break
        request["NextToken"] = response["NextToken"]
    totals = {
        name: int(max(values[name], default=0) if stat == "Maximum" else sum(values[name]))
        for name, _metric, stat, _per_group in ALB_SIGNALS
    }
    return totals, latest


# SSM


@_MissingParameter.list_error_handler("read the SSM parameter")
def get_parameter(ssm, name):
    """The parameter's value, or None when there is no such parameter."""
    return ssm.get_parameter(Name=name, aws_retry=True)["Parameter"]["Value"]


# CloudWatch Logs


@AWSErrorHandler.common_error_handler("write the deployment record")
def append_log_event(logs, log_group, timestamp_ms, message, stream=RECORD_STREAM):
    """Put one event in the records stream; the stream is created by the first record only, so
    every later record costs one call."""
    event = dict(
        logGroupName=log_group, logStreamName=stream, logEvents=[{"timestamp": timestamp_ms, "message": message}]
    )
    try:
        logs.put_log_events(**event, aws_retry=True)
    except is_boto3_error_code("ResourceNotFoundException"):
        try:
            logs.create_log_stream(logGroupName=log_group, logStreamName=stream, aws_retry=True)
        except is_boto3_error_code("ResourceAlreadyExistsException"):
            pass  # another run created it meanwhile
        logs.put_log_events(**event, aws_retry=True)


def _latest_events(logs, log_group, limit, stream):
    return logs.get_log_events(
        logGroupName=log_group, logStreamName=stream, limit=limit, startFromHead=False, aws_retry=True
    )["events"]


@_MissingLogStream.list_error_handler("read the deployment records", default_value=[])
def latest_log_events(logs, log_group, limit, stream=RECORD_STREAM):
    """The latest limit events of the stream, in any order; [] before the first record."""
    return _latest_events(logs, log_group, limit, stream)


@_MissingLogStream.list_error_handler("read the one-off task's log stream", default_value=[])
def latest_task_log_events(logs, log_group, stream, limit):
    """The latest limit lines a task's container logged, in any order; [] when it logged none."""
    return _latest_events(logs, log_group, limit, stream)
