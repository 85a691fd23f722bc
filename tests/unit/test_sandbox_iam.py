"""sandbox/sandbox_iam.py: an IAM user's calls on the emulator are checked against the resources
they name and the conditions of the statements, as AWS checks them; other keys are the root's."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import emulator

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "sandbox"))
import sandbox_iam  # noqa: E402 (sandbox/ is not a package)

ACCOUNT = "123456789012"
ARN = f"arn:aws:%s:us-east-1:{ACCOUNT}:"
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "ecs:UpdateService",
            "Resource": ARN % "ecs" + "service/prod/prod-*",
            "Condition": {"ArnEquals": {"ecs:cluster": ARN % "ecs" + "cluster/prod"}},
        },
        {"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": ARN % "ssm" + "parameter/switchyard/prod/*"},
        {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": ARN % "dynamodb" + "table/prod-lease"},
        {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": ARN % "logs" + "log-group:/prod/records:*"},
        {
            "Effect": "Allow",
            "Action": "elasticloadbalancing:ModifyListener",
            "Resource": ARN % "elasticloadbalancing" + "listener/app/prod/*",
        },
        {"Effect": "Allow", "Action": "cloudwatch:GetMetricData", "Resource": "*"},
        {"Effect": "Allow", "Action": "ecs:RegisterTaskDefinition", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "ecs:TagResource",
            "Resource": ARN % "ecs" + "task-definition/prod:*",
            "Condition": {"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}},
        },
    ],
}


def test_requests_name_their_resources_as_aws_does():
    resources, values = sandbox_iam.request_resources(
        "ecs", "UpdateService", {"cluster": "prod", "service": "prod-blue"}, "us-east-1", ACCOUNT
    )
    assert resources == [ARN % "ecs" + "service/prod/prod-blue"]
    assert values["ecs:cluster"] == ARN % "ecs" + "cluster/prod"
    assert sandbox_iam.request_resources(
        "ssm", "GetParameter", {"Name": "/switchyard/prod/deployment"}, "us-east-1", ACCOUNT
    )[0] == [ARN % "ssm" + "parameter/switchyard/prod/deployment"]
    assert sandbox_iam.request_resources(
        "logs", "PutLogEvents", {"logGroupName": "/g", "logStreamName": "s"}, "us-east-1", ACCOUNT
    )[0] == [ARN % "logs" + "log-group:/g:log-stream:s"]
    assert sandbox_iam.request_resources("elbv2", "DescribeListeners", {"ListenerArns": ["x"]}, "r", ACCOUNT) is None


@pytest.mark.parametrize(
    ("operator", "expected", "actual", "holds"),
    [
        ("StringEquals", "ecs-tasks.amazonaws.com", "ecs-tasks.amazonaws.com", True),
        ("StringEquals", ["a", "b"], "c", False),
        ("StringLike", "repo:acme/app:environment:*", "repo:acme/app:environment:production", True),
        ("StringNotEquals", "production", "staging", True),
        ("ArnEquals", "arn:aws:ecs:r:1:cluster/prod", "arn:aws:ecs:r:1:cluster/staging", False),
        ("StringEquals", "production", None, False),
        ("StringEqualsIfExists", "production", None, True),
        ("NumericLessThan", "3", "2", False),  # not modelled: the statement does not apply
    ],
)
def test_conditions(operator, expected, actual, holds):
    assert sandbox_iam.condition_holds(operator, expected, actual) is holds


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    logs = tmp_path_factory.mktemp("sandbox-iam")
    with emulator(logs, logs / "harness.json", enforce_iam=True) as (endpoint, _):
        root = boto3.Session(aws_access_key_id="root", aws_secret_access_key="root", region_name="us-east-1")
        iam = root.client("iam", endpoint_url=endpoint)
        iam.create_user(UserName="release")
        iam.put_user_policy(UserName="release", PolicyName="release", PolicyDocument=json.dumps(POLICY))
        key = iam.create_access_key(UserName="release")["AccessKey"]
        session = boto3.Session(
            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], region_name="us-east-1"
        )
        yield lambda service: session.client(service, endpoint_url=endpoint), root.client("ecs", endpoint_url=endpoint)


def outcome(call) -> str:
    try:
        call()
    except ClientError as error:
        denied = error.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException", "403")
        return "denied" if denied else "allowed"  # the service answered: IAM let it through
    return "allowed"


def test_a_users_calls_are_allowed_on_the_resources_its_policy_names_only(user):
    client, _ = user
    ecs, ssm, dynamodb, logs, elbv2 = (client(s) for s in ("ecs", "ssm", "dynamodb", "logs", "elbv2"))
    listener = ARN % "elasticloadbalancing" + "listener/app/%s/0123456789abcdef/0123456789abcdef"

    def register(family, **tags):
        return ecs.register_task_definition(family=family, containerDefinitions=[{"name": "app", "image": "x"}], **tags)

    cases = {
        "the service": (lambda: ecs.update_service(cluster="prod", service="prod-blue", desiredCount=1), "allowed"),
        "another cluster's": (lambda: ecs.update_service(cluster="stage", service="prod-blue"), "denied"),
        "the contract": (lambda: ssm.get_parameter(Name="/switchyard/prod/deployment"), "allowed"),
        "another parameter": (lambda: ssm.get_parameter(Name="/switchyard/stage/deployment"), "denied"),
        "the lease": (lambda: dynamodb.put_item(TableName="prod-lease", Item={"k": {"S": "v"}}), "allowed"),
        "another table": (lambda: dynamodb.put_item(TableName="stage-lease", Item={"k": {"S": "v"}}), "denied"),
        "the records": (
            lambda: logs.put_log_events(
                logGroupName="/prod/records", logStreamName="s", logEvents=[{"timestamp": 1, "message": "m"}]
            ),
            "allowed",
        ),
        "another log group": (
            lambda: logs.put_log_events(
                logGroupName="/stage/records", logStreamName="s", logEvents=[{"timestamp": 1, "message": "m"}]
            ),
            "denied",
        ),
        "the listener": (lambda: elbv2.modify_listener(ListenerArn=listener % "prod", Port=80), "allowed"),
        "another listener": (lambda: elbv2.modify_listener(ListenerArn=listener % "stage", Port=80), "denied"),
        "metrics (cloudwatch:, signed monitoring)": (
            lambda: client("cloudwatch").get_metric_data(
                MetricDataQueries=[], StartTime="2026-01-01T00:00:00Z", EndTime="2026-01-01T00:01:00Z"
            ),
            "allowed",
        ),
        "a revision with tags": (lambda: register("prod", tags=[{"key": "Stack", "value": "prod"}]), "allowed"),
        "another family's with tags": (lambda: register("stage", tags=[{"key": "Stack", "value": "x"}]), "denied"),
        "a revision without tags": (lambda: register("stage"), "allowed"),
        "services, none named (what AWS checks against *)": (
            lambda: ecs.describe_services(cluster="prod", services=[]),
            "denied",
        ),
        "anything else": (lambda: client("sqs").list_queues(), "denied"),
    }
    found = {name: outcome(call) for name, (call, _) in cases.items()}
    assert found == {name: expected for name, (_, expected) in cases.items()}


def test_keys_that_are_no_users_are_the_accounts_root(user):
    _, root_ecs = user
    assert outcome(root_ecs.list_clusters) == "allowed"


def test_an_iam_request_names_its_role_and_supplies_the_boundary_and_the_policy():
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/prod-workload-boundary"
    # A role being created: its ARN (AWS checks it though it does not exist yet), the boundary it asks for.
    resources, values = sandbox_iam.iam_request(
        "CreateRole", {"RoleName": "prod-task", "PermissionsBoundary": boundary}, ACCOUNT, "aws", lambda name: None
    )
    assert resources == [f"arn:aws:iam::{ACCOUNT}:role/prod-task"]
    assert values == {"iam:PermissionsBoundary": boundary}
    # A change to an existing role: the boundary it has; an attachment: the policy attached.
    _, values = sandbox_iam.iam_request(
        "AttachRolePolicy", {"RoleName": "prod-task", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
        ACCOUNT, "aws", {"prod-task": boundary}.get,
    )  # fmt: skip
    assert values == {
        "iam:PermissionsBoundary": boundary,
        "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess",
    }
    # A role without a boundary supplies no key (a StringNotEquals deny then applies, as in AWS).
    _, values = sandbox_iam.iam_request("PutRolePolicy", {"RoleName": "old"}, ACCOUNT, "aws", lambda name: None)
    assert values == {}


def test_handing_a_role_to_a_service_is_checked_as_iam_pass_role():
    overrides = {"taskRoleArn": "arn:aws:iam::1:role/prod-migration"}
    checks = sandbox_iam.implied_checks(
        "ecs", "RunTask", {"taskDefinition": "prod:3", "overrides": overrides}, "us-east-1", ACCOUNT
    )
    assert checks == [
        ("iam:PassRole", ["arn:aws:iam::1:role/prod-migration"],
         {"aws:RequestedRegion": "us-east-1", "iam:PassedToService": "ecs-tasks.amazonaws.com"}),
    ]  # fmt: skip
    assert sandbox_iam.passed_roles("lambda", "UpdateFunctionConfiguration", {"Role": "arn:r"}) == [
        ("arn:r", "lambda.amazonaws.com")
    ]
    assert sandbox_iam.passed_roles("ecs", "RunTask", {"taskDefinition": "prod:3"}) == []


def test_databases_snapshots_and_keys_are_named_by_their_arns():
    rds = lambda action, params: sandbox_iam.request_resources("rds", action, params, "us-east-1", ACCOUNT)[0]  # noqa: E731
    assert rds("DeleteDBInstance", {"DBInstanceIdentifier": "prod"}) == [ARN % "rds" + "db:prod"]
    assert rds("DeleteDBSnapshot", {"DBSnapshotIdentifier": "prod-final"}) == [ARN % "rds" + "snapshot:prod-final"]
    key = sandbox_iam.request_resources("kms", "ScheduleKeyDeletion", {"KeyId": "k-1"}, "us-east-1", ACCOUNT)[0]
    assert key == [ARN % "kms" + "key/k-1"]
