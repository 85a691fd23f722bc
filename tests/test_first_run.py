"""A first run against a real account that explains itself: with the placeholders still in place
and no credentials, promote and provision stop before Terraform, naming every missing piece."""

from __future__ import annotations

import os

import pytest

from tests.conftest import playbook_runner

# No credentials anywhere, and any AWS endpoint a closed port.
NO_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "",
    "AWS_SECRET_ACCESS_KEY": "",
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_EC2_METADATA_DISABLED": "true",
}
CHECK = "Refuse a first run that lacks what a real account needs"
STAGING_GAPS = [
    'backend.hcl: bucket = "REPLACE-with-your-terraform-state-bucket"',
    "terraform.tfvars: certificate_arn",
    "terraform.tfvars: github_repository",
    "terraform.tfvars: github_repository_id",
    "terraform.tfvars: state_bucket",
    "switchyard_smoke_base_url is empty",
    "no usable AWS credentials",
    "Unable to locate credentials",
]


def tasks(result) -> list[str]:
    return [task["task"]["name"].split(" : ")[-1] for play in result.report.get("plays", []) for task in play["tasks"]]


@pytest.mark.parametrize(
    ("playbook", "args"),
    [("promote.yml", ["-e", "image=registry.example.com/switchyard/app:v1"]), ("provision.yml", [])],
)
def test_an_unprepared_staging_is_refused_before_terraform_naming_each_gap(playbook, args):
    result = playbook_runner(NO_CREDENTIALS, "staging")(playbook, *args)

    assert result.returncode != 0
    message = " ".join(result.failure_messages())
    missing = [gap for gap in STAGING_GAPS if gap not in message]
    assert not missing, f"the refusal does not name {missing}: {message}"
    assert "Nothing was changed" in message
    ran = tasks(result)
    assert ran[-1] == CHECK, ran
    beyond = ("Apply the Terraform", "Obtain the deployment contract", "Take the deployment lease")
    assert not any(task.startswith(beyond) for task in ran), f"ran past the check: {ran}"


def test_production_also_names_its_image_repository():
    result = playbook_runner(NO_CREDENTIALS, "production")("provision.yml")
    message = " ".join(result.failure_messages())
    assert "switchyard_image_repository is empty" in message, message


def test_a_region_that_is_not_the_stacks_is_named():
    result = playbook_runner(NO_CREDENTIALS, "staging")(
        "provision.yml", "-e", '{"switchyard_aws_connection": {"region": "us-east-2"}}'
    )
    message = " ".join(result.failure_messages())
    assert "region us-east-2 in the inventory" in message and "eu-west-1 (terraform.tfvars)" in message, message
