#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: haproxy_traffic_switch
short_description: Set the colours' weights of a HAProxy backend, fenced by the run's lease
version_added: 0.3.0
description:
  - The local traffic layer's counterpart of M(switchyard.bluegreen.alb_traffic_switch). Sets
    the weight of each colour's server in one backend through HAProxy's runtime API, and makes a
    server that takes traffic ready (out of maintenance or drain).
  - The heaviest colour first, so that at no moment does every server weigh 0 (HAProxy would
    answer 503).
  - Idempotent; reports a change only when a weight or a state changes. Check mode and diff
    show what would change.
author:
  - switchyard contributors (@switchyard)
options:
  socket:
    description: Path of HAProxy's admin socket (C(stats socket ... level admin)), the deployment contract's C(socket).
    type: path
    required: true
  backend:
    description: The backend whose servers are the colours (the production or the test backend).
    type: str
    required: true
  weights:
    description: The weight per colour, each the name of a server in I(backend) (0 to 256).
    type: dict
    required: true
extends_documentation_fragment:
  - switchyard.bluegreen.fence
notes:
  - The lease option names the lease's lock file (O(lease.path)), the development environment's.
"""

EXAMPLES = r"""
- name: Send all production traffic to green
  switchyard.bluegreen.haproxy_traffic_switch:
    socket: "{{ playbook_dir }}/../.dev/haproxy/admin.sock"
    backend: app
    weights: {green: 100, blue: 0}
    lease: {path: .dev/lease.json, environment: development, token: 7}
"""

RETURN = r"""
before:
  description: Each colour's weight and status before.
  returned: always
  type: dict
  sample: {"blue": {"weight": 100, "status": "UP"}, "green": {"weight": 0, "status": "UP"}}
after:
  description: Each colour's weight and status after (in check mode, as they would be).
  returned: always
  type: dict
  sample: {"blue": {"weight": 0, "status": "UP"}, "green": {"weight": 100, "status": "UP"}}
lost:
  description: The run no longer holds its deployment lease (O(lease)); nothing was changed.
  returned: when the lease was lost
  type: bool
  sample: true
lease:
  description: The lease as found when it was lost (who took it, for what).
  returned: when the lease was lost
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.lease import LeaseError, LeaseLost
from ansible_collections.switchyard.bluegreen.plugins.module_utils.fence import FENCE_OPTION, fence
from ansible_collections.switchyard.bluegreen.plugins.module_utils.haproxy import (
    NOT_SERVING,
    RuntimeApiError,
    colour_servers,
    parse_stat,
    runtime_command,
)

MAX_WEIGHT = 256


def plan(backend, current, weights):
    """(the runtime API commands that bring the servers to weights, each colour's weight and status
    after them): the heaviest colour first, and a server that takes traffic made ready first."""
    planned, after = [], {}
    for colour, weight in sorted(weights.items(), key=lambda item: -item[1]):
        server = current[colour]
        status = server["status"]
        if weight > 0 and status.startswith(NOT_SERVING):
            planned.append(f"set server {backend}/{colour} state ready")
            status = "UP"  # ready: its health checks say the rest
        if server["weight"] != weight:
            planned.append(f"set server {backend}/{colour} weight {weight}")
        after[colour] = {"weight": weight, "status": status}
    return planned, after


def shown(servers):
    return {colour: {"weight": server["weight"], "status": server["status"]} for colour, server in servers.items()}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            socket=dict(type="path", required=True),
            backend=dict(type="str", required=True),
            weights=dict(type="dict", required=True),
            lease=FENCE_OPTION,
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        weights = {colour: int(weight) for colour, weight in params["weights"].items()}
    except (TypeError, ValueError):
        module.fail_json(msg=f"weights must be whole numbers per colour, not {params['weights']}. Nothing was changed.")
    if any(not 0 <= weight <= MAX_WEIGHT for weight in weights.values()) or not any(weights.values()):
        module.fail_json(
            msg=f"weights must be 0 to {MAX_WEIGHT} with at least one above 0, not {weights}. Nothing was changed."
        )
    try:
        current = colour_servers(parse_stat(runtime_command(params["socket"], "show stat")), params["backend"], weights)
        before = shown(current)
        planned, after = plan(params["backend"], current, weights)
        if planned and not module.check_mode:
            # The run's lease, right before the first write: a run that lost it moves nothing.
            fence(params["lease"])()
            for line in planned:
                answer = runtime_command(params["socket"], line).strip()
                if answer:  # HAProxy answers a command it carried out with nothing
                    module.fail_json(msg=f"HAProxy refused '{line}': {answer}", before=before)
    except LeaseLost as e:
        module.fail_json(msg=str(e), lost=True, lease=e.lease)
    except (LeaseError, RuntimeApiError) as e:
        module.fail_json(msg=f"{e} Nothing more was changed.")
    result = dict(changed=bool(planned), before=before, after=after)
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
