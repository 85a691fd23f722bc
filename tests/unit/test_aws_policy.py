"""One retry policy for every AWS client (module_utils/aws.py)."""

from ansible_collections.amazon.aws.plugins.module_utils import cloud
from ansible_collections.switchyard.bluegreen.plugins.module_utils import aws
from botocore.exceptions import ClientError


class FakeModule:
    def __init__(self):
        self.calls = []

    def client(self, service, retry_decorator=None, **extra):
        self.calls.append((service, retry_decorator, extra))
        return "client"


def test_clients_get_adaptive_botocore_retries_and_the_jittered_backoff():
    module = FakeModule()
    assert aws.client(module, "ecs") == "client"
    ((service, retry_decorator, extra),) = module.calls
    assert service == "ecs"
    assert retry_decorator is aws.RETRY
    assert extra["config"].retries == {"mode": "adaptive", "max_attempts": 10}


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
