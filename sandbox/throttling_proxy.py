"""SANDBOX ONLY: a reverse proxy in front of the AWS API emulator that throttles a share of the calls.

Every request is forwarded to the emulator unchanged, except a share of the AWS API calls (--rate,
drawn from seeded RNGs, one per action) that the proxy answers itself, without forwarding, with the throttling
error AWS returns in that call's protocol, so botocore classifies it as throttling:

- json (X-Amz-Target: ECS, CloudWatch, CloudWatch Logs, SSM, DynamoDB...): 400,
  {"__type": "ThrottlingException"};
- smithy-rpc-v2-cbor (POST /service/<prefix>/operation/<name>, header smithy-protocol): 400,
  the same map in CBOR;
- query (form body with Action=: ELBv2, IAM, STS): 400, <ErrorResponse> with Code Throttling;
- ec2 (the query form, signed for ec2): 503, <Response><Errors> with Code RequestLimitExceeded;
- rest-json, a Lambda function's invocation (POST /2015-03-31/functions/<name>/invocations): 429,
  x-amzn-ErrorType TooManyRequestsException.

A client of a service that moved off the query protocol says so (x-amzn-query-mode: true); it gets
the query code too (x-amzn-query-error: Throttling;Sender), as from AWS. The emulator's own API
(/moto-api/) and anything that is not an AWS API call are always forwarded.

Counts per AWS action (forwarded / throttled) are served at /_proxy/stats as JSON and printed on
stdout when the proxy stops (SIGINT or SIGTERM).

Run: python sandbox/throttling_proxy.py --upstream http://127.0.0.1:4566 --rate 0.3 --seed 7
     [--listen 127.0.0.1:0]    (prints the URL it listens on, with the chosen port, on stdout)
Never point this at a real AWS account: it refuses any upstream that is not loopback.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import random
import re
import signal
import sys
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

STATS_PATH = "/_proxy/stats"
NEVER_THROTTLED = ("/moto-api/", STATS_PATH)
RATE_EXCEEDED = "Rate exceeded"
# Not forwarded either way: they describe one connection, not the request.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
SIGV4_SCOPE = re.compile(r"Credential=[^/,]+/\d{8}/[^/]+/([^/]+)/aws4_request")
RPC_V2_PATH = re.compile(r"^/service/[^/]+/operation/([^/?]+)")
LAMBDA_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/[^/]+/invocations")


@dataclass(frozen=True)
class Call:
    """One AWS API call, as far as a request says: who is called, what for, in which protocol."""

    service: str  # the SigV4 signing name: ecs, elasticloadbalancing, monitoring...
    action: str
    protocol: str  # json, cbor, query, ec2 or rest-json
    query_compatible: bool = False  # the client asked for query error codes (x-amzn-query-mode)

    @property
    def name(self) -> str:
        return f"{self.service}:{self.action}"


def identify(method: str, path: str, headers: dict[str, str], body: bytes) -> Call | None:
    """The AWS API call a request makes, or None for anything else. headers: lower-case names."""
    if path.startswith(NEVER_THROTTLED):
        return None
    scope = SIGV4_SCOPE.search(headers.get("authorization", ""))
    service = scope.group(1) if scope else "unknown"
    query_compatible = headers.get("x-amzn-query-mode", "").lower() == "true"
    if "x-amz-target" in headers:
        action = headers["x-amz-target"].rsplit(".", 1)[-1]
        return Call(service, action, "json", query_compatible)
    rpc_v2 = RPC_V2_PATH.match(path)
    if rpc_v2 and headers.get("smithy-protocol") == "rpc-v2-cbor":
        return Call(service, rpc_v2.group(1), "cbor", query_compatible)
    if method == "POST" and LAMBDA_INVOKE_PATH.match(path):
        return Call(service, "Invoke", "rest-json")
    form = body if method == "POST" and "x-www-form-urlencoded" in headers.get("content-type", "") else b""
    params = parse_qs(form.decode("utf-8", "replace")) or parse_qs(urlsplit(path).query)
    if "Action" in params:
        return Call(service, params["Action"][0], "ec2" if service == "ec2" else "query")
    return None


def cbor_text_map(items: dict[str, str]) -> bytes:
    """A CBOR map of text strings (RFC 8949): all an RPC v2 CBOR error body needs."""

    def head(major: int, length: int) -> bytes:
        if length < 24:
            return bytes([major << 5 | length])
        if length < 256:
            return bytes([major << 5 | 24, length])
        return bytes([major << 5 | 25]) + length.to_bytes(2, "big")

    def text(value: str) -> bytes:
        encoded = value.encode()
        return head(3, len(encoded)) + encoded

    return head(5, len(items)) + b"".join(text(key) + text(value) for key, value in items.items())


def throttling_response(call: Call, request_content_type: str = "") -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of the throttling error AWS returns for call's protocol."""
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-RequestId": request_id}
    if call.query_compatible:
        headers["x-amzn-query-error"] = "Throttling;Sender"
    error = {"__type": "ThrottlingException", "message": RATE_EXCEEDED}
    if call.protocol == "json":
        json_type = request_content_type if request_content_type.startswith("application/x-amz-json") else ""
        headers["Content-Type"] = json_type or "application/x-amz-json-1.1"
        return 400, headers, json.dumps(error).encode()
    if call.protocol == "cbor":
        headers.update({"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"})
        return 400, headers, cbor_text_map(error)
    if call.protocol == "rest-json":
        headers.update({"Content-Type": "application/json", "x-amzn-ErrorType": "TooManyRequestsException"})
        return 429, headers, json.dumps({"Type": "User", "message": RATE_EXCEEDED}).encode()
    headers["Content-Type"] = "text/xml"
    if call.protocol == "ec2":
        body = (
            "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>"
            f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
        return 503, headers, body.encode()
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>{RATE_EXCEEDED}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return 400, headers, body.encode()


class Throttle:
    """Decides which calls are throttled, from one seeded RNG per AWS action; thread-safe.

    One stream per action keeps the fate of the n-th call of an action the same from run to run,
    whatever the number of calls of other actions (polling loops vary with timing).
    """

    def __init__(self, rate: float, seed: int):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"the throttling rate must be between 0 and 1, not {rate}")
        self.rate = rate
        self.seed = seed
        self._streams: dict[str, random.Random] = {}
        self._lock = threading.Lock()

    def __call__(self, call: Call) -> bool:
        with self._lock:
            stream = self._streams.setdefault(call.name, random.Random(f"{self.seed}:{call.name}"))
            return stream.random() < self.rate


