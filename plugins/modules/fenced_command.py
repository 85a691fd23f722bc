#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: fenced_command
short_description: Run a command that changes the development stack, fenced by the run's lease
version_added: 0.3.0
description:
  - Runs one command (the development stack's C(docker compose up) of a colour, or a one-off
    container) right after checking, in the same process, that the run still holds its
    deployment lease (the local counterpart of the ECS modules' fence). A run that lost its lease
    runs nothing.
  - Always reports a change when the command ran (a new instance of a colour, a one-off run).
  - In check mode nothing runs.
author:
  - switchyard contributors (@switchyard)
options:
  argv:
    description: The command and its arguments (no shell).
    type: list
    elements: str
    required: true
  chdir:
    description: Directory to run it in.
    type: path
  environment:
    description: Variables added to the command's environment.
    type: dict
    default: {}
  fail_on_error:
    description: Fail when the command exits with a code other than 0 (false leaves it to the caller).
    type: bool
    default: true
extends_documentation_fragment:
  - switchyard.bluegreen.fence
notes:
  - The lease option names the lease's lock file (O(lease.path)), the development environment's.
"""

EXAMPLES = r"""
- name: Run the new image on green
  switchyard.bluegreen.fenced_command:
    argv: [docker, compose, up, -d, green]
    chdir: "{{ project_dir }}"
    environment: {GREEN_IMAGE: "switchyard/app:v2"}
    lease: {path: .dev/lease.json, environment: development, token: 7}
"""

RETURN = r"""
exit_code:
  description: The command's exit code (not C(rc), which Ansible would take for the task's failure).
  returned: when it ran
  type: int
  sample: 0
stdout_lines:
  description: Its standard output, by line.
  returned: when it ran
  type: list
  elements: str
stderr_lines:
  description: Its standard error, by line.
  returned: when it ran
  type: list
  elements: str
seconds:
  description: How long it ran.
  returned: when it ran
  type: float
  sample: 1.2
lost:
  description: The run no longer holds its deployment lease (O(lease)); nothing ran.
  returned: when the lease was lost
  type: bool
  sample: true
lease:
  description: The lease as found when it was lost (who took it, for what).
  returned: when the lease was lost
  type: dict
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.lease import LeaseError, LeaseLost
from ansible_collections.switchyard.bluegreen.plugins.module_utils.fence import FENCE_OPTION, fence


def main():
    module = AnsibleModule(
        argument_spec=dict(
            argv=dict(type="list", elements="str", required=True),
            chdir=dict(type="path"),
            environment=dict(type="dict", default={}),
            fail_on_error=dict(type="bool", default=True),
            lease=FENCE_OPTION,
        ),
        supports_check_mode=True,
    )
    params = module.params
    if module.check_mode:
        module.exit_json(changed=True, msg=f"Check mode: {' '.join(params['argv'])} did not run.")
    try:
        fence(params["lease"])()
    except LeaseLost as e:
        module.fail_json(msg=str(e), lost=True, lease=e.lease)
    except LeaseError as e:
        module.fail_json(msg=f"{e} Nothing was run.")
    started = time.monotonic()
    rc, stdout, stderr = module.run_command(
        params["argv"], cwd=params["chdir"], environ_update={k: str(v) for k, v in params["environment"].items()}
    )
    result = dict(
        changed=True,
        exit_code=rc,
        stdout_lines=stdout.splitlines(),
        stderr_lines=stderr.splitlines(),
        seconds=round(time.monotonic() - started, 3),
    )
    if rc != 0 and params["fail_on_error"]:
        module.fail_json(msg=f"{' '.join(params['argv'])} exited with {rc}: {stderr.strip()[-500:]}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
