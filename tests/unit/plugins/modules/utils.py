"""Run a module's main() as Ansible would, with its AWS clients stubbed (botocore's Stubber).

In the manner of amazon.aws tests/unit/plugins/modules: module arguments through
ansible's patch_module_args, exit_json/fail_json turned into exceptions that carry the result,
and module_utils/aws.py's connect() patched to return a real boto3 client whose calls are answered
by a Stubber, which client() wraps in amazon.aws's retry wrapper as it always does. The wrapper
also notes every call made without aws_retry=True, and the Stubber refuses parameters the API
does not take: a call outside the collection's retry policy or off the API is a failed test.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading

import boto3
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from botocore.stub import ANY, Stubber

__all__ = [
    "ANY",
    "Aws",
    "FakeClock",
    "FakeHaproxy",
    "ModuleExit",
    "expect_lease_update",
    "expect_lease_update_refused",
    "run_module",
]


class ModuleExit(Exception):
    """exit_json or fail_json was called; .result holds what the module returned."""

    def __init__(self, result):
        super().__init__(result)
        self.result = result


# amazon.aws elb_utils helpers call the client without aws_retry: they carry their own backoff.
ELB_UTILS_CALLS = frozenset(("describe_rules", "modify_listener", "modify_rule"))


class RecordingRetryWrapper(RetryingBotoClientWrapper):
    """amazon.aws's retry wrapper that also notes the calls made without aws_retry=True."""

    def __init__(self, client, retry, unretried):
        super().__init__(client, retry)
        self.unretried = unretried

    def _create_optional_retry_wrapper_function(self, unwrapped):
        decide = super()._create_optional_retry_wrapper_function(unwrapped)

        def recording(*args, aws_retry=False, **kwargs):
            if not aws_retry:
                self.unretried.append(unwrapped.__name__)
            return decide(*args, aws_retry=aws_retry, **kwargs)

        return recording


class Aws:
    """The stubbed clients of one test: aws.stub("ecs") is the Stubber of the ecs client."""

    def __init__(self):
        self.clients = {}
        self.stubbers = {}
        self.created = []  # (service, config, retry_decorator) of every client() made
        self.unretried = []  # client methods called without aws_retry=True

    def stub(self, service) -> Stubber:
        if service not in self.stubbers:
            self.clients[service] = boto3.client(
                service,
                region_name="us-east-1",
                aws_access_key_id="unit",
                aws_secret_access_key="unit",
            )
            self.stubbers[service] = Stubber(self.clients[service])
            self.stubbers[service].activate()
        return self.stubbers[service]

    def connect(self, service, config):
        self.created.append([service, config, None])
        self.stub(service)
        return self.clients[service]

    def retrying(self, raw, retry_decorator):
        """amazon.aws's retry wrapper as client() applies it, noting the calls made without aws_retry."""
        self.created[-1][2] = retry_decorator
        return RecordingRetryWrapper(raw, retry_decorator, self.unretried)

    def assert_done(self):
        """Every expected call happened, and each within the collection's retry policy."""
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()
        outside = sorted(set(self.unretried) - ELB_UTILS_CALLS)
        assert not outside, f"called without aws_retry=True (outside the retry policy): {outside}"
        for service, config, retry_decorator in self.created:
            assert retry_decorator is not None, f"the {service} client was created without a retry decorator"
            assert config is not None and config.retries == {"mode": "adaptive", "max_attempts": 10}, (
                f"the {service} client was created without botocore's adaptive retries"
            )


def run_module(module, args, check_mode=False, diff=False):
    """Run module.main() with args; the result it exited or failed with ("failed" says which)."""
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(ModuleExit) as exited:
        module.main()
    return exited.value.result


class FakeClock:
    """Stands in for a module's time: sleep() moves the clock instead of waiting."""

    def __init__(self, now=1_800_000_000.0):
        self.now = now
        self.slept = []

    def time(self):
        return self.now

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


