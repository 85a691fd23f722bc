"""The development scenario's verifier: the native development environment, seen from this machine.

SWITCHYARD_MOLECULE_VARS (the converge's extra vars) says where HAProxy's socket, frontends and the
record file are; DB_PORT and SWITCHYARD_<COLOUR>_PORT where PostgreSQL and the colours listen.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# One runtime API command on a UNIX socket, answered until HAProxy closes the connection.
RUNTIME_CLIENT = (
    "import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]);"
    " s.sendall(sys.argv[2].encode() + b'\\n');"
    " sys.stdout.write(b''.join(iter(lambda: s.recv(65536), b'')).decode())"
)


def _environment(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run this scenario through tests/integration/test_molecule.py")
    return value


@pytest.fixture(scope="module")
def local_stack() -> dict:
    """switchyard_local_stack as the converge received it."""
    return json.loads(Path(_environment("SWITCHYARD_MOLECULE_VARS")).read_text())["switchyard_local_stack"]


@pytest.fixture(scope="module")
def ports(local_stack) -> dict[str, int]:
    """Where each part of the environment listens."""
    return {
        "production": urlsplit(local_stack["production_url"]).port,
        "test": urlsplit(local_stack["test_url"]).port,
        "postgresql": int(_environment("DB_PORT")),
        "blue": int(_environment("SWITCHYARD_BLUE_PORT")),
        "green": int(_environment("SWITCHYARD_GREEN_PORT")),
    }


@pytest.fixture(scope="module")
def runtime_api(host, local_stack):
    """Send one command to HAProxy's runtime API over its admin socket; return the answer."""

    def command(line: str) -> str:
        return host.check_output("python3 -c %s %s %s", RUNTIME_CLIENT, local_stack["socket"], line)

    return command


@pytest.fixture(scope="module")
def records(host, local_stack) -> list[dict]:
    """The development environment's deployment records (JSON lines), oldest first."""
    record_file = host.file(local_stack["record_file"])
    assert record_file.is_file, f"no record file at {local_stack['record_file']} after the converge"
    return [json.loads(line) for line in record_file.content_string.splitlines() if line.strip()]
