"""Every Terraform root validates and passes its own `terraform test` (mock provider, offline)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import REPO

ROOTS = sorted(p.name for p in (REPO / "infrastructure" / "environments").iterdir() if p.is_dir())
TF_ENV = {
    **os.environ,
    "TF_CLI_CONFIG_FILE": str(REPO / ".cache" / "terraform.tfrc"),
    "TF_IN_AUTOMATION": "1",
}


def terraform(root: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["terraform", *args, "-no-color"],
        cwd=REPO / "infrastructure" / "environments" / root,
        env=TF_ENV,
        capture_output=True,
        check=False,
        text=True,
    )


def test_every_environment_has_a_root():
    assert set(ROOTS) == {"production", "sandbox", "staging"}


@pytest.mark.parametrize("root", ROOTS)
def test_root_validates_and_its_invariants_hold(root):
    init = terraform(root, "init", "-backend=false", "-input=false")
    assert init.returncode == 0, f"terraform init failed for {root}:\n{init.stderr}"
    validate = terraform(root, "validate")
    assert validate.returncode == 0, f"terraform validate failed for {root}:\n{validate.stderr}"
    test = terraform(root, "test")
    assert test.returncode == 0, f"terraform test failed for {root}:\n{test.stdout}{test.stderr}"
    assert " 0 failed" in test.stdout and " 0 passed" not in test.stdout, test.stdout
