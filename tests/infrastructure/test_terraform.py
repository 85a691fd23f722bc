"""Every Terraform root validates and passes its own `terraform test` (mock provider, offline), and so
does every module that carries tests of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

INFRASTRUCTURE = REPO / "infrastructure"
ROOTS = sorted(p.name for p in (INFRASTRUCTURE / "environments").iterdir() if p.is_dir())
TESTED_MODULES = sorted(p.parent.name for p in (INFRASTRUCTURE / "modules").glob("*/tests") if p.is_dir())
TF_ENV = {
    **os.environ,
    "TF_CLI_CONFIG_FILE": str(REPO / ".cache" / "terraform.tfrc"),
    "TF_IN_AUTOMATION": "1",
}


def terraform(directory: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["terraform", *args, "-no-color"],
        cwd=directory,
        env=TF_ENV,
        capture_output=True,
        check=False,
        text=True,
    )


def assert_validates_and_tests_pass(directory: Path, source: Path | None = None) -> None:
    where = (source or directory).relative_to(REPO)
    init = terraform(directory, "init", "-backend=false", "-input=false")
    assert init.returncode == 0, f"terraform init failed in {where}:\n{init.stderr}"
    validate = terraform(directory, "validate")
    assert validate.returncode == 0, f"terraform validate failed in {where}:\n{validate.stderr}"
    test = terraform(directory, "test")
    assert test.returncode == 0, f"terraform test failed in {where}:\n{test.stdout}{test.stderr}"
    assert " 0 failed" in test.stdout and " 0 passed" not in test.stdout, test.stdout


def test_every_environment_has_a_root():
    assert set(ROOTS) == {"production", "sandbox", "staging"}


@pytest.mark.parametrize("root", ROOTS)
def test_root_validates_and_its_invariants_hold(root, tmp_path):
    # In a copy: the session provisions the sandbox root meanwhile (tests/conftest.py), and an init
    # here would rewrite the .terraform that its apply is using.
    copy = tmp_path / "infrastructure"
    (copy / "environments").mkdir(parents=True)
    (copy / "modules").symlink_to(INFRASTRUCTURE / "modules")
    shutil.copytree(
        INFRASTRUCTURE / "environments" / root,
        copy / "environments" / root,
        ignore=shutil.ignore_patterns(".terraform", "terraform.tfstate*", "*.zip"),
    )
    assert_validates_and_tests_pass(copy / "environments" / root, INFRASTRUCTURE / "environments" / root)


def test_the_stack_module_has_tests_of_its_own():
    assert "stack" in TESTED_MODULES, "modules/stack/tests (the published deployment contract) went missing"


@pytest.mark.parametrize("module", TESTED_MODULES)
def test_module_validates_and_its_invariants_hold(module):
    assert_validates_and_tests_pass(INFRASTRUCTURE / "modules" / module)
