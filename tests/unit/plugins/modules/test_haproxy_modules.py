"""haproxy_bluegreen_info and haproxy_error_rate_info against a fake HAProxy runtime API."""

from __future__ import annotations

import io
import json

import pytest
from ansible_collections.switchyard.bluegreen.plugins.modules import (
    deployment_lease,
    fenced_command,
    haproxy_bluegreen_info,
    haproxy_error_rate_info,
    haproxy_traffic_switch,
)

from tests.unit.plugins.modules.utils import FakeClock, run_module

BLUE_LIVE = [
    "production,FRONTEND,OPEN,,0,40,0,3,2,0",
    "app,blue,UP,100,0,30,0,3,2,0",
    "app,green,UP,0,0,10,0,0,0,0",
    "app,BACKEND,UP,100,0,40,0,3,2,0",
    "app_test,blue,MAINT,1,0,0,0,0,0,0",
    "app_test,green,UP,1,0,0,0,0,0,0",
]


def test_bluegreen_info_says_blue_is_live(haproxy):
    haproxy.rows = BLUE_LIVE

    result = run_module(haproxy_bluegreen_info, {"socket": haproxy.path})

    assert not result["failed"], result["msg"]
    assert result["changed"] is False
    assert (result["live_colour"], result["idle_colour"]) == ("blue", "green")
    assert result["production_weights"] == {"blue": 100, "green": 0}
    assert result["test_weights"] == {"blue": 0, "green": 1}
    assert result["colours"]["blue"] == {
        "status": "UP",
        "test_status": "MAINT",
        "healthy": False,  # its test-backend server is in maintenance
        "warm": False,
        "weight": 100,
        "requests": 35,
        "errors": 2,
        "image": "",
    }
    assert result["colours"]["green"]["warm"] is True
    assert haproxy.commands == ["show stat"]


def test_bluegreen_info_split_traffic_has_no_live_colour(haproxy):
    haproxy.rows = [row.replace("app,green,UP,0", "app,green,UP,10") for row in BLUE_LIVE]

    result = run_module(haproxy_bluegreen_info, {"socket": haproxy.path}, check_mode=True)

    assert result["live_colour"] is None and result["idle_colour"] is None


def test_bluegreen_info_reads_each_colours_image_through_the_frontend_serving_it(haproxy, monkeypatch):
    haproxy.rows = BLUE_LIVE
    answers = {"http://prod/version": {"version": "app:v1"}, "http://test/version": {"version": "app:v2"}}
    monkeypatch.setattr(
        haproxy_bluegreen_info, "open_url", lambda url, timeout: io.BytesIO(json.dumps(answers[url]).encode())
    )

    result = run_module(
        haproxy_bluegreen_info, {"socket": haproxy.path, "production_url": "http://prod", "test_url": "http://test"}
    )

    assert result["colours"]["blue"]["image"] == "app:v1"
    assert result["colours"]["green"]["image"] == "app:v2"


def test_bluegreen_info_without_a_server_per_colour_says_what_is_missing(haproxy):
    haproxy.rows = [row for row in BLUE_LIVE if not row.startswith("app_test,green")]

    result = run_module(haproxy_bluegreen_info, {"socket": haproxy.path})

    assert result["failed"]
    assert "HAProxy backend 'app_test' has no server named green" in result["msg"]


def test_bluegreen_info_without_haproxy_says_how_to_start_it(tmp_path):
    result = run_module(haproxy_bluegreen_info, {"socket": str(tmp_path / "none.sock")})

    assert result["failed"]
    assert "No HAProxy runtime API at" in result["msg"]
    assert "docker compose up -d" in result["msg"]


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(haproxy_error_rate_info, "time", fake)
    return fake


def green(responses, errors):
    """The production backend's green server having given responses (errors of them 5xx) since start."""
    return [*BLUE_LIVE[:2], f"app,green,UP,100,0,{responses - errors},0,0,{errors},0", *BLUE_LIVE[3:]]


