"""sandbox/throttling_proxy.py: which requests it recognises, and that botocore reads its answers as throttling.

The throttling answers are checked through botocore itself: a client's request is built by
botocore's serializer and signer, answered by the proxy's functions instead of the network, and
the error is parsed by botocore's parser for that protocol and classified by its retry checkers.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import boto3
import pytest
from botocore import parsers
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.retries import standard

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "sandbox"))
from throttling_proxy import (  # noqa: E402 (sandbox/ is not a package)
    Call,
    Stats,
    Throttle,
    cbor_text_map,
    handler_class,
    identify,
    parse_listen,
    require_loopback,
    throttling_response,
)

# (service, operation, parameters, the protocol the request is seen in, the error code botocore reports)
CALLS = [
    pytest.param(
        "ecs", "describe_services", {"cluster": "c", "services": ["s"]}, "json", "ThrottlingException", id="ecs"
    ),
    pytest.param(
        "logs", "get_log_events", {"logGroupName": "g", "logStreamName": "s"}, "json", "ThrottlingException", id="logs"
    ),
    pytest.param("ssm", "get_parameter", {"Name": "/p"}, "json", "ThrottlingException", id="ssm"),
    pytest.param("dynamodb", "describe_table", {"TableName": "t"}, "json", "ThrottlingException", id="dynamodb"),
    pytest.param("elbv2", "describe_listeners", {"ListenerArns": ["arn"]}, "query", "Throttling", id="elbv2"),
    pytest.param("iam", "get_role", {"RoleName": "r"}, "query", "Throttling", id="iam"),
    pytest.param("sts", "get_caller_identity", {}, "query", "Throttling", id="sts"),
    pytest.param("ec2", "describe_vpcs", {}, "ec2", "RequestLimitExceeded", id="ec2"),
    pytest.param("lambda", "invoke", {"FunctionName": "f"}, "rest-json", "TooManyRequestsException", id="lambda"),
    # CloudWatch moved from the query protocol to JSON: it asks for the query error codes.
    pytest.param(
        "cloudwatch",
        "get_metric_statistics",
        {
            "Namespace": "AWS/ApplicationELB",
            "MetricName": "RequestCount",
            "StartTime": 0,
            "EndTime": 60,
            "Period": 60,
            "Statistics": ["Sum"],
        },
        "json",
        "Throttling",
        id="cloudwatch",
    ),
]


class _Body:
    """The raw body of an AWSResponse, as botocore reads it."""

    def __init__(self, content: bytes):
        self.content = content

    def stream(self, **_kwargs):
        yield self.content


def _throttled_by_the_proxy(service: str, max_attempts: int):
    """A client whose every request is answered by the proxy's throttling response; the calls seen."""
    client = boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="unit",
        aws_secret_access_key="unit",
        config=Config(retries={"mode": "standard", "total_max_attempts": max_attempts}),
    )
    seen: list[Call] = []

    def answer(request, **_kwargs):
        headers = {name.lower(): value for name, value in request.headers.items()}
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in headers.items()}
        url = urlsplit(request.url)
        path = url.path + (f"?{url.query}" if url.query else "")
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        call = identify(request.method, path, headers, body)
        assert call is not None, f"the proxy did not recognise {request.method} {path} as an AWS call"
        seen.append(call)
        status, response_headers, content = throttling_response(call, headers.get("content-type", ""))
        return AWSResponse(request.url, status, HTTPHeaders.from_dict(response_headers), _Body(content))

    client.meta.events.register("before-send", answer)
    return client, seen


@pytest.fixture
def no_backoff(monkeypatch):
    """botocore retries at once, so that three attempts take no time."""
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


@pytest.mark.usefixtures("no_backoff")
@pytest.mark.parametrize(("service", "operation", "params", "protocol", "code"), CALLS)
def test_botocore_reads_the_answer_as_throttling_and_retries(service, operation, params, protocol, code):
    client, seen = _throttled_by_the_proxy(service, max_attempts=3)

    with pytest.raises(ClientError) as raised:
        getattr(client, operation)(**params)

    error = raised.value.response
    assert error["Error"]["Code"] == code, f"{service} read the throttling answer as {error['Error']}"
    assert error["Error"]["Message"] in {"Rate exceeded", "Request limit exceeded."}
    context = standard.RetryContext(attempt_number=1, parsed_response=error)
    assert standard.ThrottledRetryableChecker().is_retryable(context), f"{code} is not a throttling code to botocore"
    assert len(seen) == 3, f"botocore tried {service} {len(seen)} times, not 3: it did not retry the throttling"
    action = client.meta.service_model.operation_model(client.meta.method_to_api_mapping[operation]).name
    assert {(c.action, c.protocol) for c in seen} == {(action, protocol)}


