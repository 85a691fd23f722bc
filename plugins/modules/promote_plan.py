#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: promote_plan
short_description: Check every deployment setting and plan what a promote will do, before anything is changed
version_added: 0.2.0
description:
  - Checks the deployment's settings against one typed schema (types, ranges, choices, and the
    relations between them, such as switch steps that rise strictly and end at 100 and fit the
    switch mode), all at once, and fails naming each bad setting, the value given and what is
    allowed. A promote calls it before the deployment lease, so a bad setting changes nothing.
  - Returns the settings as typed values and the plan of traffic steps, each with its bake.
  - Given the live state (O(state)), also plans the release (RV(release)) from it - the colours
    (those an interrupted promote of the same image journalled, when this run took its lease
    over), what production runs before it, how to put the idle colour back if the release fails,
    its size and what a rollback would do. C(promote.yml) reads the plan and decides nothing
    itself.
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
        C(probe_failure_threshold_percent) (0-100), C(image_provenance) (a branch name)."
    type: dict
    default: {}
  setting_names:
    description:
      - The variable a setting came from, when it is not C(switchyard_<name>), for the refusal to
        name what to fix (the steps of a canary come from C(switchyard_canary_steps), say).
    type: dict
    default: {}
  image:
    description: The image to promote (with O(state)).
    type: str
  state:
    description:
      - The live state as the traffic role reads it (C(traffic_state)), to plan the release.
    type: dict
  journal:
    description: The lease this run took over (C(lease_previous.lease)), if any.
    type: dict
  took_over:
    description: What acquiring the lease took over (C(lease_took_over)), if anything.
    type: dict
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
release:
  description:
    - The release's plan, with O(state) - C(from_colour), C(to_colour), C(previous_image),
      C(restore) (the idle colour's task definition, desired count and image), C(resumes),
      C(already_live), C(desired_count), C(from_task_definition) and C(rollback) (what a rollback
      would do - kind, to_colour, from_colour, reason).
  returned: success, with O(state)
  type: dict
  sample: {"from_colour": "blue", "to_colour": "green", "already_live": false, "resumes": false}
problems:
  description: Every refused setting, one sentence each.
  returned: failure
  type: list
  elements: str
  sample: ["switchyard_error_threshold_percent is -1: give a number at least 0 and at most 100."]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.promote import PlanError, plan_release
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.settings import (
    SettingsError,
    plan_steps,
    validate,
)

# The action plugin of the same name runs this check in the controller's process; the module
# runs it wherever a task is delegated.
ARGUMENT_SPEC = dict(
    settings=dict(type="dict", default={}),
    setting_names=dict(type="dict", default={}),
    image=dict(type="str"),
    state=dict(type="dict"),
    journal=dict(type="dict"),
    took_over=dict(type="dict"),
)


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
    result = dict(changed=False, settings=settings, steps=plan_steps(settings))
    if params.get("state"):
        try:
            release = plan_release(params["image"], params["state"], params["journal"], params["took_over"])
        except PlanError as e:
            return dict(failed=True, changed=False, msg=str(e))
        result["release"] = dict(release, steps=settings.get("switch_steps") or [100], mode=settings.get("switch_mode"))
    return result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    result = plan(module.params)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
