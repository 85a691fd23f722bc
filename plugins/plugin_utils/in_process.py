# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Our AWS modules, run in the controller's worker process.

A module costs most of a second before its first AWS call: Ansible builds its payload, starts a
Python and imports boto3 and amazon.aws from a zip, without cached bytecode. Our AWS modules always
drive AWS from the controller (localhost), so with a local connection each one's action plugin
validates the arguments against the module's own argument spec (amazon.aws's common options
included) and runs the module's own execute() in this process, with a ControllerModule in place of
AnsibleAWSModule. Another connection, become, a task environment or async runs the module as usual.
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


class _Finished(Exception):
    def __init__(self, result):
        super().__init__(result.get("msg", ""))
        self.result = result


class ControllerModule:
    """What our modules use of AnsibleAWSModule, for a run in the controller's process."""

    def __init__(self, params, check_mode=False, diff=False, no_log_values=()):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self._no_log_values = set(no_log_values)
        self.warnings = []

    def warn(self, warning):
        self.warnings.append(warning)

    def _result(self, result):
        if self.warnings:
            result["warnings"] = result.get("warnings", []) + self.warnings
        return remove_values(result, self._no_log_values)

    def exit_json(self, **result):
        raise _Finished(self._result(dict(result, failed=False)))

    def fail_json(self, msg, **result):
        raise _Finished(self._result(dict(result, failed=True, msg=msg)))

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
    """What AnsibleModule warns when a task sets an option and its alias both (top-level options)."""
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


def execute_here(execute, module):
    """Run execute(module) (a module's body, which ends in exit_json or fail_json): its result."""
    try:
        execute(module)
    except _Finished as finished:
        return finished.result
    except Exception as e:  # noqa: BLE001 - as a module's traceback would: the task fails with it
        return {"failed": True, "msg": f"{type(e).__name__}: {e}", "exception": traceback.format_exc()}
    return {"failed": True, "msg": "The module ended without a result."}


class InProcessAction(ActionBase):
    """The action plugin of one of our AWS modules: MODULE (its Python module, with ARGUMENT_SPEC,
    VALIDATION and execute(module)) runs in this process when it can."""

    MODULE = None
    _supports_check_mode = True
    _supports_async = True  # async runs the module itself

    def execute(self, module, started):
        """The module's body (started: when the task began, for modules that time themselves)."""
        self.MODULE.execute(module)

    def run(self, tmp=None, task_vars=None):
        started = time.time()
        result = super().run(tmp, task_vars)
        name = f"switchyard.bluegreen.{self.MODULE.__name__.rsplit('.', 1)[-1]}"  # the module of this name
        # The module sees what this process does not: another host, become, a task environment.
        environment = any(self._task.environment or [])  # the play's default is [{}]
        if self._connection.transport != "local" or self._task.become or environment or self._task.async_val:
            return self._execute_module(module_name=name, task_vars=task_vars, wrap_async=self._task.async_val)
        if not HAS_BOTO3 and getattr(self.MODULE, "NEEDS_BOTO3", True):
            return dict(result, failed=True, msg=missing_required_lib("botocore and boto3"))
        # Refuses bad arguments (AnsibleActionFail) as the module would, before any AWS call.
        spec = {**aws_argument_spec(), **self.MODULE.ARGUMENT_SPEC}
        _valid, params = self.validate_argument_spec(spec, **getattr(self.MODULE, "VALIDATION", {}))
        module = ControllerModule(
            params, self._task.check_mode, getattr(self._task, "diff", False), no_log_values(spec, params)
        )
        module.warnings.extend(alias_warnings(spec, self._task.args))
        result.update(execute_here(lambda m: self.execute(m, started), module))
        # As a module reports what it was given (no_log values masked).
        result["invocation"] = {"module_args": remove_values(params, module._no_log_values)}
        return result
