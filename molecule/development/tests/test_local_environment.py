"""After converge (promote.yml) on the native development environment: what this machine shows."""

from __future__ import annotations

import re

import pytest

IMAGE = "switchyard/app:molecule"


@pytest.fixture(scope="module")
def last_record(records) -> dict:
    assert records, "the record file is empty"
    return records[-1]


def test_haproxy_listens_on_both_frontends(host, ports):
    assert host.socket(f"tcp://127.0.0.1:{ports['production']}").is_listening, "production frontend"
    assert host.socket(f"tcp://127.0.0.1:{ports['test']}").is_listening, "test frontend"


def test_haproxy_listens_on_its_admin_socket_and_answers_there(host, local_stack, runtime_api):
    path = local_stack["socket"]
    assert host.file(path).is_socket, f"no socket at {path}"
    # HAProxy binds <path>.<pid>.tmp and renames it into place; the kernel lists the name it was bound to.
    bound = re.compile(rf"unix://{re.escape(path)}(\.\d+\.tmp)?")
    listening = host.socket.get_listening_sockets()
    assert any(bound.fullmatch(name) for name in listening), f"nothing listens on {path}: {listening}"
    assert "Name: HAProxy" in runtime_api("show info"), "the runtime API does not answer on the admin socket"


def test_postgresql_listens(host, ports):
    assert host.socket(f"tcp://127.0.0.1:{ports['postgresql']}").is_listening


@pytest.mark.parametrize("colour", ["blue", "green"])
def test_both_colours_listen(host, ports, colour):
    # The service binds every interface, as in its container.
    assert host.socket(f"tcp://0.0.0.0:{ports[colour]}").is_listening, f"{colour} does not listen"


def test_the_production_backend_sends_everything_to_the_promoted_colour(runtime_api, local_stack, last_record):
    backend, live, idle = local_stack["production_backend"], last_record["to_colour"], last_record["from_colour"]
    weights = {colour: int(runtime_api(f"get weight {backend}/{colour}").split()[0]) for colour in (live, idle)}
    assert weights == {live: 100, idle: 0}, f"weights of backend {backend} per the runtime API: {weights}"


def test_the_test_backend_serves_the_previous_colour(runtime_api, local_stack, last_record):
    backend, live, idle = local_stack["test_backend"], last_record["to_colour"], last_record["from_colour"]
    weights = {colour: int(runtime_api(f"get weight {backend}/{colour}").split()[0]) for colour in (live, idle)}
    assert weights[live] == 0 and weights[idle] > 0, f"weights of backend {backend} per the runtime API: {weights}"


def test_the_production_frontend_serves_the_promoted_image(host, local_stack):
    answer = host.check_output("curl -fsS --max-time 5 %s/version", local_stack["production_url"])
    assert IMAGE in answer, answer


def test_the_last_record_is_a_successful_promote_of_the_image(last_record):
    assert last_record["kind"] == "promote" and last_record["outcome"] == "succeeded", last_record
    assert last_record["image"] == IMAGE and last_record["environment"] == "development", last_record
    assert last_record["from_colour"] != last_record["to_colour"], last_record
