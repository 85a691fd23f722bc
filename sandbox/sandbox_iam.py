"""SANDBOX ONLY: IAM checked on the emulator the way AWS checks it, for the calls a deployment makes.

moto enforces IAM for an IAM user's keys, but it checks every request of most services against the
resource "*" (it knows the resource of a request only for IAM, S3 and STS), so a statement scoped
to a listener, a service or a table never matches; and it does not evaluate conditions. Installed
(`install()`, sandbox/sandbox_emulator.py with SWITCHYARD_EMULATOR_IAM=enforce), this:

- names the resources of a request from its parameters, as AWS's service authorization reference
  does, for ECS, ELBv2, DynamoDB, CloudWatch Logs, CloudWatch alarms, SSM parameters, ECR
  repositories and a Lambda function's invocation (lambda:InvokeFunction), with the condition
  keys they carry (ecs:cluster, aws:RequestedRegion); every resource must be allowed;
- evaluates the conditions of a statement (String*, Arn*, Bool, ...IfExists): one that does not
  hold makes the statement not apply, as in AWS, where moto would deny;
- checks cloudwatch:* actions under their IAM prefix (moto takes the signing name, monitoring);
- checks what AWS checks besides a request's own action (ecs:TagResource when a task definition
  is registered with tags; iam:PassRole, with iam:PassedToService, for a role a task definition,
  a RunTask override or a Lambda function names);
- supplies IAM's own condition keys (iam:PermissionsBoundary of the role created or changed,
  iam:PolicyARN of the policy attached) and names a role not created yet by its ARN, so that
  "only with the boundary" holds as in AWS; names RDS instances and snapshots and KMS keys, with
  the key's tags as aws:ResourceTag/<key>;
- lets a request signed with keys that are no IAM user's through unchecked: they are the account's
  root (the harness, Terraform, the tests' own reads), so enforcement starts with the first call.

Not modelled: tag-based conditions other than a KMS key's (held by
tests/infrastructure/test_deploy_policy.py and the modules' terraform tests).
"""

from __future__ import annotations

import contextvars
import fnmatch
import json
import re
import urllib.parse

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
        if params.get("resourceArn"):  # TagResource, UntagResource, ListTagsForResource
            return [params["resourceArn"]], values
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
    if service == "rds":
        if params.get("ResourceName"):  # tags
            return [params["ResourceName"]], values
        if params.get("DBSnapshotIdentifier"):
            return [_name(params["DBSnapshotIdentifier"], f"{arn}snapshot:")], values
        if params.get("DBInstanceIdentifier"):
            return [_name(params["DBInstanceIdentifier"], f"{arn}db:")], values
        return None
    if service == "ecr" and params.get("repositoryName"):
        return [f"{arn}repository/{params['repositoryName']}"], values
    if service == "kms" and params.get("KeyId"):
        return [_name(params["KeyId"], f"{arn}key/")], values
    return None


# IAM actions on a role for which AWS supplies iam:PermissionsBoundary (the role's boundary, or the
# one the request sets).
BOUNDARY_KEY_ACTIONS = {
    "CreateRole", "PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary", "PutRolePolicy",
    "DeleteRolePolicy", "AttachRolePolicy", "DetachRolePolicy",
}  # fmt: skip


def iam_request(action: str, params: dict, account: str, partition: str, boundary_of) -> tuple[list[str], dict]:
    """(resources, condition values) of an IAM request: a role by its ARN (also one being created),
    with iam:PermissionsBoundary and iam:PolicyARN as AWS supplies them. boundary_of(role name)
    is the role's current boundary ARN, or None."""
    values = {}
    name = params.get("RoleName")
    if not name:
        return ["*"], values
    role = f"arn:{partition}:iam::{account}:role{params.get('Path') or '/'}{name}"
    if action in BOUNDARY_KEY_ACTIONS:
        sets = action in ("CreateRole", "PutRolePermissionsBoundary")
        boundary = params.get("PermissionsBoundary") if sets else boundary_of(name)
        if boundary:
            values["iam:PermissionsBoundary"] = boundary
    if action in ("AttachRolePolicy", "DetachRolePolicy") and params.get("PolicyArn"):
        values["iam:PolicyARN"] = params["PolicyArn"]
    return [role], values


def implied_checks(  # noqa: PLR0917 - the request's coordinates, as request_resources takes them
    service: str, action: str, params: dict, region: str, account: str, partition: str = "aws"
) -> list[tuple]:
    """[(action, resources, condition values)] that AWS also checks for a request: creating an ECS
    resource with tags needs ecs:TagResource on it (with ecs:CreateAction)."""
    checks = []
    if service == "ecs" and action == "RegisterTaskDefinition" and params.get("tags"):
        revision = f"arn:{partition}:ecs:{region}:{account}:task-definition/{params['family']}:*"  # the next one
        checks.append(("ecs:TagResource", [revision], {"aws:RequestedRegion": region, "ecs:CreateAction": action}))
    for role, to_service in passed_roles(service, action, params):
        checks.append(("iam:PassRole", [role], {"aws:RequestedRegion": region, "iam:PassedToService": to_service}))
    return checks


