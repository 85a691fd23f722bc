"""A real PostgreSQL server (Debian's binaries) and the service as a process, for the app's tests."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parent.parent


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
    pytest.fail("PostgreSQL server binaries not found: install Debian's postgresql (.ci/run does).")


def as_postgres_user(command: list[str]) -> list[str]:
    """initdb refuses to run as root; drop to the postgres user when we are root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL cluster on a free port with a database 'app' owned by 'app'."""
    bindir = postgres_bindir()
    # Not pytest's tmp_path: it is private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="switchyard-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    subprocess.run(
        as_postgres_user([str(bindir / "initdb"), "-D", str(data), "-U", "app", "--auth=trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1"
    subprocess.run(
        as_postgres_user(
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
    yield {"DB_HOST": "127.0.0.1", "DB_PORT": str(port), "DB_NAME": "app", "DB_USER": "app", "DB_PASSWORD": "unused"}
    subprocess.run(as_postgres_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]), check=False)
    shutil.rmtree(root, ignore_errors=True)


def wait_until_serving(url: str, process: subprocess.Popen, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the service exited with {process.returncode}: {process.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"the service did not answer {url} within {timeout} s")


@pytest.fixture
def start_service(postgres):
    """Start the service as a process (as its container would run it); stopped after the test."""
    started = []

    def start(**overrides: str) -> tuple[str, subprocess.Popen]:
        port = free_port()
        env = {**os.environ, **postgres, "PORT": str(port), "APP_VERSION": "v-test", **overrides}
        process = subprocess.Popen(
            [sys.executable, "-m", "switchyard_app.server"],
            cwd=APP_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(f"{base}/version", process)
        return base, process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()
