"""The deployment contract as a machine without Terraform state reads it: from SSM, after a real
provision on the sandbox, it is the same object as Terraform's `deployment` output."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.sandbox


def test_provision_publishes_the_contract_terraform_outputs(provisioned, aws):
    stack = provisioned["stack"]
    name = f"/switchyard/{stack['name']}/deployment"
    parameter = aws("ssm").get_parameter(Name=name)["Parameter"]
    assert parameter["Type"] == "String", f"{name} must be a plain String (no secrets, no KMS needed to read it)"
    published = json.loads(parameter["Value"])
    assert published == stack, f"{name} and Terraform's deployment output disagree: {published} != {stack}"
    assert published["layer"] == "alb" and published["contract_version"] == 1, published


def test_the_lease_table_the_contract_names_is_on_demand_expiring_recoverable_and_encrypted(provisioned, aws):
    stack = provisioned["stack"]
    name = stack["lease_table"]
    assert name == f"{stack['name']}-deployment-lease", f"the contract names the lease table {name}"
    dynamodb = aws("dynamodb")
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "environment", "KeyType": "HASH"}], table["KeySchema"]
    assert table["AttributeDefinitions"] == [{"AttributeName": "environment", "AttributeType": "S"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST", f"{name} must be on-demand"
    encryption = table.get("SSEDescription", {})
    stack_key = aws("kms").describe_key(KeyId=f"alias/{stack['name']}")["KeyMetadata"]["Arn"]
    assert (encryption.get("Status"), encryption.get("KMSMasterKeyArn")) == ("ENABLED", stack_key), (
        f"{name} must be encrypted with the stack's key {stack_key}: {encryption}"
    )
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl.get("AttributeName")) == ("ENABLED", "ttl"), f"{name}: TTL on ttl, not {ttl}"
    backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    recovery = backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
    assert recovery == "ENABLED", f"{name} must have point-in-time recovery, not {recovery}"


def _policy_documents(iam, role_name: str) -> str:
    names = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    return json.dumps([iam.get_role_policy(RoleName=role_name, PolicyName=n)["PolicyDocument"] for n in names])


def test_the_service_connects_as_its_own_role_and_only_the_migration_task_reads_the_masters(provisioned, aws):
    stack = provisioned["stack"]
    # The migration task definition Terraform owns (its first revision: the runner's copies follow).
    template = aws("ecs").describe_task_definition(taskDefinition=f"{stack['migration']['task_family']}:1")
    migration = {e["name"]: e["value"] for e in template["taskDefinition"]["containerDefinitions"][0]["environment"]}
    master = migration["DB_MIGRATION_SECRET_ARN"]
    assert "taskRoleArn" not in template["taskDefinition"], "only the runner's copies carry the migration role"
    revision = aws("ecs").describe_task_definition(taskDefinition=stack["task_family"])["taskDefinition"]
    container = revision["containerDefinitions"][0]
    secrets = {s["name"]: s["valueFrom"] for s in container.get("secrets", [])}
    assert set(secrets) == {"DB_USER", "DB_PASSWORD"}, secrets
    assert not any(value.startswith(master) for value in secrets.values()), "the service must not get the master"
    runtime = json.loads(
        aws("secretsmanager").get_secret_value(SecretId=secrets["DB_USER"].split(":username::")[0])["SecretString"]
    )
    # Terraform writes it without a password (none may enter its state); the first migration draws one.
    assert runtime == {"username": "app_runtime", "password": ""}, "Terraform must write no password"
    assert migration["DB_RUNTIME_SECRET_ARN"] == secrets["DB_USER"].split(":username::")[0]
    environment = {e["name"]: e["value"] for e in container.get("environment", [])}
    assert environment.get("DB_SSLMODE") == "verify-full" and environment.get("PGSSLROOTCERT"), environment

    iam = aws("iam")
    runner = aws("lambda").get_function_configuration(FunctionName=stack["migration"]["runner"])
    migration_role = runner["Environment"]["Variables"]["MIGRATION_ROLE"].split("/")[-1]
    assert migration_role == f"{stack['name']}-migration"
    assert master in _policy_documents(iam, migration_role), "the migration task's role must read the master"
    for role in (revision["taskRoleArn"], revision["executionRoleArn"]):
        assert master not in _policy_documents(iam, role.split("/")[-1]), f"{role} must not read the master secret"
