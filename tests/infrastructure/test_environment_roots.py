"""staging and production are one Terraform root in two directories: only terraform.tfvars and
backend.hcl may differ, so what is reviewed and tested on staging is what production runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO

ENVIRONMENTS = REPO / "infrastructure" / "environments"
REAL = ("staging", "production")
PER_ENVIRONMENT = {"terraform.tfvars", "backend.hcl"}
SHARED = ["main.tf", "variables.tf", "outputs.tf", "versions.tf", ".terraform.lock.hcl"]


def root_files(environment: str) -> set[str]:
    """The root's own files, relative to it: without Terraform's working directory and local state."""
    root = ENVIRONMENTS / environment
    return {
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and ".terraform" not in path.relative_to(root).parts and "tfstate" not in path.name
    }


def hcl_strings(path: Path) -> dict[str, str]:
    """Top-level `key = "value"` assignments of a tfvars or backend file (enough for these files)."""
    return dict(re.findall(r'^(\w+)\s*=\s*"([^"]*)"', path.read_text(), re.M))


def test_both_roots_hold_the_same_files():
    assert root_files("staging") == root_files("production"), (
        "staging and production must hold the same files; only the contents of terraform.tfvars and backend.hcl "
        f"differ. Only in staging: {sorted(root_files('staging') - root_files('production'))}; "
        f"only in production: {sorted(root_files('production') - root_files('staging'))}"
    )


@pytest.mark.parametrize("name", sorted(root_files("staging") - PER_ENVIRONMENT))
def test_everything_but_tfvars_and_backend_is_byte_identical(name):
    staging, production = (ENVIRONMENTS / env / name for env in REAL)
    assert production.exists(), f"production has no {name}"
    assert staging.read_bytes() == production.read_bytes(), (
        f"{name} differs between staging and production: move the difference into terraform.tfvars "
        "(or backend.hcl) and copy the file so both roots stay one configuration"
    )


def test_the_files_that_must_be_shared_are_there():
    files = root_files("staging")
    assert set(SHARED) <= files and any(f.startswith("tests/") for f in files), sorted(files)


@pytest.mark.parametrize("environment", REAL)
def test_tfvars_name_the_environment_and_the_backend_state(environment):
    tfvars = hcl_strings(ENVIRONMENTS / environment / "terraform.tfvars")
    backend = hcl_strings(ENVIRONMENTS / environment / "backend.hcl")
    assert tfvars.get("environment") == environment, f"{environment}/terraform.tfvars sets environment = {tfvars}"
    assert (tfvars.get("state_bucket"), tfvars.get("state_key")) == (backend.get("bucket"), backend.get("key")), (
        f"{environment}: the deploy role may write the state named in terraform.tfvars "
        f"({tfvars.get('state_bucket')}/{tfvars.get('state_key')}), but backend.hcl keeps it at "
        f"{backend.get('bucket')}/{backend.get('key')}"
    )
    assert backend.get("key") == f"switchyard/{environment}/terraform.tfstate", backend


def test_the_oidc_provider_is_created_once_in_the_account_both_roots_share():
    """IAM holds one provider per URL and account: a second root creating it fails its first apply."""
    creating = [
        environment
        for environment in REAL
        if re.search(
            r"^create_oidc_provider\s*=\s*true", (ENVIRONMENTS / environment / "terraform.tfvars").read_text(), re.M
        )
    ]
    assert creating == ["staging"], creating


@pytest.mark.parametrize(("environment", "branch"), [("staging", "develop"), ("production", "main")])
def test_each_environment_trusts_deploy_yml_on_the_branch_it_deploys_from(environment, branch):
    assert hcl_strings(ENVIRONMENTS / environment / "terraform.tfvars")["workflow_branch"] == branch
