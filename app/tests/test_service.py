"""The sample service against a real PostgreSQL: routes, health, and draining on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import psycopg
import pytest

from app.tests.conftest import APP_DIR
from sandbox.local_services import migrate


def call(url: str, method: str = "GET", timeout: float = 10) -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_healthz_checks_the_database(start_service):
    base, _ = start_service()
    assert call(f"{base}/healthz") == (200, {"status": "ok"})


def test_healthz_fails_when_its_database_is_gone(start_service, postgres):
    admin = psycopg.connect(
        host=postgres["DB_HOST"], port=postgres["DB_PORT"], user="app", dbname="postgres", autocommit=True
    )
    admin.execute("CREATE DATABASE doomed")
    migrate({**postgres, "DB_NAME": "doomed"}, "v-test")
    base, _ = start_service(DB_NAME="doomed")
    assert call(f"{base}/healthz")[0] == 200
    admin.execute("DROP DATABASE doomed WITH (FORCE)")
    status, body = call(f"{base}/healthz")
    assert status == 503 and body["status"] == "unhealthy"
    assert "password" not in json.dumps(body).lower()


def test_refuses_to_start_without_a_database(postgres):
    env = {**os.environ, **postgres, "DB_NAME": "missing", "PORT": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "switchyard_app.server"],
        cwd=APP_DIR,
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert "cannot read the database" in done.stdout


def test_version_names_the_image_version(start_service):
    base, _ = start_service(APP_VERSION="v42")
    assert call(f"{base}/version") == (200, {"version": "v42"})


def test_visits_are_written_to_and_read_from_postgres(start_service):
    base, _ = start_service()
    _, before = call(f"{base}/visits")
    status, after = call(f"{base}/visits", method="POST")
    assert (status, after["visits"]) == (201, before["visits"] + 1)
    assert call(f"{base}/visits") == (200, after)


def test_fault_knob_answers_visits_with_500_and_keeps_healthz_up(start_service):
    base, _ = start_service(APP_FAULT_PERCENT="100")
    status, body = call(f"{base}/visits")
    assert status == 500 and "APP_FAULT_PERCENT" in body["error"]
    assert call(f"{base}/healthz")[0] == 200  # a faulty release passes the health gate; the watch catches it


def test_bad_hold_is_refused(start_service):
    base, _ = start_service()
    status, body = call(f"{base}/visits?hold_ms=soon")
    assert status == 400 and "hold_ms" in body["error"]


def test_sigterm_lets_a_slow_request_finish_then_exits(start_service):
    base, process = start_service()
    outcome = {}

    def slow_request():
        outcome["result"] = call(f"{base}/visits?hold_ms=1500", method="POST")

    worker = threading.Thread(target=slow_request)
    worker.start()
    time.sleep(0.5)  # the request is now inside pg_sleep
    process.send_signal(signal.SIGTERM)
    worker.join(timeout=10)
    assert outcome.get("result", (None,))[0] == 201, f"the request in flight was cut off: {outcome}"
    assert process.wait(timeout=10) == 0, "the service must exit cleanly once drained"
    with pytest.raises(OSError):
        call(f"{base}/version", timeout=2)
