"""Least privilege proven by execution, on an emulator that enforces IAM.

moto checks the policies of an IAM user's keys once its allowance of unauthenticated actions is
spent (INITIAL_NO_AUTH_ACTION_COUNT, ../shared/notes/iam-on-the-emulator.md). Here the allowance
creates an administrator; Terraform, signed by it, applies modules/deploy_access for staging and
production; each role's rendered policy is given, exactly, to a user of its own, and that user's
calls are made. A call IAM lets through reaches the service, which answers that the resource does
not exist (nothing else is in this emulator): that is "allowed". AccessDenied is "denied".

What moto 5 can prove, and so what is proved here: it evaluates actions, Deny statements and
resources, but it knows the resource of a request only for IAM (a role that exists), S3 and STS;
for every other service it checks the resource "*", which no statement scoped to the stack
matches. Nor does it read condition keys (a statement with a condition denies there). So IAM
escalations and the Terraform state are proved by execution; the scoping of listeners, services,
the lease table, the records and the conditioned statements (passing the task roles to ECS only,
the KMS key and the network by the Environment tag, AdministratorAccess by policy ARN) are held by
tests/infrastructure/test_deploy_policy.py and the modules' terraform tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import REPO, _answers, _free_port

ACCOUNT = "123456789012"
ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
ROOT = """
terraform {{
  required_providers {{
    aws = {{ source = "hashicorp/aws", version = "~> 5.100" }}
  }}
}}
provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "{access_key}"
  secret_key                  = "{secret_key}"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  endpoints {{
    iam = "{endpoint}"
    sts = "{endpoint}"
  }}
}}
module "staging" {{
  source               = "{module}"
  name                 = "switchyard-staging"
  github_repository    = "acme/switchyard"
  github_environment   = "staging"
  state_bucket         = "acme-terraform-state"
  state_key            = "switchyard/staging.tfstate"
  ecr_repository_arn   = "arn:aws:ecr:us-east-1:{account}:repository/switchyard/app"
  image_push           = true
}}
module "production" {{
  source               = "{module}"
  name                 = "switchyard-production"
  github_repository    = "acme/switchyard"
  github_environment   = "production"
  workflow_branch      = "main"
  create_oidc_provider = false
  state_bucket         = "acme-terraform-state"
  state_key            = "switchyard/production.tfstate"
  ecr_repository_arn   = "arn:aws:ecr:us-east-1:{account}:repository/switchyard/app"
  depends_on           = [module.staging]
}}
output "policies" {{
  value = {{
    staging = {{
      release        = module.staging.release_policy_json
      infrastructure = module.staging.infrastructure_policy_json
    }}
    production = {{
      release        = module.production.release_policy_json
      infrastructure = module.production.infrastructure_policy_json
    }}
  }}
}}
"""


@pytest.fixture(scope="module")
def enforcing(tmp_path_factory):
    """An emulator that enforces IAM after three unchecked calls, which make the administrator."""
    log_dir = tmp_path_factory.mktemp("least-privilege")
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3", "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    with (log_dir / "emulator.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + 20
        while not _answers(endpoint):
            assert process.poll() is None and time.monotonic() < deadline, f"no emulator on {endpoint}"
            time.sleep(0.1)
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")  # fmt: skip
        iam.create_user(UserName="admin")
        iam.put_user_policy(UserName="admin", PolicyName="admin", PolicyDocument=json.dumps(ADMIN))
        key = iam.create_access_key(UserName="admin")["AccessKey"]
        yield endpoint, key, log_dir
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def users(enforcing):
    """Terraform applies deploy_access (signed by the administrator); a user per role carries its policy."""
    endpoint, admin, log_dir = enforcing
    root = log_dir / "root"
    root.mkdir()
    (root / "main.tf").write_text(
        ROOT.format(
            access_key=admin["AccessKeyId"],
            secret_key=admin["SecretAccessKey"],
            endpoint=endpoint,
            module=REPO / "infrastructure" / "modules" / "deploy_access",
            account=ACCOUNT,
        )
    )
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(REPO / ".cache" / "terraform.tfrc"), "TF_IN_AUTOMATION": "1"}
    for command in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        done = subprocess.run(["terraform", *command], cwd=root, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"terraform {command[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    output = subprocess.run(["terraform", "output", "-json", "policies"], cwd=root, env=env,
                            capture_output=True, text=True, check=True)  # fmt: skip
    policies = json.loads(output.stdout)
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
        return "denied" if e.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException") else "allowed"
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
