"""Least privilege proven by execution, on an emulator that checks IAM as AWS does.

The emulator (sandbox/sandbox_emulator.py with sandbox/sandbox_iam.py) checks an IAM user's calls
against its policies, by the resources the calls name (moto alone checks most services against
"*" and ignores conditions); keys that are no user's are the account's root. Terraform, signed as
the root, applies modules/deploy_access for staging and production; each role's rendered policy is
given, exactly, to a user of its own, and that user's calls are made. A call IAM lets through
reaches the service, which answers that the resource does not exist (nothing else is in this
emulator): that is "allowed". AccessDenied is "denied". The playbooks themselves run under the
release role's policy in tests/integration/test_workflow_runs.py.

What is proved here: IAM escalations, the Terraform state, and each release role on its own
stack's listeners, services, lease, contract and records and on none of the other environment's.
What the emulator cannot check is held by tests/infrastructure/test_deploy_policy.py and the
modules' terraform tests: iam:PassRole (passing the task roles to ECS only; no emulated service
asks for it), and the statements conditioned on a key the emulator does not supply (the KMS key
and the network by the Environment tag, attaching policies by iam:PolicyARN).
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.integration.deploy_access import ACCOUNT


@pytest.fixture(scope="module")
def users(enforcing, deploy_access_policies):
    """A user per role carries the policy Terraform rendered for it (tests/integration/conftest.py)."""
    endpoint, admin, _ = enforcing
    policies = deploy_access_policies
    iam = client(endpoint, admin, "iam")
    keys = {}
    for environment, roles in policies.items():
        for role, policy in roles.items():
            name = f"{environment}-{role}"
            iam.create_user(UserName=name)
            iam.put_user_policy(UserName=name, PolicyName=role, PolicyDocument=policy)
            keys[name] = iam.create_access_key(UserName=name)["AccessKey"]
    return lambda name, service: client(endpoint, keys[name], service)


def client(endpoint, key, service):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])  # fmt: skip


def outcome(call) -> str:
    """'denied' for AccessDenied, else 'allowed' (the service itself answered, success or not)."""
    try:
        call()
    except ClientError as e:
        # JSON services (ECS, DynamoDB, Logs, SSM) get moto's AccessDenied as a bare 403.
        denied = e.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException", "403")
        return "denied" if denied else "allowed"
    return "allowed"


ANY_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})  # fmt: skip
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
OTHER = {"staging": "production", "production": "staging"}

ESCALATIONS = {
    "a policy on its own role": lambda iam, env, role: iam.put_role_policy(
        RoleName=f"switchyard-{env}-{role}", PolicyName="more", PolicyDocument=ANY_POLICY),
    "AdministratorAccess on its own role": lambda iam, env, role: iam.attach_role_policy(
        RoleName=f"switchyard-{env}-{role}", PolicyArn=ADMINISTRATOR_ACCESS),
    "a new trust for its own role": lambda iam, env, role: iam.update_assume_role_policy(
        RoleName=f"switchyard-{env}-{role}", PolicyDocument=TRUST),
    "no boundary for the infrastructure role": lambda iam, env, role: iam.delete_role_permissions_boundary(
        RoleName=f"switchyard-{env}-infrastructure"),
    "the other deploy role's access": lambda iam, env, role: iam.put_role_policy(
        RoleName=f"switchyard-{env}-{'infrastructure' if role == 'release' else 'release'}",
        PolicyName="more", PolicyDocument=ANY_POLICY),
    "the other environment's task role": lambda iam, env, role: iam.put_role_policy(
        RoleName=f"switchyard-{OTHER[env]}-task", PolicyName="more", PolicyDocument=ANY_POLICY),
    "a new version of the boundary": lambda iam, env, role: iam.create_policy_version(
        PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/switchyard-{env}-infrastructure-boundary",
        PolicyDocument=ANY_POLICY, SetAsDefault=True),
}  # fmt: skip


@pytest.fixture(scope="module")
def task_roles(enforcing):
    """The stacks' task roles, made by the administrator (IAM checks a role by its ARN only once it exists)."""
    endpoint, admin, _ = enforcing
    iam = client(endpoint, admin, "iam")
    for environment in ("staging", "production"):
        iam.create_role(RoleName=f"switchyard-{environment}-task", AssumeRolePolicyDocument=TRUST)
    return iam


