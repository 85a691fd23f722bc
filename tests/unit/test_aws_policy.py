"""One retry policy for every AWS client (module_utils/aws.py)."""

import pytest
from ansible_collections.amazon.aws.plugins.module_utils import cloud
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.switchyard.bluegreen.plugins.module_utils import aws
from botocore.exceptions import ClientError


class FakeModule:
    """The connection options of a module run against a local endpoint."""

    def __init__(self, **params):
        self.params = {"region": "us-east-1", "endpoint_url": "http://127.0.0.1:1", **params}
        self.failed = None

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise SystemExit(1)


def test_clients_get_adaptive_botocore_retries_and_the_jittered_backoff(monkeypatch):
    ecs = aws.client(FakeModule(access_key="a", secret_key="b"), "ecs")
    assert isinstance(ecs, RetryingBotoClientWrapper)
    assert ecs.retry is aws.RETRY
    assert ecs.client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 11}  # 10 retries
    assert ecs.client.meta.endpoint_url == "http://127.0.0.1:1"
    assert ecs.client.meta.region_name == "us-east-1"


def test_clients_are_made_by_amazon_aws_with_its_user_agent_and_the_module_s_botocore_config():
    module = FakeModule(access_key="a", secret_key="b", aws_config={"connect_timeout": 7})
    ecs = aws.client(module, "ecs").client
    assert "Ansible/" in ecs.meta.config.user_agent and ecs.meta.config.user_agent.startswith("APN/1.0")
    assert ecs.meta.config.connect_timeout == 7
    assert ecs.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 11}, "our retries kept"


def test_a_client_without_a_region_is_refused_with_what_to_set(monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    module = FakeModule(region=None, access_key="a", secret_key="b")
    with pytest.raises(SystemExit):
        aws.client(module, "ecs")
    assert "No AWS region for ecs" in module.failed["msg"]


def test_a_profile_that_does_not_exist_is_a_clear_failure(monkeypatch):
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    module = FakeModule(profile="nobody")
    failed = {}
    module.fail_json_aws = lambda e, msg: failed.update(msg=f"{msg}: {e}") or (_ for _ in ()).throw(SystemExit(1))
    with pytest.raises(SystemExit):
        aws.client(module, "ecs")
    assert "Couldn't connect to AWS" in failed["msg"] and "nobody" in failed["msg"]


def throttled_then(value, code):
    attempts = []

    @aws.RETRY
    def call():
        attempts.append(1)
        if len(attempts) == 1:
            raise ClientError({"Error": {"Code": code, "Message": "slow down"}}, "Op")
        return value

    return call, attempts


def test_the_backoff_retries_every_throttling_code(monkeypatch):
    monkeypatch.setattr(cloud.time, "sleep", lambda seconds: None)
    for code in ("Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"):
        call, attempts = throttled_then("ok", code)
        assert call() == "ok", code
        assert len(attempts) == 2, code
