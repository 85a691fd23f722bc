"""The repository is the collection switchyard.bluegreen: it builds, documents and validates."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.conftest import REPO

BIN = Path(sys.executable).parent
MODULES = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py"))
ROLES = sorted(p.name for p in (REPO / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())
ENV = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


def run(*command: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, check=False)


def test_every_role_has_an_argument_spec():
    assert set(ROLES) == {p.name for p in (REPO / "roles").iterdir()}


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_renders_the_module(module):
    shown = run(str(BIN / "ansible-doc"), f"switchyard.bluegreen.{module}")
    assert shown.returncode == 0, shown.stderr
    assert "EXAMPLES" in shown.stdout and "RETURN VALUES" in shown.stdout


def test_every_ansible_test_sanity_test_passes():
    """ansible-test sanity with every test (pylint, validate-modules, import, pep8, yamllint...)."""
    sanity = run(str(REPO / "scripts" / "ansible-test-sanity.sh"))
    assert sanity.returncode == 0, sanity.stdout[-4000:] + sanity.stderr[-4000:]


def test_collection_builds_without_the_deployment_repository_parts(tmp_path):
    built = run(str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path))
    assert built.returncode == 0, built.stderr
    (tarball,) = tmp_path.glob("switchyard-bluegreen-*.tar.gz")
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert "plugins/modules/alb_traffic_switch.py" in names and "meta/runtime.yml" in names
    assert "roles/switch/tasks/main.yml" in names
    leaked = [
        n for n in names if n.split("/")[0] in {"tests", "inventories", ".venv", ".ci", "dev", "app", ".artifacts"}
    ]
    assert leaked == [], f"build_ignore let these into the tarball: {leaked[:5]}"
    # The Terraform modules and roots ship (provision applies them), without anything Terraform wrote.
    assert "infrastructure/modules/stack/main.tf" in names and "infrastructure/environments/sandbox/main.tf" in names
    written = [n for n in names if ".terraform/" in n or "tfstate" in n or n.endswith("terraform.tfvars")]
    assert written == [], f"Terraform's own files in the tarball: {written[:5]}"
    assert "docker-compose.yml" not in names
