"""Fixtures of the module tests: exits as exceptions, no retry sleeps, stubbed AWS clients (see utils.py)."""

from __future__ import annotations

import pytest
from ansible.module_utils import basic
from ansible_collections.amazon.aws.plugins.module_utils import cloud
from ansible_collections.switchyard.bluegreen.plugins.module_utils import aws as aws_utils

from tests.unit.plugins.modules.utils import Aws, FakeHaproxy, ModuleExit


@pytest.fixture(autouse=True)
def module_exits(monkeypatch):
    """exit_json and fail_json raise ModuleExit with the result instead of ending the process."""

    def exit_json(self, **kwargs):
        raise ModuleExit({"failed": False, **kwargs})

    def fail_json(self, **kwargs):
        raise ModuleExit({"failed": True, **kwargs})

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)


@pytest.fixture(autouse=True)
def no_retry_sleep(monkeypatch):
    """amazon.aws's jittered backoff retries without waiting in tests."""
    monkeypatch.setattr(cloud.time, "sleep", lambda seconds: None)


@pytest.fixture
def aws(monkeypatch):
    """Stubbed clients: aws.stub("elbv2").add_response(...); every expected call must happen."""
    stubs = Aws()
    monkeypatch.setattr(aws_utils, "connect", lambda module, service, config: stubs.connect(service, config))
    monkeypatch.setattr(aws_utils, "RetryingBotoClientWrapper", stubs.retrying)
    yield stubs
    stubs.assert_done()


@pytest.fixture
def haproxy():
    """A fake HAProxy admin socket (FakeHaproxy): haproxy.path is the socket option."""
    fake = FakeHaproxy()
    yield fake
    fake.close()
