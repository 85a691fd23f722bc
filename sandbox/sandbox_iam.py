"""SANDBOX ONLY: IAM checked on the emulator the way AWS checks it, for the calls a deployment makes.

moto enforces IAM for an IAM user's keys, but it checks every request of most services against the
resource "*" (it knows the resource of a request only for IAM, S3 and STS), so a statement scoped
to a listener, a service or a table never matches; and it does not evaluate conditions. Installed
(`install()`, sandbox/sandbox_emulator.py with SWITCHYARD_EMULATOR_IAM=enforce), this:

- names the resources of a request from its parameters, as AWS's service authorization reference
  does, for ECS, ELBv2, DynamoDB, CloudWatch Logs, CloudWatch alarms and SSM parameters, with the
  condition keys they carry (ecs:cluster, aws:RequestedRegion); every resource must be allowed;
- evaluates the conditions of a statement (String*, Arn*, Bool, ...IfExists): one that does not
  hold makes the statement not apply, as in AWS, where moto would deny;
- checks cloudwatch:* actions under their IAM prefix (moto takes the signing name, monitoring);
- checks what AWS checks besides a request's own action (ecs:TagResource when a task definition
  is registered with tags);
- lets a request signed with keys that are no IAM user's through unchecked: they are the account's
  root (the harness, Terraform, the tests' own reads), so enforcement starts with the first call.

Not modelled: iam:PassRole (no AWS service asks for it here) and tag-based conditions (held by
tests/infrastructure/test_deploy_policy.py and the modules' terraform tests).
"""

from __future__ import annotations

import contextvars
import fnmatch
import json
import re

PREFIXES = {"monitoring": "cloudwatch"}  # the signing name -> the IAM prefix of its actions
_REQUEST: contextvars.ContextVar = contextvars.ContextVar("sandbox_iam_request", default=None)


def access_key_id(headers) -> str | None:
    match = re.search(r"Credential=([^/,\s]+)/", headers.get("Authorization", "") or "")
    return match.group(1) if match else None


def _name(value: str, arn_prefix: str) -> str:
    """A resource named by its ARN or its name, as its ARN."""
    return value if value.startswith("arn:") else f"{arn_prefix}{value}"


def request_resources(  # noqa: PLR0911, PLR0912 - one branch per service and kind of call
    service: str, action: str, params: dict, region: str, account: str, *, partition: str = "aws"
) -> tuple[list[str], dict] | None:
    """(resources, condition values) of a request, or None where AWS takes "*" (Describe and
    List calls that take no resource, RegisterTaskDefinition...)."""
    arn = f"arn:{partition}:{service if service != 'elbv2' else 'elasticloadbalancing'}:{region}:{account}:"
    values = {"aws:RequestedRegion": region}
    if service == "ecs":
        cluster = _name(params.get("cluster") or "default", f"{arn}cluster/")
        cluster_name = cluster.split("/")[-1]
        values["ecs:cluster"] = cluster
        if action in ("UpdateService", "DeleteService"):
            return [_name(params["service"], f"{arn}service/{cluster_name}/")], values
        if action == "DescribeServices":
            return [_name(s, f"{arn}service/{cluster_name}/") for s in params.get("services", [])], values
        if action in ("RunTask", "StartTask"):
            definition = params["taskDefinition"]
            return [_name(definition, f"{arn}task-definition/")], values
        if action in ("DescribeTasks", "StopTask"):
            tasks = params.get("tasks") or [params.get("task")]
            return [_name(t, f"{arn}task/{cluster_name}/") for t in tasks if t], values
        if action in ("TagResource", "UntagResource", "ListTagsForResource"):
            return [params["resourceArn"]], values
        return None
    if service == "elbv2":
        if action.startswith("Describe"):
            return None
        for parameter in ("ListenerArn", "RuleArn", "TargetGroupArn", "LoadBalancerArn"):
            if params.get(parameter):
                return [params[parameter]], values
        return None
    if service == "dynamodb":
        return ([f"{arn}table/{params['TableName']}"], values) if params.get("TableName") else None
    if service == "logs":
        group = params.get("logGroupName")
        if not group:
            return None
        stream = params.get("logStreamName")
        return [f"{arn}log-group:{group}:log-stream:{stream}" if stream else f"{arn}log-group:{group}:*"], values
    if service == "ssm":
        names = params.get("Names") or ([params["Name"]] if params.get("Name") else [])
        return ([f"{arn}parameter{'' if n.startswith('/') else '/'}{n}" for n in names], values) if names else None
    if service == "cloudwatch" and params.get("AlarmNames"):
        return [f"{arn}alarm:{name}" for name in params["AlarmNames"]], values
    return None


