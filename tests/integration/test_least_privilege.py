"""Least privilege proven by execution, on an emulator that checks IAM as AWS does.

The emulator (sandbox/sandbox_emulator.py with sandbox/sandbox_iam.py) checks an IAM user's calls
against its policies, by the resources the calls name (moto alone checks most services against
"*" and ignores conditions); keys that are no user's are the account's root. Terraform, signed as
the root, applies modules/deploy_access for staging and production; each role's rendered policy is
given, exactly, to a user of its own, and that user's calls are made. A call IAM lets through
reaches the service, which answers that the resource does not exist (nothing else is in this
emulator): that is "allowed". AccessDenied is "denied". The playbooks themselves run under the
release role's policy in tests/integration/test_workflow_runs.py.

What is proved here: IAM escalations (roles only with the workload boundary, no policy but the
stack's service policies, the guard's and migration's roles out of reach), data that no deploy
role can destroy (the database and its snapshots, the key, the records), the Terraform state, and
each release role on its own stack's listeners, services, lease, contract and records and on none
of the other environment's. Each denial has an allowed neighbour, so a test cannot pass on a role
that may do nothing. What the emulator cannot check is held by
tests/infrastructure/test_deploy_policy.py and the modules' terraform tests: the statements
conditioned on a tag the emulator does not supply (the network by the Environment tag).
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
    "a new version of the workload boundary": lambda iam, env, role: iam.create_policy_version(
        PolicyArn=workload_boundary(env), PolicyDocument=ANY_POLICY, SetAsDefault=True),
    "a role without the workload boundary": lambda iam, env, role: iam.create_role(
        RoleName=f"switchyard-{env}-admin", AssumeRolePolicyDocument=TRUST),
    "an admin policy on a role without the boundary": lambda iam, env, role: iam.put_role_policy(
        RoleName=f"switchyard-{env}-unbounded", PolicyName="more", PolicyDocument=ANY_POLICY),
    "AdministratorAccess on a bounded stack role": lambda iam, env, role: iam.attach_role_policy(
        RoleName=f"switchyard-{env}-task", PolicyArn=ADMINISTRATOR_ACCESS),
    "a policy on the guard's role": lambda iam, env, role: iam.put_role_policy(
        RoleName=f"switchyard-{env}-guard", PolicyName="more", PolicyDocument=ANY_POLICY),
    "a new trust for the guard's role": lambda iam, env, role: iam.update_assume_role_policy(
        RoleName=f"switchyard-{env}-guard", PolicyDocument=TRUST),
    "a policy on the migration role": lambda iam, env, role: iam.put_role_policy(
        RoleName=f"switchyard-{env}-migration", PolicyName="more", PolicyDocument=ANY_POLICY),
}  # fmt: skip


def workload_boundary(environment: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:policy/switchyard-{environment}-workload-boundary"


@pytest.fixture(scope="module")
def task_roles(enforcing, deploy_access_policies):
    """The stacks' roles as an administrator's first apply leaves them: the task and guard roles
    under the workload boundary, and one made before boundaries existed (none)."""
    endpoint, admin, _ = enforcing
    iam = client(endpoint, admin, "iam")
    for environment in ("staging", "production"):
        for role in ("task", "guard", "migration"):
            iam.create_role(RoleName=f"switchyard-{environment}-{role}", AssumeRolePolicyDocument=TRUST,
                            PermissionsBoundary=workload_boundary(environment))  # fmt: skip
        iam.create_role(RoleName=f"switchyard-{environment}-unbounded", AssumeRolePolicyDocument=TRUST)
    return iam


@pytest.mark.parametrize("role", ["release", "infrastructure"])
@pytest.mark.parametrize("environment", ["staging", "production"])
@pytest.mark.parametrize("escalation", sorted(ESCALATIONS))
def test_escalations_are_denied(users, task_roles, environment, role, escalation):
    iam = users(f"{environment}-{role}", "iam")
    assert outcome(lambda: ESCALATIONS[escalation](iam, environment, role)) == "denied"


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_the_infrastructure_role_manages_its_own_stacks_roles_under_the_workload_boundary(
    users, task_roles, environment
):
    """The allowed neighbours of the escalations: what a stack's Terraform does to its roles."""
    iam = users(f"{environment}-infrastructure", "iam")
    own = f"switchyard-{environment}-task"
    assert outcome(lambda: iam.put_role_policy(RoleName=own, PolicyName="task", PolicyDocument=ANY_POLICY)) == "allowed"
    assert outcome(lambda: iam.delete_role_policy(RoleName=own, PolicyName="task")) == "allowed"
    execution = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    assert outcome(lambda: iam.attach_role_policy(RoleName=own, PolicyArn=execution)) == "allowed"
    created = f"switchyard-{environment}-worker"
    assert (
        outcome(
            lambda: iam.create_role(
                RoleName=created, AssumeRolePolicyDocument=TRUST, PermissionsBoundary=workload_boundary(environment)
            )
        )  # fmt: skip
        == "allowed"
    )
    assert task_roles.get_role(RoleName=created)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == (
        workload_boundary(environment)
    )
    release = users(f"{environment}-release", "iam")
    assert (
        outcome(lambda: release.put_role_policy(RoleName=own, PolicyName="task", PolicyDocument=ANY_POLICY)) == "denied"
    )


