"""Production's image rule: only its ECR repository's image, by digest, refused before any AWS call.

The playbooks run against the production inventory with AWS out of reach (no credentials, every
endpoint a closed port), so any AWS call would fail the run differently; the refusal must come
from preflight, and no task that talks to AWS may have run.
"""

from __future__ import annotations

import pytest

from tests.conftest import playbook_runner

REPOSITORY = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/switchyard/app"
DIGEST = "sha256:" + "ab" * 32
OFFLINE = {
    "AWS_ACCESS_KEY_ID": "",
    "AWS_SECRET_ACCESS_KEY": "",
    "AWS_PROFILE": "",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_EC2_METADATA_DISABLED": "true",
}
run = playbook_runner(OFFLINE, "production")


RULE = "Refuse an image that breaks the environment's image rule"


def ran_tasks(result) -> list[str]:
    """The names of the tasks that ran, without their role's prefix."""
    return [task["task"]["name"].split(" : ")[-1] for play in result.report.get("plays", []) for task in play["tasks"]]


@pytest.mark.parametrize(
    ("image", "why"),
    [
        pytest.param(f"{REPOSITORY}:latest", "is a tag", id="a tag of the repository"),
        pytest.param("docker.io/someone/app:latest", "is a tag", id="another registry's tag"),
        pytest.param(f"docker.io/someone/app@{DIGEST}", "not from that repository", id="another registry's digest"),
        pytest.param(f"{REPOSITORY}:v2@{DIGEST}", "not from that repository", id="a tag beside the digest"),
    ],
)
def test_production_refuses_anything_but_its_repository_by_digest(image, why):
    result = run("promote.yml", "-e", f"image={image}", "-e", f"switchyard_image_repository={REPOSITORY}")

    assert result.returncode != 0
    message = " ".join(result.failure_messages())
    assert "accepts only its ECR repository's images by digest" in message and why in message, message
    assert f"{REPOSITORY}@sha256:" in message, "the refusal names the rule's form"
    assert "Nothing was changed" in message
    tasks = ran_tasks(result)
    assert tasks[-1] == RULE, tasks
    assert not any("deployment contract" in t or "lease" in t for t in tasks), f"an AWS task ran: {tasks}"


def test_production_without_its_repository_set_names_the_placeholder():
    result = run("promote.yml", "-e", f"image={REPOSITORY}@{DIGEST}")
    message = " ".join(result.failure_messages())
    assert result.returncode != 0 and "switchyard_image_repository is not set" in message, message


def test_production_lets_its_repositorys_digest_past_the_rule():
    """The same digest passes preflight; the run then fails only later, on AWS being out of reach."""
    result = run("promote.yml", "-e", f"image={REPOSITORY}@{DIGEST}", "-e", f"switchyard_image_repository={REPOSITORY}")
    tasks = ran_tasks(result)
    assert RULE in tasks
    assert tasks[-1] != RULE, result.failure_messages()
