"""Copying a task definition revision with a new image (module_utils/task_definition.py)."""

import boto3
import pytest
from ansible_collections.switchyard.bluegreen.plugins.module_utils.aws import registrable_fields
from ansible_collections.switchyard.bluegreen.plugins.module_utils.task_definition import (
    READ_ONLY,
    ImageChangeError,
    next_revision_arn,
    registrable,
    target_containers,
    with_image,
)

ACCEPTED = registrable_fields(boto3.client("ecs", region_name="us-east-1"))


def test_every_registrable_field_is_known_from_the_api_model():
    expected = {"family", "containerDefinitions", "volumes", "placementConstraints", "requiresCompatibilities"}
    expected |= {"runtimePlatform", "ephemeralStorage", "cpu", "memory", "networkMode", "taskRoleArn"}
    assert expected <= ACCEPTED
    assert "tags" not in ACCEPTED  # described and registered apart
    assert not READ_ONLY & ACCEPTED


def test_registrable_drops_only_the_read_only_fields():
    described = {
        "taskDefinitionArn": "arn:td/app:3",
        "revision": 3,
        "status": "ACTIVE",
        "compatibilities": ["FARGATE"],
        "requiresAttributes": [],
        "registeredBy": "someone",
        "family": "app",
        "runtimePlatform": {"cpuArchitecture": "ARM64"},
        "pidMode": "task",
        "containerDefinitions": [{"name": "app", "image": "a"}],
    }
    assert registrable(described, ACCEPTED) == {
        "family": "app",
        "runtimePlatform": {"cpuArchitecture": "ARM64"},
        "pidMode": "task",
        "containerDefinitions": [{"name": "app", "image": "a"}],
    }


def test_with_image_changes_only_the_named_containers_and_leaves_the_original_alone():
    body = {
        "family": "app",
        "containerDefinitions": [{"name": "app", "image": "a:1"}, {"name": "proxy", "image": "p:1"}],
    }
    changed = with_image(body, "a:2", ["app"])
    assert changed["containerDefinitions"] == [{"name": "app", "image": "a:2"}, {"name": "proxy", "image": "p:1"}]
    assert body["containerDefinitions"][0]["image"] == "a:1"


def test_target_containers_default_to_the_first_and_refuse_unknown_names():
    body = {"family": "app", "containerDefinitions": [{"name": "app"}, {"name": "proxy"}]}
    assert target_containers(body, None) == ["app"]
    assert target_containers(body, ["proxy"]) == ["proxy"]
    with pytest.raises(ImageChangeError, match="no container named web"):
        target_containers(body, ["web"])


def test_next_revision_arn():
    assert next_revision_arn("arn:aws:ecs:us-east-1:1:task-definition/app:9", 9) == (
        "arn:aws:ecs:us-east-1:1:task-definition/app:10"
    )