def test_botocore_reads_the_rpc_v2_cbor_answer_as_throttling():
    """No service in this botocore picks CBOR first (CloudWatch lists it, after JSON): parse it directly."""
    path = "/service/GraniteServiceVersion20100801/operation/GetMetricData"
    call = identify("POST", path, {"smithy-protocol": "rpc-v2-cbor", "x-amzn-query-mode": "true"}, b"\xa0")
    assert call == Call("unknown", "GetMetricData", "cbor", query_compatible=True)
    status, headers, body = throttling_response(call)
    response = {"status_code": status, "headers": HTTPHeaders.from_dict(headers), "body": body}
    error = parsers.create_parser("smithy-rpc-v2-cbor").parse(response, None)["Error"]
    assert (error["Code"], error["QueryErrorCode"], error["Message"]) == (
        "Throttling",
        "ThrottlingException",
        "Rate exceeded",
    )


def test_a_query_compatible_client_gets_the_query_code_too():
    client, _seen = _throttled_by_the_proxy("cloudwatch", max_attempts=1)
    with pytest.raises(ClientError) as raised:
        client.list_dashboards()
    assert raised.value.response["Error"]["QueryErrorCode"] == "ThrottlingException"
    assert raised.value.response["Error"]["Type"] == "Sender"


@pytest.mark.parametrize(
    ("method", "path", "headers", "body"),
    [
        pytest.param("POST", "/moto-api/reset", {}, b"", id="emulator-api"),
        pytest.param(
            "POST", "/moto-api/x", {"x-amz-target": "AmazonEC2ContainerServiceV20141113.ListClusters"}, b"", id="never"
        ),
        pytest.param("GET", "/_proxy/stats", {}, b"", id="own-stats"),
        pytest.param(
            "GET",
            "/bucket/key",
            {"authorization": "AWS4-HMAC-SHA256 Credential=a/20240101/us-east-1/s3/aws4_request"},
            b"",
            id="s3",
        ),
        pytest.param("POST", "/", {"content-type": "application/json"}, b"Action=Nope", id="not-a-form"),
    ],
)
def test_anything_but_an_aws_api_call_is_never_throttled(method, path, headers, body):
    assert identify(method, path, headers, body) is None


def test_the_service_comes_from_the_signature_scope_and_the_action_from_a_get_query():
    auth = "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/elasticloadbalancing/aws4_request, SignedHeaders=host"
    call = identify("GET", "/?Action=DescribeLoadBalancers&Version=2015-12-01", {"authorization": auth}, b"")
    assert call == Call("elasticloadbalancing", "DescribeLoadBalancers", "query")
    assert call.name == "elasticloadbalancing:DescribeLoadBalancers"


def test_a_json_answer_keeps_the_requests_json_version():
    status, headers, body = throttling_response(Call("dynamodb", "GetItem", "json"), "application/x-amz-json-1.0")
    assert (status, headers["Content-Type"]) == (400, "application/x-amz-json-1.0")
    assert json.loads(body) == {"__type": "ThrottlingException", "message": "Rate exceeded"}


@pytest.mark.parametrize(
    ("items", "encoded"),
    [
        ({}, b"\xa0"),
        ({"a": "b"}, b"\xa1\x61a\x61b"),
        ({"k": "x" * 24}, b"\xa1\x61k\x78\x18" + b"x" * 24),
        ({"k": "x" * 300}, b"\xa1\x61k\x79\x01\x2c" + b"x" * 300),
    ],
)
def test_cbor_text_map_follows_rfc_8949(items, encoded):
    assert cbor_text_map(items) == encoded


ECS_CALL = Call("ecs", "DescribeServices", "json")
ELB_CALL = Call("elasticloadbalancing", "DescribeTargetHealth", "query")


def test_the_throttle_is_reproducible_from_its_seed_and_keeps_to_its_rate():
    first, second = Throttle(0.3, seed=7), Throttle(0.3, seed=7)
    decisions = [first(ECS_CALL) for _ in range(10_000)]
    assert decisions == [second(ECS_CALL) for _ in range(10_000)], "the same seed must throttle the same calls"
    assert 0.28 < sum(decisions) / len(decisions) < 0.32
    assert decisions != [Throttle(0.3, seed=8)(ECS_CALL) for _ in range(10_000)], "another seed, other calls"
    assert not any(Throttle(0.0, seed=1)(ECS_CALL) for _ in range(100))
    assert all(Throttle(1.0, seed=1)(ECS_CALL) for _ in range(100))


