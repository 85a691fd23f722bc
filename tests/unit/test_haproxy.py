"""Reading HAProxy's `show stat` as the local traffic layer (module_utils/haproxy.py)."""

import pytest
from ansible_collections.switchyard.bluegreen.plugins.module_utils.haproxy import (
    RuntimeApiError,
    backend_servers,
    colour_servers,
    parse_stat,
    runtime_command,
)

# Columns as HAProxy 2.6 prints them (a subset: the parser reads columns by name).
HEADER = "# pxname,svname,status,weight,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,"


def stat(*rows):
    return "\n".join([HEADER, *rows, "", ""])


SAMPLE = stat(
    "production,FRONTEND,OPEN,,0,40,0,3,2,0,",
    "app,blue,UP,100,0,30,0,3,2,0,",
    "app,green,UP,0,0,10,0,0,0,0,",
    "app,BACKEND,UP,100,0,40,0,3,2,0,",
    "app_test,blue,MAINT,1,0,0,0,0,0,0,",
    "app_test,green,DOWN,1,0,0,0,0,0,0,",
    "app_test,BACKEND,UP,1,0,0,0,0,0,0,",
)


def test_servers_of_one_backend_without_frontend_and_backend_rows():
    servers = backend_servers(parse_stat(SAMPLE), "app")
    assert set(servers) == {"blue", "green"}
    assert servers["blue"] == dict(
        status="UP", weight=100, serving_weight=100, healthy=True, requests=35, errors=2, lb_errors=0
    )


@pytest.mark.parametrize(
    ("status", "weight", "serving", "healthy"),
    [
        ("UP", "100", 100, True),
        ("UP", "0", 0, True),  # weight 0: health-checked, no new requests (the idle colour)
        ("DRAIN", "100", 0, True),  # drained by hand: no new requests whatever its weight
        ("MAINT", "100", 0, False),
        ("MAINT (via app/blue)", "100", 0, False),
        ("DOWN", "100", 100, False),  # where traffic is configured to go, though failing
        ("UP 1/2", "100", 100, True),  # going down: still serving
        ("DOWN 1/2", "100", 100, False),  # coming up: not yet
        ("no check", "100", 100, False),
    ],
)
def test_status_decides_serving_weight_and_health(status, weight, serving, healthy):
    text = stat(f"app,blue,{status},{weight},0,0,0,0,0,0,")
    server = backend_servers(parse_stat(text), "app")["blue"]
    assert (server["serving_weight"], server["healthy"]) == (serving, healthy)


def test_empty_counters_count_as_zero():
    server = backend_servers(parse_stat(stat("app,blue,UP,100,,,,,,,")), "app")["blue"]
    assert (server["requests"], server["errors"]) == (0, 0)


def test_a_missing_colour_is_named_with_the_servers_there():
    with pytest.raises(RuntimeApiError, match=r"no server named green \(servers: blue\)"):
        colour_servers(parse_stat(stat("app,blue,UP,100,0,0,0,0,0,0,")), "app", ["blue", "green"])


def test_a_missing_socket_says_how_to_start_the_environment(tmp_path):
    with pytest.raises(RuntimeApiError, match="docker compose up -d"):
        runtime_command(str(tmp_path / "absent.sock"), "show stat")
