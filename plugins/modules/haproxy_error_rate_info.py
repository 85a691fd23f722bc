#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: haproxy_error_rate_info
short_description: Measure a colour's 5xx rate from HAProxy's statistics
version_added: 0.2.0
description:
  - The local traffic layer's counterpart of M(switchyard.bluegreen.alb_error_rate_info). Reads the
    counters of one server in the production backend when it starts and again at every poll, and
    judges the difference (responses, 5xx responses, and the requests HAProxy could not pass to it
    or get an answer for) against a threshold that needs a minimum number of requests. A server
    that fails its health checks is a breach. HAProxy's statistics are live, so every window is
    covered.
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
target_errors:
  description: Its 5xx responses in the window.
  returned: always
  type: int
  sample: 3
lb_errors:
  description: Requests HAProxy could not pass to it or get an answer for (connection and response errors).
  returned: always
  type: int
  sample: 0
unhealthy_hosts:
  description: 1 when the server failed its health checks at the last look, else 0.
  returned: always
  type: int
  sample: 0
errors:
  description: target_errors + lb_errors.
  returned: always
  type: int
  sample: 3
reason:
  description: The verdict in a sentence.
  returned: always
  type: str
  sample: 0.25 % 5xx of 1200 requests
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
verdict_after_seconds:
  description: How long after the window's start the verdict came (for a breach, the time to detect it).
  returned: always
  type: float
  sample: 75.5
preempted:
  description: Why the bake ended early with the verdict C(preempted) (the run lost its deployment lease).
  returned: when the verdict is C(preempted)
  type: str
  sample: promote lost the deployment lease of development to a rollback
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.lease import LeaseError
from ansible_collections.switchyard.bluegreen.plugins.module_utils.fence import WATCHED_LEASE_OPTION, lease_watcher
from ansible_collections.switchyard.bluegreen.plugins.module_utils.haproxy import (
    RuntimeApiError,
    colour_servers,
    parse_stat,
    runtime_command,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.health import (
    ERROR_RATE_OPTIONS,
    bake,
    poll_problem,
    rate_report,
)


def counters(params):
    rows = parse_stat(runtime_command(params["socket"], "show stat"))
    return colour_servers(rows, params["production_backend"], [params["colour"]])[params["colour"]]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            socket=dict(type="path", required=True),
            production_backend=dict(type="str", default="app", aliases=["backend"]),
            colour=dict(type="str", required=True, aliases=["server"]),
            lease=WATCHED_LEASE_OPTION,
            **ERROR_RATE_OPTIONS,
        ),
        supports_check_mode=True,
    )
    params = module.params
    problem = poll_problem(params["poll_seconds"])
    if problem:
        module.fail_json(msg=problem)
    started = time.time()

    def measure(window):
        # Live counters: the window is always what they gained since the start, up to now.
        now = counters(params)
        signals = dict(
            requests=now["requests"] - start["requests"],
            target_errors=now["errors"] - start["errors"],
            lb_errors=now["lb_errors"] - start["lb_errors"],
            unhealthy_hosts=0 if now["healthy"] else 1,
        )
        return rate_report(signals, params["threshold_percent"], params["min_requests"], time.time() - started)

    try:
        # Counters are totals since HAProxy started: the window is what they gained since now.
        start = counters(params)
        lost = lease_watcher(params["lease"])
        result = bake(
            measure,
            params["bake_seconds"],
            params["poll_seconds"],
            sleep=time.sleep,
            elapsed=lambda: time.time() - started,
            lost=lost,
            extend_seconds=params["extend_seconds"],
        )
    except RuntimeApiError as e:
        module.fail_json(msg=f"Could not read the 5xx rate of {params['colour']}: {e}")
    except LeaseError as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