def test_the_fate_of_an_actions_calls_does_not_depend_on_how_many_other_calls_came_between():
    alone, interleaved = Throttle(0.3, seed=7), Throttle(0.3, seed=7)
    expected = [alone(ECS_CALL) for _ in range(200)]
    seen = []
    for polls in range(200):
        for _ in range(polls % 5):
            interleaved(ELB_CALL)
        seen.append(interleaved(ECS_CALL))
    assert seen == expected


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_a_rate_outside_0_to_1_is_refused(rate):
    with pytest.raises(ValueError, match="between 0 and 1"):
        Throttle(rate, seed=0)


def test_stats_count_each_action_and_each_protocol():
    stats = Stats()
    for call, throttled in [
        (Call("ecs", "DescribeServices", "json"), True),
        (Call("ecs", "DescribeServices", "json"), False),
        (Call("ecs", "DescribeServices", "json"), False),
        (Call("elasticloadbalancing", "ModifyListener", "query"), True),
    ]:
        stats.record(call, throttled)
    assert stats.as_dict() == {
        "actions": {
            "ecs:DescribeServices": {"protocol": "json", "forwarded": 2, "throttled": 1},
            "elasticloadbalancing:ModifyListener": {"protocol": "query", "forwarded": 0, "throttled": 1},
        },
        "protocols": {"json": {"forwarded": 2, "throttled": 1}, "query": {"forwarded": 0, "throttled": 1}},
    }


@pytest.mark.parametrize(
    ("value", "address"), [("127.0.0.1:0", ("127.0.0.1", 0)), (":8080", ("127.0.0.1", 8080)), ("::1:5", ("::1", 5))]
)
def test_parse_listen(value, address):
    assert parse_listen(value) == address


@pytest.mark.parametrize("upstream", ["http://127.0.0.1:4566", "http://localhost:4566", "http://[::1]:4566"])
def test_a_loopback_upstream_is_accepted(upstream):
    require_loopback(upstream)


@pytest.mark.parametrize("upstream", ["https://ecs.us-east-1.amazonaws.com", "http://10.0.0.5:4566"])
def test_an_upstream_off_this_machine_is_refused(upstream):
    with pytest.raises(SystemExit, match="local emulator only"):
        require_loopback(upstream)


class _Echo(BaseHTTPRequestHandler):
    """A stand-in for the emulator: answers each request with what it received."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        echoed = json.dumps({"path": self.path, "body": body.decode(), "host": self.headers["Host"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(echoed)))
        self.end_headers()
        self.wfile.write(echoed)

    def log_message(self, *_args):
        pass


@pytest.fixture
def proxy():
    """A proxy throttling half the calls (seed 3) in front of an echoing upstream; its address."""
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0),
        handler_class(f"http://127.0.0.1:{upstream.server_address[1]}", Throttle(0.5, seed=3), Stats()),
    )
    for running in (upstream, server):
        threading.Thread(target=running.serve_forever, daemon=True).start()
    yield server.server_address
    for running in (server, upstream):
        running.shutdown()
        running.server_close()


def test_the_proxy_forwards_or_throttles_each_call_and_serves_its_counts(proxy):
    connection = http.client.HTTPConnection(*proxy, timeout=10)  # one keep-alive connection throughout
    statuses = []
    for _ in range(20):
        connection.request(
            "POST", "/", body=b"{}", headers={"X-Amz-Target": "AmazonSSM.GetParameter", "Host": "proxied"}
        )
        response = connection.getresponse()
        content = response.read()
        statuses.append(response.status)
        if response.status == 200:
            assert json.loads(content) == {"path": "/", "body": "{}", "host": "proxied"}, "forwarded as received"
    connection.request("POST", "/moto-api/reset", body=b"")
    assert connection.getresponse().read() and all(s in {200, 400} for s in statuses), f"unexpected statuses {statuses}"
    connection.request("GET", "/_proxy/stats")
    counts = json.loads(connection.getresponse().read())
    assert counts["actions"]["unknown:GetParameter"] == {
        "protocol": "json",
        "forwarded": statuses.count(200),
        "throttled": statuses.count(400),
    }
    assert 0 < statuses.count(400) < 20, "half the calls, seeded, must be neither none nor all"
    assert "moto-api" not in json.dumps(counts), "the emulator's own API is never counted or throttled"
