#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: haproxy_bluegreen_info
short_description: Read the live state of a blue/green service from HAProxy's runtime API
version_added: 0.2.0
description:
  - The local traffic layer's counterpart of M(switchyard.bluegreen.alb_bluegreen_info). Reads
    C(show stat) from HAProxy's admin socket and says which colour is live, that is the only
    colour whose server in the production backend takes traffic (weight above 0, neither in
    maintenance nor draining).
  - Each colour is a server of its name in the production backend and in the test backend.
  - With I(production_url) and I(test_url) it also asks which image each colour runs, the
    C(version) field of the JSON its I(version_path) answers - the live colour through the
    production frontend, the idle colour through the test frontend when that serves it alone.
  - Read-only; never reports a change.
author:
  - switchyard contributors (@switchyard)
options:
  test_backend:
    description: Backend behind the test frontend, which serves the idle colour.
    type: str
    default: app_test
  colours:
    description: The colours, each the name of a server in both backends.
    type: list
    elements: str
    default: [blue, green]
  production_url:
    description: Base URL of the production frontend; without it no image is read.
    type: str
  test_url:
    description: Base URL of the test frontend.
    type: str
  version_path:
    description: Path where the service answers with JSON whose C(version) field is its image.
    type: str
    default: /version
extends_documentation_fragment:
  - switchyard.bluegreen.haproxy
"""

EXAMPLES = r"""
- name: What is live?
  switchyard.bluegreen.haproxy_bluegreen_info:
    socket: "{{ playbook_dir }}/../.dev/haproxy/admin.sock"
    production_url: http://127.0.0.1:8080
    test_url: http://127.0.0.1:8081
  register: state
"""

RETURN = r"""
live_colour:
  description: The colour that receives all production traffic; null while traffic is split.
  returned: always
  type: str
  sample: blue
idle_colour:
  description: The other colour; null while traffic is split.
  returned: always
  type: str
  sample: green
production_weights:
  description: Weight that takes traffic per colour in the production backend (0 in maintenance or draining).
  returned: always
  type: dict
  sample: {"blue": 100, "green": 0}
test_weights:
  description: Weight that takes traffic per colour in the test backend.
  returned: always
  type: dict
  sample: {"blue": 0, "green": 1}
colours:
  description: >-
    Per colour, its server's status in both backends, whether its health checks pass in both,
    whether it is warm (its checks pass: the colours always run, so production can move to it
    with one weight change), its production counters (responses and 5xx responses since HAProxy
    started), and the image it runs (empty when it was not asked or did not answer).
  returned: always
  type: dict
  sample:
    blue: {"status": "UP", "test_status": "UP", "healthy": true, "warm": true, "weight": 100, "requests": 1200,
           "errors": 0, "image": "switchyard/app:v1"}
"""

import json

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url
from ansible_collections.switchyard.bluegreen.plugins.module_utils.haproxy import (
    RuntimeApiError,
    colour_servers,
    parse_stat,
    runtime_command,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.traffic import live_colour


def served_version(url):
    """The version a frontend's service answers with; '' when it does not answer."""
    try:
        return json.loads(open_url(url, timeout=5).read()).get("version", "")
    except Exception:  # noqa: BLE001 - a colour that does not answer runs no known image
        return ""


def images(params, live, idle, test_weights):
    """Which image each colour runs, asked through the frontend that serves it alone."""
    found = {}
    if live is None or not params["production_url"]:
        return found
    found[live] = served_version(params["production_url"] + params["version_path"])
    if params["test_url"] and [colour for colour, weight in test_weights.items() if weight > 0] == [idle]:
        found[idle] = served_version(params["test_url"] + params["version_path"])
    return found


def main():
    module = AnsibleModule(
        argument_spec=dict(
            socket=dict(type="path", required=True),
            production_backend=dict(type="str", default="app"),
            test_backend=dict(type="str", default="app_test"),
            colours=dict(type="list", elements="str", default=["blue", "green"]),
            production_url=dict(type="str"),
            test_url=dict(type="str"),
            version_path=dict(type="str", default="/version"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        rows = parse_stat(runtime_command(params["socket"], "show stat"))
        production = colour_servers(rows, params["production_backend"], params["colours"])
        test = colour_servers(rows, params["test_backend"], params["colours"])
    except RuntimeApiError as e:
        module.fail_json(msg=f"{e} Nothing was changed.")

    weights = {colour: server["serving_weight"] for colour, server in production.items()}
    test_weights = {colour: server["serving_weight"] for colour, server in test.items()}
    live = live_colour(weights)
    idle = None if live is None else next(c for c in params["colours"] if c != live)
    image_of = images(params, live, idle, test_weights)
    colours = {
        colour: dict(
            status=server["status"],
            test_status=test[colour]["status"],
            healthy=server["healthy"] and test[colour]["healthy"],
            warm=server["healthy"] and test[colour]["healthy"],
            weight=server["weight"],
            requests=server["requests"],
            errors=server["errors"],
            image=image_of.get(colour, ""),
        )
        for colour, server in production.items()
    }
    module.exit_json(
        changed=False,
        live_colour=live,
        idle_colour=idle,
        production_weights=weights,
        test_weights=test_weights,
        colours=colours,
    )


if __name__ == "__main__":
    main()
