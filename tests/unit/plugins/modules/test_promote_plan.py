"""promote_plan: every setting checked at once before anything is taken, and the steps planned."""

from __future__ import annotations

from types import SimpleNamespace

from ansible_collections.switchyard.bluegreen.plugins.action.promote_plan import ActionModule
from ansible_collections.switchyard.bluegreen.plugins.modules import promote_plan

from tests.unit.plugins.modules.utils import run_module


def test_good_settings_give_the_plan_and_change_nothing():
    settings = {"switch_mode": "canary", "switch_steps": [10, 100], "bake_seconds": 5, "step_bake_seconds": 3}
    result = run_module(promote_plan, {"settings": settings}, check_mode=True)
    assert result["changed"] is False and not result.get("failed"), result
    assert result["steps"] == [{"percent": 10, "bake_seconds": 3.0}, {"percent": 100, "bake_seconds": 5.0}]


def test_bad_settings_fail_naming_each_one():
    result = run_module(promote_plan, {"settings": {"error_threshold_percent": -1, "health_timeout": 0}})
    assert result["failed"] and result["changed"] is False
    assert "switchyard_error_threshold_percent is -1" in result["msg"], result["msg"]
    assert "switchyard_health_timeout is 0" in result["msg"], result["msg"]
    assert "before anything was taken or changed" in result["msg"]
    assert len(result["problems"]) == 2


def test_the_action_plugin_checks_in_the_controllers_process():
    """The same check and result, without a module run."""

    def action(settings):
        task = SimpleNamespace(args={"settings": settings}, check_mode=False, async_val=0, action="promote_plan")
        connection = SimpleNamespace(transport="local", _shell=SimpleNamespace(tmpdir="/nonexistent"))
        return ActionModule(task, connection, None, None, None, None).run(task_vars={})

    good = action({"switch_mode": "all_at_once", "switch_steps": [100], "bake_seconds": "5"})
    assert not good.get("failed") and good["steps"] == [{"percent": 100, "bake_seconds": 5}], good
    bad = action({"min_requests": "ten"})
    assert bad["failed"] and "switchyard_min_requests is 'ten'" in bad["msg"], bad