class FakeHaproxy:
    """HAProxy's admin socket, faked at the runtime API: answers `show stat` with rows it is given.

    rows: a list of "pxname,svname,status,weight,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other"
    lines; set .rows (or .answers, a list of row lists served one per command) to change what it says.
    """

    HEADER = "# pxname,svname,status,weight,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,"

    def __init__(self, rows=()):
        self.rows = list(rows)
        self.answers = []
        self.commands = []
        # A short directory: a UNIX socket path must stay under about 100 characters.
        self._dir = tempfile.mkdtemp(prefix="haproxy-", dir="/tmp")
        self.path = os.path.join(self._dir, "admin.sock")
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        self._server.listen(8)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return  # closed
            with connection:
                command = connection.recv(4096).decode().strip()
                self.commands.append(command)
                if command.startswith("set server "):
                    connection.sendall(self._set(command).encode())
                    continue
                rows = self.answers.pop(0) if self.answers else self.rows
                connection.sendall(("\n".join([self.HEADER, *[row + "," for row in rows], "", ""])).encode())

    def _set(self, command):
        """`set server <backend>/<server> weight <n>` or `... state ready` on the rows, as HAProxy
        does: nothing answered when done, or .refuse (a message) when set."""
        if getattr(self, "refuse", None):
            return self.refuse + "\n"
        _, _, name, what, value = command.split()
        backend, server = name.split("/")
        for index, row in enumerate(self.rows):
            fields = row.split(",")
            if fields[:2] == [backend, server]:
                if what == "weight":
                    fields[3] = value
                elif fields[2] in ("MAINT", "DRAIN"):
                    fields[2] = "UP"
                self.rows[index] = ",".join(fields)
        return ""

    def close(self):
        self._server.close()
        os.unlink(self.path)
        os.rmdir(self._dir)


class _HeldWithToken:
    """Matches the ExpressionAttributeValues of an update conditioned on the lease held with token."""

    def __init__(self, token):
        self.token = token

    def __eq__(self, values):
        return values.get(":token") == {"N": str(self.token)} and values.get(":held") == {"S": "held"}

    __hash__ = None  # compared only


def expect_lease_update(dynamodb, table, environment, token, before):
    """The heartbeat or release of the lease's holder: one UpdateItem on the condition that the item
    is still held with token, answered with the item before (the module computes the item after)."""
    from ansible_collections.switchyard.bluegreen.plugins.module_utils.lease_store import to_dynamodb  # noqa: PLC0415

    dynamodb.add_response(
        "update_item",
        {"Attributes": to_dynamodb(before)},
        {
            "TableName": table,
            "Key": {"environment": {"S": environment}},
            "UpdateExpression": ANY,
            "ConditionExpression": "#token = :token AND #state = :held",
            "ExpressionAttributeNames": ANY,
            "ExpressionAttributeValues": _HeldWithToken(token),
            "ReturnValues": "ALL_OLD",
        },
    )


def expect_lease_update_refused(dynamodb):
    """The lease is no longer held with the run's token: the update's condition fails."""
    dynamodb.add_client_error(
        "update_item",
        service_error_code="ConditionalCheckFailedException",
        service_message="The conditional request failed",
    )


class TakenLease:
    """Matches the names, then the values, of the UpdateItem that takes a free lease; keeps the
    item it writes (without its token, which the update adds) in .seen."""

    def __init__(self):
        self.names, self.seen = None, None

    @property
    def of_names(self):
        taken = self

        class Names:
            def __eq__(self, names):
                taken.names = names
                return names.get("#token") == "token" and names.get("#state") == "state"

            __hash__ = None

        return Names()

    def __eq__(self, values):
        from ansible_collections.switchyard.bluegreen.plugins.module_utils.lease_store import from_dynamodb  # noqa: PLC0415

        fields = {key: values[name.replace("#", ":")] for name, key in self.names.items() if name.startswith("#f")}
        self.seen = from_dynamodb(fields)
        return values.get(":one") == {"N": "1"} and values.get(":held") == {"S": "held"}

    __hash__ = None  # compared only


def expect_lease_take(dynamodb, table, environment, before, taken=None):
    """Acquiring a lease nobody holds: one UpdateItem on the condition that the item is missing or
    not held, adding one to the token, answered with the item before (None: there was none)."""
    from ansible_collections.switchyard.bluegreen.plugins.module_utils.lease_store import to_dynamodb  # noqa: PLC0415

    taken = taken or TakenLease()
    dynamodb.add_response(
        "update_item",
        {"Attributes": to_dynamodb(before)} if before else {},
        {
            "TableName": table,
            "Key": {"environment": {"S": environment}},
            "UpdateExpression": ANY,
            "ConditionExpression": "attribute_not_exists(#environment) OR #state <> :held",
            "ExpressionAttributeNames": taken.of_names,
            "ExpressionAttributeValues": taken,
            "ReturnValues": "ALL_OLD",
        },
    )
    return taken


def expect_lease_take_refused(dynamodb):
    """Acquiring finds the lease held: the take's condition fails (the module then reads it)."""
    expect_lease_update_refused(dynamodb)