def task_definition(environment: str, role: str) -> dict:
    return {
        "family": f"switchyard-{environment}",
        "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/switchyard-{environment}-{role}",
        "containerDefinitions": [{"name": "app", "image": "app:1", "memory": 512}],
    }


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_the_infrastructure_role_passes_the_task_role_to_ecs_but_never_the_migration_role(
    users, task_roles, environment
):
    ecs = users(f"{environment}-infrastructure", "ecs")
    assert outcome(lambda: ecs.register_task_definition(**task_definition(environment, "task"))) == "allowed"
    assert outcome(lambda: ecs.register_task_definition(**task_definition(environment, "migration"))) == "denied"
    assert outcome(lambda: ecs.register_task_definition(**task_definition(environment, "guard"))) == "denied"


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_the_release_role_starts_a_migration_only_through_the_runner(users, task_roles, environment):
    """It can neither pass the migration role nor run a task (so no command or role override): the
    stack's migration runner starts the migration (modules/ecs, migration.tf). Its neighbours: the
    service's own roles in a revision, and invoking the runner, are allowed."""
    ecs, functions = users(f"{environment}-release", "ecs"), users(f"{environment}-release", "lambda")
    assert outcome(lambda: ecs.register_task_definition(**task_definition(environment, "task"))) == "allowed"
    assert outcome(lambda: ecs.register_task_definition(**task_definition(environment, "migration"))) == "denied"
    cluster = f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/switchyard-{environment}"
    family = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/switchyard-{environment}"
    role = f"arn:aws:iam::{ACCOUNT}:role/switchyard-{environment}-migration"
    overrides = {
        "a command": {"containerOverrides": [{"name": "app", "command": ["sh", "-c", "env"]}]},
        "the migration role": {"taskRoleArn": role},
        "nothing": {},
    }
    for family_name in (family, f"{family}-migration"):
        for what, override in overrides.items():
            run = lambda: ecs.run_task(cluster=cluster, taskDefinition=f"{family_name}:1", overrides=override)  # noqa: B023, E731
            assert outcome(run) == "denied", f"RunTask of {family_name} with {what} as the release role"
    runner = f"switchyard-{environment}-migration-runner"
    assert outcome(lambda: functions.invoke(FunctionName=runner, Payload=b"{}")) == "allowed"
    assert outcome(lambda: functions.invoke(FunctionName=f"switchyard-{environment}-guard", Payload=b"{}")) == "denied"
    other = f"switchyard-{OTHER[environment]}-migration-runner"
    assert outcome(lambda: functions.invoke(FunctionName=other, Payload=b"{}")) == "denied"


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_only_the_build_role_pushes_images_and_writes_their_build_records(users, environment):
    """Neither deploy role may push an image or write the record production's preflight trusts
    (modules/deploy_access, build.tf; the repository's policy denies every other principal too)."""
    repository = {"repositoryName": "switchyard/app"}
    name = f"/switchyard/images/switchyard/app/{'a' * 64}"
    record = {"Name": name, "Value": "{}", "Type": "String", "Overwrite": True}
    for role in ("release", "infrastructure"):
        ecr, ssm = users(f"{environment}-{role}", "ecr"), users(f"{environment}-{role}", "ssm")
        calls = {
            "push an image": lambda ecr=ecr: ecr.put_image(**repository, imageManifest="{}", imageTag="pushed"),
            "upload a layer": lambda ecr=ecr: ecr.initiate_layer_upload(**repository),
            "write a build record": lambda ssm=ssm: ssm.put_parameter(**record),
            "attest an image": lambda ssm=ssm: ssm.put_parameter(
                **{**record, "Name": f"/switchyard/attestations/switchyard/app/main/{'a' * 64}"}
            ),
        }
        for what, call in calls.items():
            assert outcome(call) == "denied", f"{environment}'s {role} role could {what}"
    release = users(f"{environment}-release", "ssm")
    assert outcome(lambda: release.get_parameter(Name=record["Name"])) == "allowed", "the preflight reads the record"
    build_ecr, build_ssm = users("staging-build", "ecr"), users("staging-build", "ssm")
    assert outcome(lambda: build_ecr.put_image(**repository, imageManifest="{}", imageTag="built")) == "allowed"
    assert outcome(lambda: build_ssm.put_parameter(**record)) == "allowed"
    other = {**record, "Name": "/switchyard/switchyard-production/deployment"}
    assert outcome(lambda: build_ssm.put_parameter(**other)) == "denied", "the build role writes only build records"
    # Only production's job on main attests: the build role (a job on develop) cannot forge it.
    attestation = {**record, "Name": f"/switchyard/attestations/switchyard/app/main/{'a' * 64}", "Overwrite": False}
    assert outcome(lambda: build_ssm.put_parameter(**attestation)) == "denied", "the build role attested"
    attest_ecr, attest_ssm = users("staging-attest", "ecr"), users("staging-attest", "ssm")
    assert outcome(lambda: attest_ssm.put_parameter(**attestation)) == "allowed"
    assert outcome(lambda: attest_ssm.put_parameter(**record)) == "denied", "the attest role rewrote a build record"
    assert outcome(lambda: attest_ecr.put_image(**repository, imageManifest="{}", imageTag="x")) == "denied"


