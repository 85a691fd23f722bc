"""bootstrap.yml: the Terraform state bucket in one command, before the first provision."""

from __future__ import annotations

import json

import pytest

from tests.conftest import playbook_runner

pytestmark = pytest.mark.sandbox

BUCKET = "switchyard-pytest-terraform-state"


def test_bootstrap_creates_a_private_versioned_locked_encrypted_bucket_once(run_playbook, aws):
    s3 = aws("s3")
    name = ["-e", f"switchyard_state_bucket={BUCKET}"]

    checked = run_playbook("bootstrap.yml", *name, "--check")
    assert checked.returncode == 0, checked.failure_messages() or checked.stderr
    assert BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]], "check mode created the bucket"

    first = run_playbook("bootstrap.yml", *name)
    assert first.returncode == 0, first.failure_messages() or first.stderr
    assert first.changed > 0
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    lock = s3.get_object_lock_configuration(Bucket=BUCKET)["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled", lock
    retention = lock["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"]) == ("GOVERNANCE", 30), lock
    rule = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4, block
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s) for s in policy["Statement"]), policy

    again = run_playbook("bootstrap.yml", *name)
    assert again.returncode == 0 and again.changed == 0, "a second run must change nothing"


def test_bootstrap_refuses_the_placeholder_bucket_before_any_aws_call():
    offline = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    result = playbook_runner(offline, "staging")("bootstrap.yml")
    message = " ".join(result.failure_messages())
    assert result.returncode != 0 and "No state bucket to create" in message and "backend.hcl" in message, message


def test_a_state_bucket_without_object_lock_is_named_with_how_to_turn_it_on(run_playbook, aws):
    """An older bootstrap's bucket: amazon.aws cannot enable Object Lock on it, so the run says how."""
    old = f"{BUCKET}-unlocked"
    aws("s3").create_bucket(Bucket=old)
    aws("s3").put_bucket_versioning(Bucket=old, VersioningConfiguration={"Status": "Enabled"})
    run = run_playbook("bootstrap.yml", "-e", f"switchyard_state_bucket={old}")
    message = " ".join(run.failure_messages())
    assert run.returncode != 0 and "without Object Lock" in message and "put-object-lock-configuration" in message, (
        message
    )
