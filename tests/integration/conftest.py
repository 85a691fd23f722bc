"""Fixtures of the sandbox tests: what each test module reads back and how it runs playbooks."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from tests.conftest import TF_WORKSPACE, playbook_runner
from tests.integration.test_promote import FAST, Sandbox

ENVIRONMENT = "sandbox"


class Lease:
    """The environment's lease item, read and written straight in DynamoDB."""

    def __init__(self, aws, table: str):
        self.dynamodb, self.table = aws("dynamodb"), table

    def item(self) -> dict:
        found = self.dynamodb.get_item(
            TableName=self.table, Key={"environment": {"S": ENVIRONMENT}}, ConsistentRead=True
        )
        return {k: TypeDeserializer().deserialize(v) for k, v in found.get("Item", {}).items()}

    def put(self, item: dict) -> None:
        self.dynamodb.put_item(
            TableName=self.table,
            Item={
                k: TypeSerializer().serialize(v)
                for k, v in json.loads(json.dumps(item), parse_float=Decimal).items()
                if v is not None
            },
        )

    def wait_for_phase(self, phase: str, run, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while self.item().get("phase") != phase or self.item().get("state") != "held":
            if run.process.poll() is not None:
                pytest.fail(f"the promote ended before phase {phase!r}: {run.wait().failure_messages()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the promote never reached phase {phase!r} (lease: {self.item()})")
            time.sleep(0.1)


@pytest.fixture(scope="module")
def sandbox(provisioned, aws):
    return Sandbox(aws, provisioned["stack"])


@pytest.fixture(scope="module")
def lease(provisioned, aws):
    return Lease(aws, provisioned["stack"]["lease_table"])


@pytest.fixture(scope="module")
def promote(run_playbook):
    """Run promote.yml with an image, fast (no Terraform, short bake), and extra arguments."""

    def run(image: str, *extra: str):
        return run_playbook("promote.yml", "-e", f"image={image}", *FAST, *extra)

    return run


@pytest.fixture(scope="module")
def start(sandbox_endpoint):
    """Start a playbook in the background."""
    return playbook_runner(
        {"AWS_ENDPOINT_URL": sandbox_endpoint, "SWITCHYARD_TF_WORKSPACE": TF_WORKSPACE}, "sandbox", background=True
    )
