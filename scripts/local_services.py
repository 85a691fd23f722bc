"""Local processes for tests and benchmarks: PostgreSQL, the sample service, HAProxy.

Native stand-ins for the development environment's containers (this machine has no Docker
engine): Debian's PostgreSQL and HAProxy, and the service run as `python -m switchyard_app.server`.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APP_DIR = REPO / "app"


class ServiceError(RuntimeError):
    """A local process did not come up; the message says which and where its log is."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    if candidates:
        return Path(candidates[0])
    if shutil.which("pg_ctl"):
        return Path(shutil.which("pg_ctl")).parent
    raise ServiceError("PostgreSQL server binaries not found: install Debian's postgresql (.ci/run does).")


def _as_postgres_user(command: list[str]) -> list[str]:
    """initdb refuses to run as root; drop to the postgres user when we are root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def postgres() -> Iterator[dict[str, str]]:
    """A throwaway cluster on a free port with a database 'app'; yields the service's DB_* settings."""
    bindir = postgres_bindir()
    root = Path(tempfile.mkdtemp(prefix="switchyard-pg-"))  # not pytest's tmp: the server runs as postgres
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    try:
        subprocess.run(
            _as_postgres_user([str(bindir / "initdb"), "-D", str(data), "-U", "app", "--auth=trust", "-E", "UTF8"]),
            check=True,
            capture_output=True,
        )
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c max_connections=200"
        subprocess.run(
            _as_postgres_user(
                [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]
            ),
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                str(bindir / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "app",
                "-d",
                "postgres",
                "-c",
                "CREATE DATABASE app",
            ],
            check=True,
            capture_output=True,
        )
        yield {
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(port),
            "DB_NAME": "app",
            "DB_USER": "app",
            "DB_PASSWORD": "unused",
        }
    finally:
        subprocess.run(
            _as_postgres_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def wait_for(url: str, process: subprocess.Popen, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            where = getattr(process, "log_path", None)
            raise ServiceError(f"{process.args} exited with {process.returncode} before answering {url} (log: {where})")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise ServiceError(f"nothing answered {url} within {timeout} s")


def start_service(db: dict[str, str], version: str, **overrides: str) -> tuple[str, subprocess.Popen]:
    """The sample service as a process (as its container runs it); the caller stops it."""
    port = free_port()
    env = {**os.environ, **db, "PORT": str(port), "APP_VERSION": version, **overrides}
    # A file, not a pipe: nobody reads the log while it runs, and a full pipe would block the service.
    log = tempfile.NamedTemporaryFile(prefix=f"switchyard-app-{version}-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "switchyard_app.server"],
        cwd=APP_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process.log_path = log.name
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/version", process)
    return base, process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if getattr(process, "log_path", None):
        Path(process.log_path).unlink(missing_ok=True)


HAPROXY_CONFIG = """\
global
    stats socket {socket} mode 600 level admin
    maxconn 4000

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    # A request that could not reach a server is sent to another one instead of failing.
    retries 3
    option redispatch
    retry-on conn-failure empty-response response-timeout

frontend production
    bind 127.0.0.1:{front_port}
    default_backend app

backend app
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
    default-server check inter 1s fall 2 rise 1
{servers}
"""


class HAProxy:
    """HAProxy in front of the colours, switched through its runtime API (the admin socket)."""

    def __init__(self, socket_path: Path, front_url: str, colours: list[str]):
        self.socket_path, self.front_url, self.colours = socket_path, front_url, colours

    def command(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(self.socket_path))
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def switch_to(self, colour: str) -> None:
        """All new requests to colour; the other drains (its requests in flight finish)."""
        self.command(f"set server app/{colour} state ready")
        self.command(f"set server app/{colour} weight 100")
        for other in self.colours:
            if other != colour:
                self.command(f"set server app/{other} state drain")


@contextlib.contextmanager
def haproxy(backends: dict[str, int], live: str) -> Iterator[HAProxy]:
    """HAProxy on a free port with one server per colour, all traffic on `live`."""
    if not shutil.which("haproxy"):
        raise ServiceError("haproxy not found: install Debian's haproxy (.ci/run does).")
    root = Path(tempfile.mkdtemp(prefix="switchyard-haproxy-"))
    front_port = free_port()
    servers = "\n".join(f"    server {colour} 127.0.0.1:{port}" for colour, port in backends.items())
    config = root / "haproxy.cfg"
    config.write_text(HAPROXY_CONFIG.format(socket=root / "admin.sock", front_port=front_port, servers=servers))
    process = subprocess.Popen(
        ["haproxy", "-db", "-f", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        balancer = HAProxy(root / "admin.sock", f"http://127.0.0.1:{front_port}", list(backends))
        deadline = time.monotonic() + 10
        while not balancer.socket_path.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise ServiceError(
                    f"haproxy did not start: {process.stdout.read() if process.poll() is not None else 'timeout'}"
                )
            time.sleep(0.05)
        balancer.switch_to(live)
        wait_for(f"{balancer.front_url}/version", process)
        yield balancer
    finally:
        stop(process)
        shutil.rmtree(root, ignore_errors=True)