class Stats:
    """Forwarded and throttled counts per AWS action; thread-safe."""

    def __init__(self):
        self._counts: Counter[tuple[str, str, bool]] = Counter()
        self._lock = threading.Lock()

    def record(self, call: Call, throttled: bool) -> None:
        with self._lock:
            self._counts[call.name, call.protocol, throttled] += 1

    def as_dict(self) -> dict:
        """{"actions": {"ecs:DescribeServices": {protocol, forwarded, throttled}}, "protocols": {json: {...}}}"""
        with self._lock:
            counts = dict(self._counts)
        actions: dict[str, dict] = {}
        protocols: dict[str, dict] = {}
        for (name, protocol, throttled), count in sorted(counts.items()):
            key = "throttled" if throttled else "forwarded"
            entry = actions.setdefault(name, {"protocol": protocol, "forwarded": 0, "throttled": 0})
            entry[key] += count
            total = protocols.setdefault(protocol, {"forwarded": 0, "throttled": 0})
            total[key] += count
        return {"actions": actions, "protocols": protocols}


def handler_class(upstream: str, throttle: Throttle, stats: Stats) -> type[BaseHTTPRequestHandler]:
    """A request handler that throttles or forwards each request to upstream (http://host:port)."""
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as botocore expects
        disable_nagle_algorithm = True  # headers and body go in two writes: no delayed ACK between

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            if self.command == "GET" and self.path == STATS_PATH:
                self.answer(200, {"Content-Type": "application/json"}, json.dumps(stats.as_dict()).encode())
                return
            call = identify(self.command, self.path, headers, body)
            throttled = call is not None and throttle(call)
            if call is not None:
                stats.record(call, throttled)
            if throttled:
                self.answer(*throttling_response(call, headers.get("content-type", "")))
            else:
                self.forward(body)

        def forward(self, body: bytes):
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                connection.request(self.command, self.path, body=body or None, headers=headers)
                response = connection.getresponse()
                content = response.read()
                kept = {k: v for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP | {"content-length"}}
                self.answer(response.status, kept, content)
            except OSError as error:
                message = f"throttling proxy: the emulator at {upstream} did not answer: {error}"
                self.answer(502, {"Content-Type": "text/plain"}, message.encode())
            finally:
                connection.close()

        def answer(self, status: int, headers: dict[str, str], body: bytes):
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any

        def log_message(self, *_args):
            pass  # one line per request would drown the counts

    return Handler


def parse_listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host or "127.0.0.1", int(port)


def require_loopback(upstream: str) -> None:
    host = urlsplit(upstream).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SystemExit(f"refusing upstream {upstream}: this proxy is for the local emulator only")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--upstream", required=True, help="the emulator, e.g. http://127.0.0.1:4566")
    parser.add_argument("--listen", default="127.0.0.1:0", help="host:port to listen on (port 0: any free port)")
    parser.add_argument("--rate", type=float, default=0.3, help="share of AWS API calls throttled, 0 to 1")
    parser.add_argument("--seed", type=int, default=0, help="seed of the RNG that picks the throttled calls")
    args = parser.parse_args(argv)
    require_loopback(args.upstream)
    stats = Stats()
    server = ThreadingHTTPServer(
        parse_listen(args.listen), handler_class(args.upstream.rstrip("/"), Throttle(args.rate, args.seed), stats)
    )
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    host, port = server.server_address[:2]
    print(f"http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        print(json.dumps(stats.as_dict(), indent=2), flush=True)


if __name__ == "__main__":
    sys.exit(main())
