"""scripts/image_record.py: an image's build record, and the attestation that a commit on main
built it, against moto's SSM and a git history made here."""

from __future__ import annotations

import json
import subprocess
import sys

import boto3
import pytest
from moto import mock_aws

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))
import image_record  # noqa: E402 - a script beside the others

IMAGE = f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/switchyard/app@sha256:{'c' * 64}"
NAME = f"/switchyard/images/switchyard/app/{'c' * 64}"
ATTESTATION = f"/switchyard/attestations/switchyard/app/main/{'c' * 64}"


def git(where, *args):
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args]
    return subprocess.run(command, cwd=where, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """main with a merged commit below its head, and a branch commit main never got; on main."""
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "start")
    git(tmp_path, "checkout", "-q", "-b", "experiment")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "never merged")
    branch = git(tmp_path, "rev-parse", "HEAD")
    git(tmp_path, "checkout", "-q", "main")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "develop's work")
    merged = git(tmp_path, "rev-parse", "HEAD")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "the merge")
    monkeypatch.chdir(tmp_path)
    return {"merged": merged, "branch": branch, "main": git(tmp_path, "rev-parse", "HEAD")}


@pytest.fixture
def ssm():
    with mock_aws():
        yield boto3.client("ssm", region_name="eu-west-1")


def test_a_build_is_recorded_under_its_repository_and_digest(ssm):
    written = image_record.record(ssm, IMAGE, "a" * 40, "refs/heads/develop", "77")
    stored = json.loads(ssm.get_parameter(Name=NAME)["Parameter"]["Value"])
    assert stored == written and stored["commit"] == "a" * 40 and stored["ref"] == "refs/heads/develop"


def test_an_image_built_from_a_commit_on_main_is_attested(ssm, checkout):
    image_record.record(ssm, IMAGE, checkout["merged"], "refs/heads/develop", "77")
    attested = image_record.attest(ssm, IMAGE, "main", "78")
    assert attested["commit"] == checkout["merged"] and attested["branch_commit"] == checkout["main"]
    assert json.loads(ssm.get_parameter(Name=ATTESTATION)["Parameter"]["Value"]) == attested
    assert image_record.attest(ssm, IMAGE, "main", "79") == attested, "attested once: a second run keeps the first"


def test_an_image_built_from_a_commit_main_never_got_is_refused_and_left_unattested(ssm, checkout):
    image_record.record(ssm, IMAGE, checkout["branch"], "refs/heads/develop", "77")
    with pytest.raises(image_record.Refused, match=f"built from commit {checkout['branch']}.*not on main"):
        image_record.attest(ssm, IMAGE, "main", "78")
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name=ATTESTATION)


@pytest.mark.parametrize("claimed", ["HEAD", "main", "--all", "a" * 39])
def test_a_record_that_names_no_commit_is_not_attested(ssm, checkout, claimed):
    record = {"image": IMAGE, "commit": claimed, "ref": "refs/heads/develop"}
    ssm.put_parameter(Name=NAME, Value=json.dumps(record), Type="String")
    with pytest.raises(image_record.Refused, match="not a commit"):
        image_record.attest(ssm, IMAGE, "main", "78")


def test_an_image_the_build_job_never_recorded_is_refused(ssm, checkout):
    with pytest.raises(image_record.Refused, match="has no build record"):
        image_record.attest(ssm, IMAGE, "main", "78")


@pytest.mark.parametrize("image", [IMAGE.replace("@sha256:", ":"), "app@sha256:" + "c" * 64, IMAGE + "0"])
def test_only_an_image_by_digest_has_a_record(image):
    with pytest.raises(image_record.Refused, match="is not an image by digest"):
        image_record.record_name(image)


def test_a_record_names_its_whole_commit(ssm):
    with pytest.raises(image_record.Refused, match="is not a full commit SHA"):
        image_record.record(ssm, IMAGE, "abc123", "refs/heads/develop", "77")