def passed_roles(service: str, action: str, params: dict) -> list[tuple[str, str]]:
    """[(role ARN, the service it is passed to)] that a request hands to an AWS service."""
    if service == "ecs" and action == "RegisterTaskDefinition":
        named = [params.get("taskRoleArn"), params.get("executionRoleArn")]
        return [(role, "ecs-tasks.amazonaws.com") for role in named if role]
    if service == "ecs" and action in ("RunTask", "StartTask"):
        overrides = params.get("overrides") or {}
        named = [overrides.get("taskRoleArn"), overrides.get("executionRoleArn")]
        return [(role, "ecs-tasks.amazonaws.com") for role in named if role]
    if service in ("lambda", "awslambda") and action in ("CreateFunction", "UpdateFunctionConfiguration"):
        return [(params["Role"], "lambda.amazonaws.com")] if params.get("Role") else []
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
    """The request's parameters: parsed by moto, a JSON body's, or a query string's (IAM, RDS)."""
    params = getattr(response, "params", None)
    if isinstance(params, dict) and params:
        return params
    try:
        body = json.loads(response.body or "{}")
    except (TypeError, ValueError):
        body = None
    return body if isinstance(body, dict) and body else response._get_params()


def request_checks(response, resource: str, partition: str, lookups: dict) -> list[tuple]:
    """[(action or None for the request's own, resources, condition values)] to check for it.
    lookups: {"boundary_of": role name -> boundary ARN, "key_tags": key ARN -> {tag: value}}."""
    region, account = getattr(response, "region", ""), response.current_account
    service, action, params = getattr(response, "service_name", ""), response._get_action(), _params(response)
    values = {"aws:RequestedRegion": region}
    if service == "iam":
        resources, iam_values = iam_request(action, params, account, partition, lookups["boundary_of"])
        return [(None, resources, {**values, **iam_values})]
    own = ([resource], values)
    if resource != "*":  # moto knows the resource (S3, STS)
        return [(None, *own)]
    if service in ("lambda", "awslambda") and action == "Invoke":  # IAM's name of the action differs
        found = re.search(r"/functions/([^/]+)/invocations", getattr(response, "path", "") or "")
        name = urllib.parse.unquote(found.group(1)) if found else "*"
        function = _name(name, f"arn:{partition}:lambda:{region}:{account}:function:")
        return [("lambda:InvokeFunction", [function], values)]
    resolved = request_resources(service, action, params, region, account, partition=partition)
    if not resolved or not resolved[0]:  # none named (an empty list): what AWS checks then, "*"
        resolved = own
    elif service == "kms":
        tags = lookups["key_tags"](resolved[0][0])
        resolved = (resolved[0], {**resolved[1], **{f"aws:ResourceTag/{k}": v for k, v in tags.items()}})
    return [(None, *resolved), *implied_checks(service, action, params, region, account, partition)]


def lookups(iam_backends, kms_backends, account: str, partition: str, region: str) -> dict:  # noqa: PLR0917
    """What request_checks reads of the emulator's state: a role's boundary, a key's tags."""

    def boundary_of(name):
        try:
            return iam_backends[account][partition].get_role(name).permissions_boundary_arn
        except Exception:  # noqa: BLE001 - no such role (yet): no boundary to supply
            return None

    def key_tags(arn):
        try:
            tags = kms_backends[account][region].list_resource_tags(arn)["Tags"]
        except Exception:  # noqa: BLE001 - no such key: no tags, as AWS has none to supply
            return {}
        return {t["TagKey"]: t["TagValue"] for t in tags}

    return {"boundary_of": boundary_of, "key_tags": key_tags}


def install() -> None:
    """Patch moto (in this process) as the module's docstring says; enforcement starts at once."""
    from moto import settings  # noqa: PLC0415 - moto only where the emulator runs
    from moto.core.authorization import ActionAuthenticatorMixin  # noqa: PLC0415
    from moto.iam.access_control import IAMPolicy, IAMPolicyStatement, IAMRequestBase, PermissionResult  # noqa: PLC0415
    from moto.iam.models import iam_backends  # noqa: PLC0415
    from moto.kms.models import kms_backends  # noqa: PLC0415

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
        found = lookups(iam_backends, kms_backends, self.current_account, partition, getattr(self, "region", ""))
        token = _REQUEST.set(request_checks(self, resource, partition, found))
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
