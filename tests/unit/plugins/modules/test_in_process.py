"""Our AWS modules' action plugins: on the controller the module runs in Ansible's own process
(plugin_utils/in_process.py), with the module's own argument spec and result."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from ansible.errors import AnsibleActionFail
from ansible_collections.switchyard.bluegreen.plugins.action import deployment_lease, deployment_record


def action(plugin, args, transport="local", check_mode=False, **task):
    class Recorded(plugin.ActionModule):
        executed = None

        def _execute_module(self, module_name=None, module_args=None, task_vars=None, **kwargs):
            self.executed = module_name
            return {"changed": False, "ran": "as a module"}

    task = SimpleNamespace(
        **{
            "args": args,
            "check_mode": check_mode,
            "diff": False,
            "async_val": 0,
            "action": "switchyard.bluegreen.x",
            "become": False,
            "environment": [{}],
            **task,
        }
    )
    connection = SimpleNamespace(transport=transport, _shell=SimpleNamespace(tmpdir="/nonexistent"))
    return Recorded(task, connection, None, None, None)


def test_a_record_is_written_in_process_with_the_module_s_result(tmp_path):
    path = tmp_path / "records.jsonl"
    plugin = action(deployment_record, {"path": str(path), "record": {"kind": "promote", "image": "app:v2"}})

    result = plugin.run(task_vars={})

    assert plugin.executed is None, "no module payload, no second Python"
    assert not result["failed"], result.get("msg")
    assert result["changed"] is True and result["record"]["image"] == "app:v2"
    assert json.loads(path.read_text())["image"] == "app:v2"
    assert result["invocation"]["module_args"]["path"] == str(path)


def test_check_mode_writes_nothing(tmp_path):
    path = tmp_path / "records.jsonl"

    result = action(deployment_record, {"path": str(path), "record": {"kind": "promote"}}, check_mode=True).run(
        task_vars={}
    )

    assert not result["failed"] and not path.exists()


def test_the_module_s_own_refusals_come_back_as_its_failure(tmp_path):
    lease = {"path": str(tmp_path / "lease.json"), "environment": "development", "operation": "promote"}
    first = action(deployment_lease, dict(lease, state="acquired")).run(task_vars={})
    second = action(deployment_lease, dict(lease, state="acquired")).run(task_vars={})

    assert not first["failed"] and first["token"] == 1
    assert second["failed"] is True and "is held by" in second["msg"]


def test_arguments_the_module_would_refuse_are_refused_before_anything_runs(tmp_path):
    with pytest.raises(AnsibleActionFail, match="mutually exclusive"):
        action(deployment_record, {"path": "x", "log_group": "y", "record": {}}).run(task_vars={})


@pytest.mark.parametrize(
    "task", [{"transport": "ssh"}, {"become": True}, {"environment": [{"A": "1"}]}], ids=["ssh", "become", "env"]
)
def test_anything_this_process_does_not_see_runs_the_module(tmp_path, task):
    transport = task.pop("transport", "local")
    plugin = action(deployment_record, {"path": str(tmp_path / "r"), "record": {}}, transport=transport, **task)

    assert plugin.run(task_vars={})["ran"] == "as a module"
    assert plugin.executed == "switchyard.bluegreen.deployment_record"
