# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of alb_rollback: on the controller, the rollback runs in Ansible's own process.

A module costs a second before its first AWS call: Ansible builds its payload, starts a Python
and imports everything from a zip, without cached bytecode. A rollback is where seconds matter
and it always drives AWS from the controller, so with a local connection this plugin validates
the arguments against the module's own argument spec (amazon.aws's common options included) and
runs the same code (module_utils/warm_rollback.py) in this process. Another connection, become or
a task environment runs the module as usual. Like the module, it does not run async.
"""

from __future__ import annotations

import time
import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase
from ansible_collections.amazon.aws.plugins.module_utils.botocore import HAS_BOTO3
from ansible_collections.amazon.aws.plugins.module_utils.modules import aws_argument_spec
from ansible_collections.switchyard.bluegreen.plugins.module_utils.warm_rollback import ARGUMENT_SPEC, execute


class _Finished(Exception):
    def __init__(self, result):
        super().__init__(result.get("msg", ""))
        self.result = result


class ControllerModule:
    """What warm_rollback.execute uses of AnsibleAWSModule, for a run in the controller's process."""

    def __init__(self, params, check_mode, no_log_values):
        self.params = params
        self.check_mode = check_mode
        self._no_log_values = no_log_values

    def exit_json(self, **result):
        raise _Finished(remove_values(dict(result, failed=False), self._no_log_values))

    def fail_json(self, msg, **result):
        raise _Finished(remove_values(dict(result, failed=True, msg=msg), self._no_log_values))

    def fail_json_aws(self, exception, msg=None, **result):
        # As AnsibleAWSModule.fail_json_aws: the message, the error, the AWS response in snake case.
        text = str(getattr(exception, "message", exception))
        response = getattr(exception, "response", None)
        if response is not None:
            result.update(camel_dict_to_snake_dict(response))
        self.fail_json(f"{msg}: {text}" if msg else text, exception=traceback.format_exc(), **result)

    def fail_json_aws_error(self, exception):
        if exception.exception:
            self.fail_json_aws(exception.exception, msg=exception.message)
        self.fail_json(exception.message)


def alias_warnings(spec, args):
    """What AnsibleModule warns when a task sets an option and its alias both (top-level options,
    as every option of this module is)."""
    return [
        f"Both option {name} and its alias {alias} are set."
        for name, option in spec.items()
        for alias in option.get("aliases") or ()
        if name in args and alias in args
    ]


def no_log_values(spec, params):
    """The values of the no_log options (credentials, fallbacks from the environment included),
    which no result may carry."""
    return {str(params[name]) for name, option in spec.items() if option.get("no_log") and params.get(name)}


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        started = time.time()
        result = super().run(tmp, task_vars)
        # The module sees what this process does not: another host, become, a task environment.
        environment = any(self._task.environment or [])  # the play's default is [{}]
        if self._connection.transport != "local" or self._task.become or environment:
            return self._execute_module(module_name="switchyard.bluegreen.alb_rollback", task_vars=task_vars)
        if not HAS_BOTO3:
            return dict(result, failed=True, msg=missing_required_lib("botocore and boto3"))
        # Refuses bad arguments (AnsibleActionFail) as the module would, before any AWS call.
        spec = {**aws_argument_spec(), **ARGUMENT_SPEC}
        _valid, params = self.validate_argument_spec(spec)
        warnings = alias_warnings(spec, self._task.args)
        if warnings:
            result["warnings"] = warnings
        try:
            execute(ControllerModule(params, self._task.check_mode, no_log_values(spec, params)), started)
        except _Finished as finished:
            result.update(finished.result)
        return result
