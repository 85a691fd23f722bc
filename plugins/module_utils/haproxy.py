# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HAProxy's runtime API (the admin socket) as the local traffic layer: read what it serves.

A production backend holds one server per colour; the colours' weights say where traffic goes,
as the production listener's weights do on the ALB. A test backend serves the idle colour.
Parsing is pure so that it is tested without HAProxy (tests/unit).
"""

from __future__ import annotations

import csv
import socket

# Statuses under which a server takes no new requests whatever its weight (MAINT (via x/y) too).
NOT_SERVING = ("MAINT", "DRAIN")
# Statuses of a server whose health checks pass.
HEALTHY = ("UP", "DRAIN", "NOLB")


class RuntimeApiError(Exception):
    """The socket is missing or refused the command; the message says which and what to do."""


def runtime_command(socket_path, line, timeout=5.0):
    """Send one command to the admin socket and return HAProxy's answer."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(socket_path)
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError as e:
        raise RuntimeApiError(
            f"No HAProxy runtime API at {socket_path} ({e.strerror or e}). Start the development"
            " environment (docker compose up -d), or point the deployment contract's socket at HAProxy's admin socket."
        ) from e
    return b"".join(chunks).decode()


def parse_stat(text):
    """Rows of `show stat` (CSV whose header starts with "# ") as dicts."""
    return list(csv.DictReader(text.lstrip("# ").splitlines()))


def _count(row, field):
    value = row.get(field) or "0"
    return int(value) if value.isdigit() else 0


def backend_servers(rows, backend):
    """{server: {status, weight, serving_weight, healthy, requests, errors}} of one backend.

    requests counts every HTTP response the server gave (hrsp_*); errors its 5xx responses.
    Both are counters since HAProxy started (or since `clear counters`).
    """
    servers = {}
    for row in rows:
        if row.get("pxname") != backend or row.get("svname") in ("FRONTEND", "BACKEND"):
            continue
        status = row.get("status", "")
        weight = _count(row, "weight")
        servers[row["svname"]] = dict(
            status=status,
            weight=weight,
            serving_weight=0 if status.startswith(NOT_SERVING) else weight,
            healthy=status.startswith(HEALTHY),
            requests=sum(_count(row, f"hrsp_{kind}") for kind in ("1xx", "2xx", "3xx", "4xx", "5xx", "other")),
            errors=_count(row, "hrsp_5xx"),
            # Requests HAProxy could not pass to the server or get an answer for: its own 502/503s.
            lb_errors=_count(row, "econ") + _count(row, "eresp"),
        )
    return servers


def colour_servers(rows, backend, colours):
    """The backend's servers named after the colours; a clear error when the backend lacks one."""
    servers = backend_servers(rows, backend)
    missing = [colour for colour in colours if colour not in servers]
    if missing:
        present = ", ".join(sorted(servers)) or "none"
        raise RuntimeApiError(
            f"HAProxy backend '{backend}' has no server named {', '.join(missing)} (servers: {present})."
            " Each colour needs a server of its name in the production and test backends (dev/haproxy.cfg)."
        )
    return {colour: servers[colour] for colour in colours}
