#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: promote_plan
short_description: Check every deployment setting and plan a promote's traffic steps, before anything is taken
version_added: 0.2.0
description:
  - Checks the deployment's settings against one typed schema (types, ranges, choices, and the
    relations between them, such as switch steps that rise strictly and end at 100 and fit the
    switch mode), all at once, and fails naming each bad setting, the value given and what is
    allowed. A promote calls it before the deployment lease, so a bad setting changes nothing.
  - Returns the settings as typed values and the plan of traffic steps, each with its bake.
  - Reads and changes nothing; the same in check mode. Its action plugin runs the check in the
    controller's process (no module start-up).
author:
  - switchyard contributors (@switchyard)
options:
  settings:
    description:
      - The settings, named without their C(switchyard_) prefix (C(bake_seconds) for
        C(switchyard_bake_seconds)). Those not given are not checked; other names pass through.
      - "Checked: C(switch_mode) (all_at_once, canary, linear), C(switch_steps),
        C(error_threshold_percent) (0-100), C(min_requests) and C(guard_min_requests) (whole, at
        least 1), C(health_timeout) and C(migration_timeout) (above 0), C(poll_seconds) (at
        least 1), C(bake_seconds), C(step_bake_seconds), C(bake_extend_seconds),
        C(metric_wait_seconds), C(standby_seconds) (at least 0), C(metric_period_seconds) (whole,
        at least 1), C(insufficient_data) (fail, extend, continue), C(promote_terraform) (apply,
        plan), C(probe_rate_per_second) (0-20), C(probe_window) (whole, at least 1),
        C(probe_failure_threshold_percent) (0-100)."
    type: dict
    required: true
  setting_names:
    description:
      - The variable a setting came from, when it is not C(switchyard_<name>), for the refusal to
        name what to fix (the steps of a canary come from C(switchyard_canary_steps), say).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Check the settings and plan the steps before the lease
  switchyard.bluegreen.promote_plan:
    settings:
      switch_mode: canary
      switch_steps: [10, 100]
      bake_seconds: 300
      step_bake_seconds: 120
      error_threshold_percent: 1
  register: plan
"""

RETURN = r"""
settings:
  description: The settings given, as typed values.
  returned: success
  type: dict
  sample: {"switch_mode": "canary", "switch_steps": [10, 100], "bake_seconds": 300.0}
steps:
  description: Each traffic step, the percent of production on the new colour and its bake.
  returned: success
  type: list
  elements: dict
  sample: [{"percent": 10, "bake_seconds": 120.0}, {"percent": 100, "bake_seconds": 300.0}]
problems:
  description: Every refused setting, one sentence each.
  returned: failure
  type: list
  elements: str
  sample: ["switchyard_error_threshold_percent is -1: give a number at least 0 and at most 100."]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.settings import (
    SettingsError,
    plan_steps,
    validate,
)

# The action plugin of the same name runs this check in the controller's process; the module
# runs it wherever a task is delegated.
ARGUMENT_SPEC = dict(settings=dict(type="dict", required=True), setting_names=dict(type="dict", default={}))


def plan(params):
    """The result, failed or not, of checking params["settings"] (pure: no I/O)."""
    try:
        settings = validate(params["settings"], params["setting_names"])
    except SettingsError as e:
        return dict(
            failed=True,
            changed=False,
            msg=f"Refused before anything was taken or changed: {e} Fix the inventory or the -e value and run again.",
            problems=e.problems,
        )
    return dict(changed=False, settings=settings, steps=plan_steps(settings))


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    result = plan(module.params)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
