"""The development environment's files validate offline (no Docker engine on CI machines)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

BIN = Path(sys.executable).parent


def test_compose_file_follows_the_compose_specification():
    checked = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(REPO / "docker-compose.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_haproxy_configuration_is_valid():
    if not shutil.which("haproxy"):
        pytest.fail("haproxy not found: install Debian's haproxy (.ci/run does)")
    checked = subprocess.run(
        ["haproxy", "-c", "-f", str(REPO / "dev" / "haproxy.cfg")], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("workflow", sorted((REPO / ".github" / "workflows").glob("*.yml")), ids=lambda p: p.name)
def test_workflow_follows_the_github_schema(workflow):
    checked = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_workflows_have_no_zizmor_findings():
    audited = subprocess.run(
        [str(BIN / "zizmor"), "--offline", str(REPO / ".github")], capture_output=True, text=True, check=False
    )
    assert audited.returncode == 0, audited.stdout + audited.stderr
