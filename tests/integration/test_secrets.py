"""No secret in any output (issue 10): promote, rollback and status at -vvv on the sandbox, read
as an operator's terminal or a CI log shows them, and the deployment records, hold neither the
database's master password nor the inventory's AWS secret key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, TF_WORKSPACE
from tests.integration.test_promote import REPO_IMAGE

pytestmark = pytest.mark.sandbox

# The sandbox inventory's secret key (inventories/sandbox/group_vars/all.yml): a dummy, but any
# secret handed to the modules takes the same path.
INVENTORY_SECRET_KEY = "sandbox-not-a-secret"


def verbose_run(sandbox_endpoint: str, playbook: str, *args: str) -> subprocess.CompletedProcess:
    """ansible-playbook at -vvv with the default callback: the whole text an operator sees."""
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        "AWS_ENDPOINT_URL": sandbox_endpoint,
        "SWITCHYARD_TF_WORKSPACE": TF_WORKSPACE,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        str(REPO / "playbooks" / playbook),
        *["-i", str(REPO / "inventories" / "sandbox"), "-vvv", *args],
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)


@pytest.fixture(scope="module")
def secrets(provisioned, aws) -> dict[str, str]:
    """What must never show: the master password RDS keeps in Secrets Manager, and the AWS secret key."""
    value = aws("secretsmanager").get_secret_value(SecretId=provisioned["db"]["master_secret_arn"])["SecretString"]
    password = json.loads(value)["password"]
    assert len(password) >= 8, "the emulator generated no real password: the test would prove nothing"
    return {"the database's master password": password, "the AWS secret key": INVENTORY_SECRET_KEY}


def test_no_secret_in_verbose_output_or_records(sandbox_endpoint, sandbox, secrets):
    runs = {
        # Without its Terraform apply, whose inputs hold no secret (RDS keeps the password), to save
        # CI a minute; the rest of the promote as it always runs.
        "promote": verbose_run(
            sandbox_endpoint, "promote.yml", "-e", f"image={REPO_IMAGE}:secrets-v1", "-e", "switchyard_provision=false"
        ),
        "rollback": verbose_run(sandbox_endpoint, "rollback.yml"),
        "status": verbose_run(sandbox_endpoint, "status.yml"),
    }
    for name, run in runs.items():
        assert run.returncode == 0, f"{name} failed:\n{run.stdout[-3000:]}\n{run.stderr[-2000:]}"
    verbose = runs["promote"].stdout
    assert "TASK [" in verbose and "ESTABLISH LOCAL CONNECTION" in verbose, "not the verbose output"

    records = json.dumps(sandbox.records()[:2])
    for what, secret in secrets.items():
        for name, run in runs.items():
            assert secret not in run.stdout + run.stderr, f"{what} appears in the output of {name} at -vvv"
        assert secret not in records, f"{what} appears in the deployment records"
