"""Fixtures of the sandbox tests: what each test module reads back and how it runs playbooks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from decimal import Decimal

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from tests.conftest import REPO, TF_WORKSPACE, _answers, _free_port, playbook_runner
from tests.integration.deploy_access import rendered_policies
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


ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.fixture(scope="session")
def enforcing(tmp_path_factory):
    """An emulator that checks an IAM user's calls as AWS does (sandbox/sandbox_iam.py); the
    administrator is made with keys that are no user's, the account's root."""
    log_dir = tmp_path_factory.mktemp("least-privilege")
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SWITCHYARD_EMULATOR_IAM": "enforce", "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    with (log_dir / "emulator.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, str(REPO / "sandbox" / "sandbox_emulator.py"), "-H", "127.0.0.1", "-p", str(port)],
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


@pytest.fixture(scope="session")
def deploy_access_policies(enforcing):
    """{environment: {role: policy JSON}}: modules/deploy_access for staging and production, applied
    by Terraform (signed by the administrator) on the enforcing emulator, as IAM holds them."""
    endpoint, admin, log_dir = enforcing
    return rendered_policies(endpoint, admin, log_dir / "root")


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
