"""molecule's default scenario: the phase roles converge on the sandbox, idempotently."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, TF_WORKSPACE

pytestmark = pytest.mark.sandbox


def test_roles_converge_idempotently_and_verify(provisioned, sandbox_endpoint):
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": sandbox_endpoint,
        "SWITCHYARD_TF_WORKSPACE": TF_WORKSPACE,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "NO_COLOR": "1",
    }
    run = subprocess.run(
        [str(Path(sys.executable).parent / "molecule"), "test"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-5000:]
    for step in ("converge", "idempotence", "verify"):
        assert f"{step}: Executed: Successful" in output, f"molecule step {step} did not pass:\n{output[-3000:]}"
