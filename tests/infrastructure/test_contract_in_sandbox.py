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
