"""molecule's scenarios: promote.yml converges, a second converge changes nothing, and testinfra
verifies the result (molecule/<scenario>/tests).

- default: the sandbox (the AWS API emulator of tests/conftest.py) on the stack provisioned for the
  session; the verifier asks the collection's info modules what is live.
- development: the development environment run natively (sandbox/local_services.py); the verifier
  checks sockets, HAProxy's weights through its runtime API and the record file on this machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.local_services import development
from tests.conftest import REPO, TF_WORKSPACE


def molecule_test(scenario: str, extra_env: dict[str, str]) -> str:
    """`molecule test -s <scenario>`; fails with molecule's output unless every step passed."""
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1", **extra_env}
    run = subprocess.run(
        [str(bindir / "molecule"), "test", "--scenario-name", scenario],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"molecule scenario {scenario} failed:\n{output[-6000:]}"
    for step in ("converge", "idempotence", "verify"):
        assert f"{step}: Executed: Successful" in output, f"molecule step {step} did not pass:\n{output[-3000:]}"
    verified = re.search(r"=+ (\d+) passed", output)
    assert verified and int(verified.group(1)) >= 5, f"testinfra ran too few tests:\n{output[-3000:]}"
    return output


@pytest.mark.sandbox
def test_default_scenario_promotes_on_the_sandbox_and_the_info_modules_report_it(provisioned, sandbox_endpoint):
    molecule_test("default", {"AWS_ENDPOINT_URL": sandbox_endpoint, "SWITCHYARD_TF_WORKSPACE": TF_WORKSPACE})


def test_development_scenario_promotes_on_the_local_environment_and_haproxy_shows_it(tmp_path):
    with development("switchyard/app:v1") as environment:
        extra_vars = tmp_path / "extra-vars.json"
        extra_vars.write_text(json.dumps({"switchyard_local_stack": environment.stack, "switchyard_bake_seconds": 3}))
        molecule_test("development", {**environment.env, "SWITCHYARD_MOLECULE_VARS": str(extra_vars)})
