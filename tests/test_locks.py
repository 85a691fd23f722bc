"""The hashed locks: what the deploy jobs and the service's image install is pinned, hashed, and
what the tests ran with.

requirements-deploy.txt is the deploy, rollback and finalize jobs' whole virtualenv (make
deploy-setup, pip --require-hashes); make setup installs it before the test tools, so these tests
run the same files. app/requirements.lock is the image's (app/Dockerfile).
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

DEPLOY_LOCK = REPO / "requirements-deploy.txt"
APP_LOCK = REPO / "app" / "requirements.lock"


def pins(lock: Path) -> dict[str, tuple[str, int]]:
    """{name: (version, number of hashes)} of a pip-compile --generate-hashes file."""
    found = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", lock.read_text()):
        match = re.match(r"([A-Za-z0-9_.-]+)==([^\s\\]+)", block)
        if match:
            found[match.group(1).lower()] = (match.group(2), len(re.findall(r"--hash=sha256:[0-9a-f]{64}", block)))
    return found


def requirement_pins(path: Path) -> dict[str, str]:
    """{name: version} of the name==version lines of a requirements file (extras dropped)."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s#]+)", line)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


@pytest.mark.parametrize("lock", [DEPLOY_LOCK, APP_LOCK], ids=lambda p: p.name)
def test_every_requirement_is_pinned_and_hashed(lock):
    locked = pins(lock)
    assert len(locked) >= 10, locked
    unhashed = [name for name, (_, hashes) in locked.items() if hashes == 0]
    assert unhashed == [], f"{lock.name}: {unhashed} carry no hash; run make locks"
    assert "/" not in "".join(line for line in lock.read_text().splitlines() if line.startswith("--")), (
        f"{lock.name} names an index or a folder of this machine"
    )


def test_the_deploy_lock_holds_requirements_txts_runtime_pins():
    locked, wanted = pins(DEPLOY_LOCK), requirement_pins(REPO / "requirements.txt")
    for name in ("ansible", "boto3", "botocore"):
        assert locked[name][0] == wanted[name], f"{name}: requirements.txt says {wanted[name]}; run make locks"


def test_the_image_lock_holds_the_services_pins():
    locked, wanted = pins(APP_LOCK), requirement_pins(REPO / "app" / "requirements.txt")
    assert wanted and all(locked[name][0] == pinned for name, pinned in wanted.items()), (locked, wanted)


def test_the_tests_run_the_versions_the_deploy_jobs_install():
    """make setup installs the lock first: a test tool that pulled a runtime package to another
    version would make the tests prove something other than what deploys."""
    drift = {}
    for name, (locked, _) in pins(DEPLOY_LOCK).items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = None
        if installed != locked:
            drift[name] = (locked, installed)
    assert drift == {}, f"installed versions differ from requirements-deploy.txt (locked, installed): {drift}"


@pytest.mark.parametrize("workflow", ["deploy.yml", "rollback.yml", "finalize.yml"])
def test_jobs_that_hold_aws_credentials_install_only_the_hashed_lock(workflow):
    jobs = yaml.safe_load((REPO / ".github" / "workflows" / workflow).read_text())["jobs"]
    for name, job in jobs.items():
        runs = " ".join(step.get("run", "") for step in job["steps"])
        assert "make setup" not in runs and "pip install" not in runs, f"{workflow}: {name} installs unhashed code"
        if "virtualenv" in " ".join(step.get("name", "") for step in job["steps"]):
            assert "make deploy-setup" in runs, f"{workflow}: {name}"
    recipe = (REPO / "Makefile").read_text().split("\ndeploy-setup:", 1)[1].split("\n\n", 1)[0]
    assert "--require-hashes" in recipe and "requirements-deploy.txt" in recipe and "requirements.txt " not in recipe
