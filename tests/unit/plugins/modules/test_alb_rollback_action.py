"""The action plugin of alb_rollback: on the controller, the same rollback in Ansible's own process."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from ansible.errors import AnsibleActionFail
from ansible_collections.switchyard.bluegreen.plugins.action.alb_rollback import ActionModule
from ansible_collections.switchyard.bluegreen.plugins.plugin_utils.in_process import alias_warnings, no_log_values

from tests.unit.plugins.modules.test_alb_rollback import (  # noqa: F401 (this_machine: an autouse fixture)
    ARGS,
    IMAGES,
    expect_back_to_green_with_a_free_lease,
    this_machine,
)

SECRET = "not-for-the-result"


class Action(ActionModule):
    """The plugin with the module's own run recorded instead of executed (a remote connection)."""

    executed = None

    def _execute_module(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        self.executed = module_name
        return {"changed": False, "ran": "as a module"}


def action(args, transport="local", check_mode=False, **task):
    task = SimpleNamespace(
        **{
            "args": args,
            "check_mode": check_mode,
            "async_val": 0,
            "action": "switchyard.bluegreen.alb_rollback",
            "become": False,
            "environment": [{}],  # what a play without environment: gives a task
            **task,
        }
    )
    connection = SimpleNamespace(transport=transport, _shell=SimpleNamespace(tmpdir="/nonexistent"))
    return Action(task, connection, None, None, None)


def test_on_the_controller_it_rolls_back_in_process_and_returns_what_the_module_returns(aws):
    expect_back_to_green_with_a_free_lease(aws)
    plugin = action(dict(ARGS, access_key="AKIAUNIT", secret_key=SECRET))

    result = plugin.run(task_vars={})

    assert plugin.executed is None  # no module payload, no second Python
    assert not result["failed"], result.get("msg")
    assert (result["kind"], result["from_colour"], result["to_colour"]) == ("warm", "blue", "green")
    assert result["changed"] is True and result["switched"] is True
    assert result["record"]["image"] == IMAGES["green"]
    assert SECRET not in json.dumps(result)


def test_arguments_the_module_would_refuse_are_refused_before_any_aws_call(aws):
    with pytest.raises(AnsibleActionFail, match="actor"):
        action({"deployment_parameter": "/switchyard/x/deployment"}).run(task_vars={})
    with pytest.raises(AnsibleActionFail, match="to_colour"):
        action(dict(ARGS, to_colour="red")).run(task_vars={})


def test_a_failure_is_the_modules_message(aws):
    aws.stub("ssm").add_client_error("get_parameter", "ParameterNotFound", "not found")

    result = action(ARGS).run(task_vars={})

    assert result["failed"] is True
    assert "No deployment contract: SSM parameter" in result["msg"]


@pytest.mark.parametrize(
    "transport, task",
    [("ssh", {}), ("local", {"become": True}), ("local", {"environment": [{"AWS_PROFILE": "ops"}]})],
    ids=["another host", "become", "a task environment"],
)
def test_what_this_process_cannot_see_runs_the_module(transport, task):
    plugin = action(ARGS, transport=transport, **task)

    assert plugin.run(task_vars={}) == {"changed": False, "ran": "as a module"}
    assert plugin.executed == "switchyard.bluegreen.alb_rollback"


def test_an_option_and_its_alias_both_set_is_warned_and_credentials_are_no_log_values():
    spec = {"secret_key": {"aliases": ["aws_secret_key"], "no_log": True}, "region": {"aliases": ["aws_region"]}}
    assert alias_warnings(spec, {"secret_key": "a", "aws_secret_key": "a", "region": "x"}) == [
        "Both option secret_key and its alias aws_secret_key are set."
    ]
    assert alias_warnings(spec, {"aws_secret_key": "a"}) == []
    assert no_log_values(spec, {"secret_key": SECRET, "region": "us-east-1"}) == {SECRET}
    assert no_log_values(spec, {"secret_key": None}) == set()
