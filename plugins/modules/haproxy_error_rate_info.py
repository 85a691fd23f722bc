#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: haproxy_error_rate_info
short_description: Measure a colour's 5xx rate from HAProxy's statistics
version_added: 0.2.0
description:
  - The local traffic layer's counterpart of M(switchyard.bluegreen.alb_error_rate_info). Reads the
    response counters of one server in the production backend when it starts and again at every
    poll, and judges the difference (responses and 5xx responses since the start) against a
    threshold that needs a minimum number of requests.
  - With I(bake_seconds) it keeps measuring until the window is that long, and returns early
    when the verdict is C(breached).
  - Read-only; never reports a change.
author:
  - switchyard contributors (@switchyard)
options:
  colour:
    description: The colour to measure, the name of its server in the production backend.
    type: str
    required: true
    aliases: [server]
  production_backend:
    aliases: [backend]  # the rest of its documentation is the fragment's
extends_documentation_fragment:
  - switchyard.bluegreen.haproxy
  - switchyard.bluegreen.error_rate
"""

EXAMPLES = r"""
- name: Bake green for a minute
  switchyard.bluegreen.haproxy_error_rate_info:
    socket: "{{ playbook_dir }}/../.dev/haproxy/admin.sock"
    colour: green
    bake_seconds: 60
  register: rate
"""

RETURN = r"""
requests:
  description: Responses the server gave in the window.
  returned: always
  type: int
  sample: 1200
errors:
  description: Its 5xx responses in the window.
  returned: always
  type: int
  sample: 3
rate_percent:
  description: errors / requests in percent; null when there were no requests.
  returned: always
  type: float
  sample: 0.25
verdict:
  description: C(breached), C(healthy), C(insufficient_data), or C(preempted) (see O(lease)).
  returned: always
  type: str
  sample: healthy
window_seconds:
  description: Length of the measured window.
  returned: always
  type: float
  sample: 60.0
preempted:
  description: Why the bake ended early with the verdict C(preempted) (the run lost its deployment lease).
  returned: when the verdict is C(preempted)
  type: str
  sample: promote lost the deployment lease of development to a rollback
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils.haproxy import (
    RuntimeApiError,
    colour_servers,
    parse_stat,
    runtime_command,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.health import (
    bake,
    rate_report,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.lease import LeaseError, lease_watcher


def counters(params):
    rows = parse_stat(runtime_command(params["socket"], "show stat"))
    return colour_servers(rows, params["production_backend"], [params["colour"]])[params["colour"]]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            socket=dict(type="path", required=True),
            production_backend=dict(type="str", default="app", aliases=["backend"]),
            colour=dict(type="str", required=True, aliases=["server"]),
            threshold_percent=dict(type="float", default=1.0),
            min_requests=dict(type="int", default=100),
            bake_seconds=dict(type="float", default=0),
            poll_seconds=dict(type="float", default=15),
            lease=dict(
                type="dict",
                options=dict(
                    table=dict(type="str"),
                    path=dict(type="path"),
                    environment=dict(type="str", required=True),
                    token=dict(type="int", required=True, no_log=False),  # a fencing number, not a secret
                ),
            ),
        ),
        supports_check_mode=True,
    )
    params = module.params
    started = time.time()

    def measure():
        now = counters(params)
        return rate_report(
            now["requests"] - start["requests"],
            now["errors"] - start["errors"],
            params["threshold_percent"],
            params["min_requests"],
            time.time() - started,
        )

    try:
        # Counters are totals since HAProxy started: the window is what they gained since now.
        start = counters(params)
        lost = lease_watcher(params["lease"])
        result = bake(measure, params["bake_seconds"], params["poll_seconds"], time.sleep, lost)
    except RuntimeApiError as e:
        module.fail_json(msg=f"Could not read the 5xx rate of {params['colour']}: {e}")
    except LeaseError as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