def test_error_rate_is_measured_over_the_window_from_the_start(haproxy, clock):
    # Counters are totals since HAProxy started: only what they gain during the bake counts.
    haproxy.answers = [green(1000, 50), green(1200, 51)]

    result = run_module(haproxy_error_rate_info, {"socket": haproxy.path, "colour": "green", "min_requests": 100})

    assert result == {
        "failed": False,
        "changed": False,
        "requests": 200,
        "target_errors": 1,
        "lb_errors": 0,
        "unhealthy_hosts": 0,
        "errors": 1,
        "rate_percent": 0.5,
        "verdict": "healthy",
        "reason": "0.5 % 5xx of 200 requests",
        "window_seconds": 0.0,
        "covered": True,
        "extended": False,
        "verdict_after_seconds": 0.0,
    }


def test_error_rate_bake_stops_when_breached_and_old_option_names_work(haproxy, clock):
    haproxy.answers = [green(0, 0), green(150, 0), green(300, 10)]

    result = run_module(
        haproxy_error_rate_info,
        {"socket": haproxy.path, "server": "green", "backend": "app", "bake_seconds": 60, "poll_seconds": 15},
    )

    assert result["verdict"] == "breached"
    assert result["requests"] == 300 and result["errors"] == 10
    assert clock.slept == [15]  # measured at once, then once more 15 s later


def test_error_rate_of_an_unknown_colour_fails_clearly(haproxy, clock):
    haproxy.rows = BLUE_LIVE

    result = run_module(haproxy_error_rate_info, {"socket": haproxy.path, "colour": "purple"})

    assert result["failed"]
    assert result["msg"].startswith("Could not read the 5xx rate of purple")
    assert "no server named purple" in result["msg"]


def test_traffic_switch_moves_the_heaviest_colour_first_and_reports_the_change(haproxy):
    haproxy.rows = list(BLUE_LIVE)

    result = run_module(
        haproxy_traffic_switch, {"socket": haproxy.path, "backend": "app", "weights": {"green": 100, "blue": 0}}
    )

    assert not result["failed"], result["msg"]
    assert result["changed"] is True
    assert haproxy.commands == ["show stat", "set server app/green weight 100", "set server app/blue weight 0"]
    assert result["after"] == {"green": {"weight": 100, "status": "UP"}, "blue": {"weight": 0, "status": "UP"}}


def test_traffic_switch_is_idempotent(haproxy):
    haproxy.rows = list(BLUE_LIVE)

    result = run_module(
        haproxy_traffic_switch, {"socket": haproxy.path, "backend": "app", "weights": {"blue": 100, "green": 0}}
    )

    assert result["changed"] is False and haproxy.commands == ["show stat"]


def test_traffic_switch_makes_a_server_in_maintenance_ready_before_it_takes_traffic(haproxy):
    haproxy.rows = list(BLUE_LIVE)

    result = run_module(
        haproxy_traffic_switch, {"socket": haproxy.path, "backend": "app_test", "weights": {"blue": 1, "green": 0}}
    )

    assert result["changed"] is True
    assert haproxy.commands[1:] == ["set server app_test/blue state ready", "set server app_test/green weight 0"]


def test_traffic_switch_in_check_mode_writes_nothing_and_shows_the_diff(haproxy):
    haproxy.rows = list(BLUE_LIVE)

    result = run_module(
        haproxy_traffic_switch,
        {"socket": haproxy.path, "backend": "app", "weights": {"green": 100, "blue": 0}},
        check_mode=True,
        diff=True,
    )

    assert result["changed"] is True and haproxy.commands == ["show stat"]
    assert result["diff"]["after"]["green"]["weight"] == 100


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"green": 0, "blue": 0}, "at least one above 0"),
        ({"green": 300}, "0 to 256"),
        ({"green": "half"}, "whole numbers"),
    ],
)
def test_traffic_switch_refuses_bad_weights_before_any_command(haproxy, weights, message):
    result = run_module(haproxy_traffic_switch, {"socket": haproxy.path, "backend": "app", "weights": weights})

    assert result["failed"] and message in result["msg"] and haproxy.commands == []


