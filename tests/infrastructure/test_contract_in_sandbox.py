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
