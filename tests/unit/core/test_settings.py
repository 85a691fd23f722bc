"""The settings' schema (module_utils/core/settings.py): pure rules, no Ansible."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.settings import (
    SettingsError,
    plan_steps,
    validate,
)

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("error_threshold_percent", -1, "at least 0 and at most 100"),
        ("error_threshold_percent", 101, "at least 0 and at most 100"),
        ("error_threshold_percent", "one", "a number"),
        ("bake_seconds", -5, "at least 0"),
        ("step_bake_seconds", "-1", "at least 0"),
        ("min_requests", "ten", "a whole number at least 1"),
        ("min_requests", 0, "a whole number at least 1"),
        ("min_requests", 2.5, "a whole number"),
        ("health_timeout", 0, "a whole number above 0"),
        ("migration_timeout", -3, "above 0"),
        ("poll_seconds", 0.2, "at least 1"),
        ("metric_period_seconds", 0, "1, 5, 10, 30 or a multiple of 60"),
        ("metric_period_seconds", 90, "1, 5, 10, 30 or a multiple of 60"),
        ("bake_seconds", 0.5, "a whole number at least 0"),
        ("standby_seconds", 1.5, "a whole number"),
        ("probe_rate_per_second", 50, "at most 20"),
        ("switch_mode", "blue-green", "one of all_at_once, canary, linear"),
        ("insufficient_data", "ignore", "one of fail, extend, continue"),
        ("promote_terraform", "destroy", "one of apply, plan"),
        ("image_provenance", "-main", "a branch name"),
        ("image_provenance", "main branch", "a branch name"),
        ("switch_steps", [50, 10, 100], "rise strictly"),
        ("switch_steps", [10, 10, 100], "rise strictly"),
        ("switch_steps", [10, 50], "end at 100"),
        ("switch_steps", [0, 100], "1..100"),
        ("switch_steps", [], "end at 100"),
        ("switch_steps", "10,100", "end at 100"),
        ("standby_seconds", True, "a whole number"),
        ("bake_seconds", float("nan"), "a whole number"),
    ],
)
def test_each_bad_setting_is_refused_naming_the_setting_the_value_and_what_is_allowed(name, value, allowed):
    with pytest.raises(SettingsError) as refused:
        validate({name: value})
    (problem,) = refused.value.problems
    assert problem.startswith(f"switchyard_{name} is {value!r}: give "), problem
    assert allowed in problem, problem


def test_every_bad_setting_is_named_at_once():
    with pytest.raises(SettingsError) as refused:
        validate({"bake_seconds": -1, "min_requests": "ten", "error_threshold_percent": 5})
    assert len(refused.value.problems) == 2, refused.value.problems


@pytest.mark.parametrize(
    ("mode", "steps", "problem"),
    [
        ("all_at_once", [10, 100], "all at once is [100]"),
        ("canary", [100], "at least two steps"),
        ("linear", [100], "at least two steps"),
    ],
)
def test_steps_must_fit_the_mode(mode, steps, problem):
    with pytest.raises(SettingsError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        validate({"switch_mode": mode, "switch_steps": steps})


def test_good_settings_come_back_typed():
    """Values from -e arrive as strings: they come back as the numbers they name."""
    settings = validate(
        {
            "switch_mode": "canary",
            "switch_steps": ["10", 100],
            "bake_seconds": "0",
            "min_requests": "100",
            "error_threshold_percent": 1,
            "health_timeout": 60,
            "poll_seconds": 1,
            "other": "passes through",
        }
    )
    assert settings["switch_steps"] == [10, 100]
    assert settings["bake_seconds"] == 0.0 and settings["min_requests"] == 100
    assert settings["other"] == "passes through"


def test_the_plan_bakes_each_step_and_the_last_one_longest():
    settings = validate(
        {"switch_mode": "linear", "switch_steps": [25, 50, 100], "bake_seconds": 300, "step_bake_seconds": 60}
    )
    assert plan_steps(settings) == [
        {"percent": 25, "bake_seconds": 60.0},
        {"percent": 50, "bake_seconds": 60.0},
        {"percent": 100, "bake_seconds": 300.0},
    ]


def test_the_core_imports_no_ansible():
    """The guard Lambda and the action plugin use the same rules without Ansible."""
    code = (
        "import sys; from ansible_collections.switchyard.bluegreen.plugins.module_utils.core import settings; "
        "leaked = sorted(m for m in sys.modules if m == 'ansible' or m.startswith('ansible.')); "
        "assert not leaked, leaked"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO / ".collections", check=True)


@pytest.mark.parametrize("nothing", [None, ""])
def test_a_setting_set_to_nothing_is_refused_not_read_as_none(nothing):
    """switchyard_bake_seconds: (null) or -e switchyard_bake_seconds= would mean "no bake" to a role."""
    with pytest.raises(SettingsError, match="switchyard_bake_seconds is set to nothing: give a whole number"):
        validate({"bake_seconds": nothing})


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"bake_seconds": 600, "bake_extend_seconds": 300, "metric_wait_seconds": 180}, "switchyard_bake_seconds +"),
        ({"health_timeout": 900}, "switchyard_health_timeout is 900 s"),
        ({"migration_timeout": 1200}, "switchyard_migration_timeout is 1200 s"),
    ],
)
def test_no_phase_without_a_heartbeat_may_outlast_the_lease(settings, named):
    with pytest.raises(SettingsError, match="not below switchyard_lease_seconds") as refused:
        validate({"lease_seconds": 900, **settings})
    assert named in str(refused.value), refused.value


def test_production_like_settings_fit_the_lease():
    production = {"bake_seconds": 300, "bake_extend_seconds": 300, "metric_wait_seconds": 180, "health_timeout": 600}
    assert validate({"lease_seconds": 900, **production})["lease_seconds"] == 900


def test_a_refusal_names_the_variable_the_setting_came_from():
    with pytest.raises(SettingsError, match=r"^switchyard_canary_steps is \[10, 50\]: give"):
        validate({"switch_steps": [10, 50]}, names={"switch_steps": "switchyard_canary_steps"})


@pytest.mark.parametrize("period", [1, 5, 10, 30, 60, 300])
def test_cloudwatch_periods_are_accepted(period):
    assert validate({"metric_period_seconds": period})["metric_period_seconds"] == period


def test_the_steps_are_the_modes_own_unless_one_run_overrides_them():
    from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.settings import validate  # noqa: PLC0415

    canary = {"switch_mode": "canary", "canary_steps": [10, 100], "linear_steps": [25, 50, 75, 100]}
    assert validate(canary)["switch_steps"] == [10, 100]
    assert validate(dict(canary, switch_mode="linear"))["switch_steps"] == [25, 50, 75, 100]
    assert validate(dict(canary, switch_mode="all_at_once"))["switch_steps"] == [100]
    assert validate(dict(canary, switch_steps=[50, 100]))["switch_steps"] == [50, 100]


def test_refused_steps_name_the_setting_they_came_from():
    from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.settings import (  # noqa: PLC0415
        SettingsError,
        validate,
    )

    for settings, name in [
        ({"switch_mode": "canary", "canary_steps": [50, 10]}, "switchyard_canary_steps"),
        ({"switch_mode": "linear", "linear_steps": [100]}, "switchyard_linear_steps"),
        ({"switch_mode": "canary"}, "switchyard_canary_steps is not set"),
        ({"switch_mode": "canary", "canary_steps": [10, 100], "switch_steps": [100, 50]}, "switchyard_switch_steps"),
    ]:
        try:
            validate(settings)
        except SettingsError as e:
            assert name in str(e), (settings, str(e))
        else:
            raise AssertionError(f"{settings} was accepted")