def test_traffic_switch_names_what_haproxy_refused(haproxy):
    haproxy.rows = list(BLUE_LIVE)
    haproxy.refuse = "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'."

    result = run_module(
        haproxy_traffic_switch, {"socket": haproxy.path, "backend": "app", "weights": {"green": 100, "blue": 0}}
    )

    assert result["failed"] and "HAProxy refused 'set server app/green weight 100'" in result["msg"]


def lease_file(tmp_path):
    """A lease taken in a lock file, and the modules' lease option for it."""
    path = str(tmp_path / "lease.json")
    taken = run_module(
        deployment_lease, {"path": path, "environment": "development", "state": "acquired", "operation": "promote"}
    )
    return path, {"path": path, "environment": "development", "token": taken["token"]}


def test_traffic_switch_of_a_run_that_lost_its_lease_moves_nothing(haproxy, tmp_path):
    """The lease is checked in the module's own process, right before the first write."""
    haproxy.rows = list(BLUE_LIVE)
    path, lease = lease_file(tmp_path)
    run_module(
        deployment_lease, {"path": path, "environment": "development", "state": "preempted", "operation": "rollback"}
    )

    result = run_module(
        haproxy_traffic_switch,
        {"socket": haproxy.path, "backend": "app", "weights": {"green": 100, "blue": 0}, "lease": lease},
    )

    assert result["failed"] and result["lost"] is True and result["lease"]["operation"] == "rollback", result
    assert haproxy.commands == ["show stat"], "no weight was set"


def test_traffic_switch_of_the_lease_holder_renews_it_and_writes(haproxy, tmp_path):
    haproxy.rows = list(BLUE_LIVE)
    _path, lease = lease_file(tmp_path)

    result = run_module(
        haproxy_traffic_switch,
        {
            "socket": haproxy.path,
            "backend": "app",
            "weights": {"green": 100, "blue": 0},
            "lease": dict(lease, phase="switching 100"),
        },
    )

    assert result["changed"] is True and len(haproxy.commands) == 3


def test_fenced_command_runs_the_command_for_the_lease_holder(tmp_path):
    _path, lease = lease_file(tmp_path)
    marker = tmp_path / "ran"

    result = run_module(
        fenced_command,
        {
            "argv": ["sh", "-c", 'echo "$COLOUR_IMAGE" > ran'],
            "chdir": str(tmp_path),
            "environment": {"COLOUR_IMAGE": "app:v2"},
            "lease": lease,
        },
    )

    assert not result["failed"], result
    assert result["changed"] is True and result["exit_code"] == 0
    assert marker.read_text().strip() == "app:v2"


def test_fenced_command_of_a_run_that_lost_its_lease_runs_nothing(tmp_path):
    path, lease = lease_file(tmp_path)
    run_module(
        deployment_lease, {"path": path, "environment": "development", "state": "preempted", "operation": "rollback"}
    )

    result = run_module(fenced_command, {"argv": ["touch", str(tmp_path / "ran")], "lease": lease})

    assert result["failed"] and result["lost"] is True
    assert not (tmp_path / "ran").exists()


def test_fenced_command_reports_a_failing_command_or_leaves_it_to_the_caller(tmp_path):
    failed = run_module(fenced_command, {"argv": ["sh", "-c", "echo broken >&2; exit 3"]})
    kept = run_module(fenced_command, {"argv": ["sh", "-c", "exit 3"], "fail_on_error": False})

    assert failed["failed"] and "exited with 3: broken" in failed["msg"]
    assert not kept["failed"] and kept["exit_code"] == 3


def test_fenced_command_in_check_mode_runs_nothing(tmp_path):
    result = run_module(fenced_command, {"argv": ["touch", str(tmp_path / "ran")]}, check_mode=True)

    assert result["changed"] is True and not (tmp_path / "ran").exists()