def implied_checks(  # noqa: PLR0917 - the request's coordinates, as request_resources takes them
    service: str, action: str, params: dict, region: str, account: str, partition: str = "aws"
) -> list[tuple]:
    """[(action, resources, condition values)] that AWS also checks for a request: creating an ECS
    resource with tags needs ecs:TagResource on it (with ecs:CreateAction)."""
    if service == "ecs" and action == "RegisterTaskDefinition" and params.get("tags"):
        revision = f"arn:{partition}:ecs:{region}:{account}:task-definition/{params['family']}:*"  # the next one
        return [("ecs:TagResource", [revision], {"aws:RequestedRegion": region, "ecs:CreateAction": action})]
    return []


def condition_holds(operator: str, expected, actual) -> bool:
    """One condition operator of a statement, against the request's value of its key."""
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    negated = "Not" in operator
    if actual is None:
        return if_exists or negated
    expected = expected if isinstance(expected, list) else [expected]
    base = operator.replace("Not", "")
    if base in ("StringEquals", "ArnEquals"):
        hit = any(actual == e for e in expected)
    elif base in ("StringLike", "ArnLike"):
        hit = any(fnmatch.fnmatchcase(actual, e) for e in expected)
    elif base == "StringEqualsIgnoreCase":
        hit = any(actual.lower() == e.lower() for e in expected)
    elif base == "Bool":
        hit = any(str(actual).lower() == str(e).lower() for e in expected)
    else:
        return False  # an operator not modelled here: the statement does not apply
    return hit != negated


def _params(response) -> dict:
    params = getattr(response, "params", None)
    if isinstance(params, dict) and params:
        return params
    try:
        body = json.loads(response.body or "{}")
        return body if isinstance(body, dict) else {}
    except (TypeError, ValueError):
        return response._get_params()


def request_checks(response, resource: str, partition: str) -> list[tuple]:
    """[(action or None for the request's own, resources, condition values)] to check for it."""
    region, account = getattr(response, "region", ""), response.current_account
    own = ([resource], {"aws:RequestedRegion": region})
    if resource != "*":  # moto knows the resource (IAM, S3, STS)
        return [(None, *own)]
    service, action, params = getattr(response, "service_name", ""), response._get_action(), _params(response)
    resolved = request_resources(service, action, params, region, account, partition=partition)
    if not resolved or not resolved[0]:  # none named (an empty list): what AWS checks then, "*"
        resolved = own
    return [(None, *resolved), *implied_checks(service, action, params, region, account, partition)]


def install() -> None:
    """Patch moto (in this process) as the module's docstring says; enforcement starts at once."""
    from moto import settings  # noqa: PLC0415 - moto only where the emulator runs
    from moto.core.authorization import ActionAuthenticatorMixin  # noqa: PLC0415
    from moto.iam.access_control import IAMPolicy, IAMPolicyStatement, IAMRequestBase, PermissionResult  # noqa: PLC0415
    from moto.iam.models import iam_backends  # noqa: PLC0415

    original_authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action
    original_statement = IAMPolicyStatement.is_action_permitted

    def is_user_key(account: str, partition: str, key: str) -> bool:
        users = iam_backends[account][partition].list_users("/", None, None)
        return any(k.access_key_id == key for user in users for k in user.access_keys)

    def authorize(self, iam_request_cls, resource="*"):
        key = access_key_id(self.headers)
        partition = getattr(self, "partition", "aws")
        if not key or not is_user_key(self.current_account, partition, key):
            return None  # the account's root
        token = _REQUEST.set(request_checks(self, resource, partition))
        try:
            return original_authorize(self, iam_request_cls, resource)
        finally:
            _REQUEST.reset(token)

    def check_action_permitted(self, resource):
        if self._action == "sts:GetCallerIdentity":
            return
        prefix, _, operation = self._action.partition(":")
        requested = f"{PREFIXES.get(prefix, prefix)}:{operation}"
        policies = self._access_key.collect_policies()
        for action, resources, values in _REQUEST.get() or [(None, [resource], {})]:
            self._action = action or requested  # named in the AccessDenied message
            for each in resources:
                permitted = False
                for policy in policies:
                    result = IAMPolicy(policy).is_action_permitted(self._action, each, None, values)
                    if result == PermissionResult.DENIED:
                        self._raise_access_denied()
                    permitted = permitted or result == PermissionResult.PERMITTED
                if self._is_assuming_role_operation(each):
                    permitted = permitted and self._check_role_trust_relationship(each)
                if not permitted:
                    self._raise_access_denied()

    def statement_is_action_permitted(self, action, resource="*", principal=None, values=None):
        conditions = self._statement.get("Condition") or {}
        if not all(
            condition_holds(operator, expected, (values or {}).get(key))
            for operator, block in conditions.items()
            for key, expected in block.items()
        ):
            return PermissionResult.NEUTRAL
        saved = self._statement.pop("Condition", None)
        try:
            return original_statement(self, action, resource, principal, values)
        finally:
            if saved is not None:
                self._statement["Condition"] = saved

    ActionAuthenticatorMixin._authenticate_and_authorize_action = authorize
    IAMRequestBase.check_action_permitted = check_action_permitted
    IAMPolicyStatement.is_action_permitted = statement_is_action_permitted
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
