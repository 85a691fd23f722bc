"""deployment_info: the contract Terraform publishes in SSM, or a failure that says what to do."""

from __future__ import annotations

import json

import pytest
from ansible_collections.switchyard.bluegreen.plugins.modules import deployment_info

from tests.unit.plugins.modules.utils import run_module

PARAMETER = "/switchyard/switchyard-sandbox/deployment"
CONTRACT = {
    "contract_version": 1,
    "layer": "alb",
    "name": "switchyard-sandbox",
    "production_listener_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/s/1/2",
    "target_group_arns": {"blue": "arn:tg/blue", "green": "arn:tg/green"},
    "cluster_name": "switchyard-sandbox",
    "service_names": {"blue": "switchyard-sandbox-blue", "green": "switchyard-sandbox-green"},
    "deployment_log_group": "/switchyard/switchyard-sandbox/deployments",
}


def expect_parameter(ssm, value, name=PARAMETER):
    ssm.add_response(
        "get_parameter",
        {"Parameter": {"Name": name, "Type": "String", "Value": value, "Version": 1}},
        {"Name": name},
    )


@pytest.mark.parametrize("args", [{"parameter": PARAMETER}, {"name": "switchyard-sandbox"}])
def test_found_by_parameter_or_stack_name(aws, args):
    expect_parameter(aws.stub("ssm"), json.dumps(CONTRACT))

    result = run_module(deployment_info, args)

    assert result == {
        "failed": False,
        "changed": False,
        "parameter": PARAMETER,
        "deployment": CONTRACT,
        "stack": CONTRACT,
    }


def test_the_parameter_wins_over_the_name(aws):
    expect_parameter(aws.stub("ssm"), json.dumps(CONTRACT), name="/custom/contract")

    result = run_module(deployment_info, {"parameter": "/custom/contract", "name": "ignored"})

    assert result["parameter"] == "/custom/contract"


def test_a_missing_parameter_says_to_provision(aws):
    aws.stub("ssm").add_client_error("get_parameter", service_error_code="ParameterNotFound", http_status_code=400)

    result = run_module(deployment_info, {"name": "switchyard-sandbox"})

    assert result["failed"]
    assert f"SSM parameter {PARAMETER} does not exist" in result["msg"]
    assert "playbooks/provision.yml" in result["msg"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", f"SSM parameter {PARAMETER} does not hold JSON"),
        ('["a list"]', "holds list JSON, not an object"),
        (
            json.dumps({**CONTRACT, "layer": "haproxy"}),
            "has layer 'haproxy'; a contract read from AWS must have layer 'alb'",
        ),
        (json.dumps({k: v for k, v in CONTRACT.items() if k != "layer"}), "has layer None"),
        (
            json.dumps({**CONTRACT, "contract_version": 2}),
            "has contract_version 2; this version of switchyard.bluegreen reads version 1. Provision",
        ),
        (json.dumps({k: v for k, v in CONTRACT.items() if k != "contract_version"}), "has contract_version None"),
    ],
)
def test_an_unusable_contract_fails_clearly(aws, value, message):
    expect_parameter(aws.stub("ssm"), value)

    result = run_module(deployment_info, {"parameter": PARAMETER})

    assert result["failed"]
    assert message in result["msg"]


def test_neither_parameter_nor_name_is_refused(aws):
    result = run_module(deployment_info, {})

    assert result["failed"]
    assert "one of the following is required: parameter, name" in result["msg"]


def test_other_aws_errors_fail_with_the_action(aws):
    aws.stub("ssm").add_client_error("get_parameter", service_error_code="AccessDeniedException", service_message="no")

    result = run_module(deployment_info, {"parameter": PARAMETER})

    assert result["failed"]
    assert result["msg"].startswith("Failed to read the SSM parameter")