@pytest.fixture(scope="module")
def keys(enforcing):
    """{environment: key id}: each stack's key, tagged as modules/stack tags it."""
    endpoint, admin, _ = enforcing
    kms = client(endpoint, admin, "kms")
    return {
        environment: kms.create_key(Tags=[{"TagKey": "Environment", "TagValue": environment}])["KeyMetadata"]["KeyId"]
        for environment in ("staging", "production")
    }


DESTRUCTIONS = {
    "delete the database without a final snapshot": lambda c, env, key: c("rds").delete_db_instance(
        DBInstanceIdentifier=f"switchyard-{env}", SkipFinalSnapshot=True),
    "turn the database's backups off": lambda c, env, key: c("rds").modify_db_instance(
        DBInstanceIdentifier=f"switchyard-{env}", BackupRetentionPeriod=0, ApplyImmediately=True),
    "turn the database's deletion protection off": lambda c, env, key: c("rds").modify_db_instance(
        DBInstanceIdentifier=f"switchyard-{env}", DeletionProtection=False),
    "delete a snapshot": lambda c, env, key: c("rds").delete_db_snapshot(
        DBSnapshotIdentifier=f"switchyard-{env}-final"),
    "schedule the key's deletion": lambda c, env, key: c("kms").schedule_key_deletion(
        KeyId=key, PendingWindowInDays=7),
    "replace the key's policy": lambda c, env, key: c("kms").put_key_policy(
        KeyId=key, PolicyName="default", Policy=ANY_POLICY),
    "delete the records": lambda c, env, key: c("logs").delete_log_group(
        logGroupName=f"/switchyard/switchyard-{env}/deployments"),
    "shorten the records' retention": lambda c, env, key: c("logs").put_retention_policy(
        logGroupName=f"/switchyard/switchyard-{env}/deployments", retentionInDays=1),
    "delete the lease and its kept revisions": lambda c, env, key: c("dynamodb").delete_table(
        TableName=f"switchyard-{env}-deployment-lease"),
}  # fmt: skip


@pytest.mark.parametrize("role", ["release", "infrastructure"])
@pytest.mark.parametrize("environment", ["staging", "production"])
@pytest.mark.parametrize("destruction", sorted(DESTRUCTIONS))
def test_no_deploy_role_destroys_data(users, keys, environment, role, destruction):
    call = DESTRUCTIONS[destruction]
    assert (
        outcome(lambda: call(lambda service: users(f"{environment}-{role}", service), environment, keys[environment]))
        == "denied"
    )


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_the_infrastructure_role_still_manages_the_stacks_data_resources(users, keys, environment):
    """The allowed neighbours: what an apply does to the same database, key, log groups and table."""
    own = lambda service: users(f"{environment}-infrastructure", service)  # noqa: E731
    database = f"arn:aws:rds:us-east-1:{ACCOUNT}:db:switchyard-{environment}"
    calls = {
        "read the database": lambda: own("rds").describe_db_instances(DBInstanceIdentifier=f"switchyard-{environment}"),
        "tag the database": lambda: own("rds").add_tags_to_resource(
            ResourceName=database, Tags=[{"Key": "Owner", "Value": "platform"}]),
        "read its key": lambda: own("kms").describe_key(KeyId=keys[environment]),
        "rotate its key": lambda: own("kms").enable_key_rotation(KeyId=keys[environment]),
        "delete the service's log group": lambda: own("logs").delete_log_group(
            logGroupName=f"/switchyard/switchyard-{environment}/service"),
        "tag the records": lambda: own("logs").tag_resource(
            resourceArn=f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/switchyard/switchyard-{environment}/deployments",
            tags={"Owner": "platform"}),
        "update the lease table": lambda: own("dynamodb").update_table(
            TableName=f"switchyard-{environment}-deployment-lease", BillingMode="PAY_PER_REQUEST"),
    }  # fmt: skip
    outcomes = {name: outcome(call) for name, call in calls.items()}
    assert outcomes == dict.fromkeys(calls, "allowed"), outcomes
    other = users(f"{OTHER[environment]}-infrastructure", "kms")
    assert outcome(lambda: other.enable_key_rotation(KeyId=keys[environment])) == "denied", "another stack's key"


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