@pytest.mark.parametrize("role", ["release", "infrastructure"])
@pytest.mark.parametrize("environment", ["staging", "production"])
@pytest.mark.parametrize("escalation", sorted(ESCALATIONS))
def test_escalations_are_denied(users, task_roles, environment, role, escalation):
    iam = users(f"{environment}-{role}", "iam")
    assert outcome(lambda: ESCALATIONS[escalation](iam, environment, role)) == "denied"


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_the_infrastructure_role_manages_its_own_stacks_roles(users, task_roles, environment):
    iam = users(f"{environment}-infrastructure", "iam")
    own = f"switchyard-{environment}-task"
    assert outcome(lambda: iam.put_role_policy(RoleName=own, PolicyName="task", PolicyDocument=ANY_POLICY)) == "allowed"
    assert outcome(lambda: iam.delete_role_policy(RoleName=own, PolicyName="task")) == "allowed"
    release = users(f"{environment}-release", "iam")
    assert (
        outcome(lambda: release.put_role_policy(RoleName=own, PolicyName="task", PolicyDocument=ANY_POLICY)) == "denied"
    )


def test_the_infrastructure_role_runs_under_its_boundary(enforcing, users):
    endpoint, admin, _ = enforcing
    iam = client(endpoint, admin, "iam")
    for environment in ("staging", "production"):
        role = iam.get_role(RoleName=f"switchyard-{environment}-infrastructure")["Role"]
        assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == (
            f"arn:aws:iam::{ACCOUNT}:policy/switchyard-{environment}-infrastructure-boundary"
        )
        assert "PermissionsBoundary" not in iam.get_role(RoleName=f"switchyard-{environment}-release")["Role"]


STATE = "acme-terraform-state"


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_only_the_infrastructure_role_writes_its_state_and_the_release_role_only_the_lock(users, environment):
    key = f"switchyard/{environment}.tfstate"
    infrastructure, release = users(f"{environment}-infrastructure", "s3"), users(f"{environment}-release", "s3")
    other = users(f"{OTHER[environment]}-infrastructure", "s3")
    # The bucket does not exist here: IAM lets the call through and S3 answers NoSuchBucket.
    assert outcome(lambda: infrastructure.put_object(Bucket=STATE, Key=key, Body=b"{}")) == "allowed"
    assert outcome(lambda: release.get_object(Bucket=STATE, Key=key)) == "allowed"  # the plan reads it
    assert outcome(lambda: release.put_object(Bucket=STATE, Key=f"{key}.tflock", Body=b"{}")) == "allowed"
    assert outcome(lambda: release.put_object(Bucket=STATE, Key=key, Body=b"{}")) == "denied"
    assert outcome(lambda: release.delete_object(Bucket=STATE, Key=key)) == "denied"
    assert outcome(lambda: other.put_object(Bucket=STATE, Key=key, Body=b"{}")) == "denied"
    assert outcome(lambda: other.get_object(Bucket=STATE, Key=key)) == "denied"


def arn(service: str, environment: str, resource: str) -> str:
    return f"arn:aws:{service}:us-east-1:{ACCOUNT}:{resource}".replace("{env}", f"switchyard-{environment}")


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_a_release_role_acts_on_its_own_stack_and_is_denied_on_the_other_environments(users, environment):
    """Listeners, services, the lease, the contract and the records, by the ARNs the calls name
    (nothing exists here: IAM decides, then the service answers that it has no such thing)."""
    listener = "listener/app/{env}/0123456789abcdef/fedcba9876543210"
    calls = {
        "switch its listener": lambda env, c: c("elbv2").modify_listener(
            ListenerArn=arn("elasticloadbalancing", env, listener), Port=443
        ),
        "deploy its service": lambda env, c: c("ecs").update_service(
            cluster=f"switchyard-{env}", service=f"switchyard-{env}-green", desiredCount=1
        ),
        "take its lease": lambda env, c: c("dynamodb").put_item(
            TableName=f"switchyard-{env}-deployment-lease", Item={"environment": {"S": env}}
        ),
        "read its contract": lambda env, c: c("ssm").get_parameter(Name=f"/switchyard/switchyard-{env}/deployment"),
        "write its records": lambda env, c: c("logs").put_log_events(
            logGroupName=f"/switchyard/switchyard-{env}/deployments",
            logStreamName="records",
            logEvents=[{"timestamp": 1, "message": "{}"}],
        ),
    }
    release = lambda service: users(f"{environment}-release", service)  # noqa: E731
    own = {name: outcome(lambda call=call: call(environment, release)) for name, call in calls.items()}
    other = {name: outcome(lambda call=call: call(OTHER[environment], release)) for name, call in calls.items()}
    assert own == dict.fromkeys(calls, "allowed"), own
    assert other == dict.fromkeys(calls, "denied"), other
