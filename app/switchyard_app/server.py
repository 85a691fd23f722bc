"""HTTP service: /healthz (checks the database and its schema), /version, and /visits (rows in PostgreSQL).

It runs no DDL: the release's migrations (migrations/, applied by `python -m switchyard_app.migrate`
as a one-off task before the release takes traffic) build the schema, and the service connects as
the runtime role, which may read and write rows only. What it reads and writes follows the
migrations it ships, so the release before a migration keeps working on the migrated schema.

On SIGTERM it stops accepting connections, lets every request in flight finish, then exits:
a blue/green switch drains the old colour, and requests must not be cut off on the way.

Configuration (environment): PORT (8080), APP_VERSION, DB_HOST, DB_PORT (5432), DB_NAME,
DB_USER (app_runtime), DB_PASSWORD, DB_SSLMODE (prefer), and APP_FAULT_PERCENT (0): the share of /visits
requests answered 500 on purpose, to rehearse an automatic rollback in development.
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import psycopg

from switchyard_app import schema

log = logging.getLogger("switchyard_app")
MAX_HOLD_MS = 30_000


def connect() -> psycopg.Connection:
    return psycopg.connect(
        host=os.environ.get("DB_HOST", "localhost"),
        port=int(os.environ.get("DB_PORT", "5432")),
        dbname=os.environ.get("DB_NAME", "app"),
        user=os.environ.get("DB_USER", "app_runtime"),
        password=os.environ.get("DB_PASSWORD", ""),
        sslmode=os.environ.get("DB_SSLMODE", "prefer"),
        connect_timeout=3,
    )


SHIPPED = [migration.id for migration in schema.shipped()]
# Release 2 (migration 0002) records the user agent; release 1 recorded the client.
RECORDS_AGENT = "0002.visits-agent" in SHIPPED


def missing_migrations(conn: psycopg.Connection) -> list[str]:
    """The migrations this release ships that the database lacks (it must not serve without them)."""
    try:
        applied = {row[0] for row in conn.execute("SELECT migration_id FROM _yoyo_migration")}
    except psycopg.errors.UndefinedTable:
        return list(SHIPPED)  # never migrated
    return [migration for migration in SHIPPED if migration not in applied]


class Handler(BaseHTTPRequestHandler):
    server_version = "switchyard-app"

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        log.info("%s %s", self.address_string(), format % args)

    def reply(self, status: HTTPStatus, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):  # noqa: N802 - http.server's naming
        path = urlparse(self.path).path
        if path == "/healthz":
            self.healthz()
        elif path == "/version":
            self.reply(HTTPStatus.OK, {"version": os.environ.get("APP_VERSION", "unknown")})
        elif path == "/visits":
            self.visits(record=False)
        else:
            self.reply(HTTPStatus.NOT_FOUND, {"error": f"no route {path}"})

    def do_POST(self):  # noqa: N802 - http.server's naming
        if urlparse(self.path).path == "/visits":
            self.visits(record=True)
        else:
            self.reply(HTTPStatus.NOT_FOUND, {"error": f"no route {self.path}"})

    def healthz(self) -> None:
        try:
            with connect() as conn:
                missing = missing_migrations(conn)
        except psycopg.Error as error:
            # The reason, never the connection string (it may carry the password).
            self.reply(HTTPStatus.SERVICE_UNAVAILABLE, {"status": "unhealthy", "database": type(error).__name__})
            return
        if missing:
            self.reply(HTTPStatus.SERVICE_UNAVAILABLE, {"status": "unhealthy", "missing_migrations": missing})
            return
        self.reply(HTTPStatus.OK, {"status": "ok"})

    def visits(self, record: bool) -> None:
        if random.uniform(0, 100) < float(os.environ.get("APP_FAULT_PERCENT", "0")):  # noqa: S311 - not crypto
            self.reply(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "fault injected (APP_FAULT_PERCENT)"})
            return
        # hold_ms keeps the transaction open that long: a slow request, for drain and load tests.
        query = parse_qs(urlparse(self.path).query)
        try:
            hold_ms = min(int(query.get("hold_ms", ["0"])[0]), MAX_HOLD_MS)
        except ValueError:
            self.reply(HTTPStatus.BAD_REQUEST, {"error": "hold_ms must be a whole number of milliseconds"})
            return
        try:
            with connect() as conn:
                if hold_ms > 0:
                    conn.execute("SELECT pg_sleep(%s)", (hold_ms / 1000,))
                column = "agent" if RECORDS_AGENT else "client"
                if record:
                    value = self.headers.get("User-Agent", "") if RECORDS_AGENT else self.client_address[0]
                    conn.execute(f"INSERT INTO visits ({column}) VALUES (%s)", (value,))  # noqa: S608 - a constant
                count, distinct = conn.execute(
                    f"SELECT count(*), count(DISTINCT {column}) FROM visits"  # noqa: S608 - a constant
                ).fetchone()
        except psycopg.Error as error:
            self.reply(HTTPStatus.SERVICE_UNAVAILABLE, {"error": type(error).__name__})
            return
        body = {"visits": count, f"{column}s": distinct}
        self.reply(HTTPStatus.CREATED if record else HTTPStatus.OK, body)


class Server(ThreadingHTTPServer):
    # Request threads are joined on close: that is what drains requests in flight.
    daemon_threads = False
    block_on_close = True
    # The default backlog of 5 refuses connections (and fails health checks) under modest load.
    request_queue_size = 128


def serve(port: int) -> None:
    server = Server(("0.0.0.0", port), Handler)  # noqa: S104 - a container listens on all interfaces

    def drain(signum, _frame):
        log.info("signal %s: no new connections; finishing requests in flight", signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, drain)
    signal.signal(signal.SIGINT, drain)
    log.info("listening on %s (version %s)", port, os.environ.get("APP_VERSION", "unknown"))
    server.serve_forever()
    server.server_close()  # waits for the request threads
    log.info("drained; exiting")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stdout)
    try:
        with connect() as conn:
            missing = missing_migrations(conn)
    except psycopg.Error as error:
        log.error("cannot read the database (%s); check DB_HOST, DB_NAME and the credentials", type(error).__name__)
        return 1
    if missing:
        # It serves anyway (health answers 503 meanwhile): the migration task may still be running.
        log.warning("the database lacks this release's migrations %s: run python -m switchyard_app.migrate", missing)
    serve(int(os.environ.get("PORT", "8080")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
