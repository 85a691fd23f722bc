#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: alb_rollback
short_description: Send an ALB environment's production traffic back to its warm previous colour, in one process
version_added: 0.3.0
description:
  - The fast path of C(playbooks/rollback.yml). It reads the deployment contract, takes over the
    deployment lease (a rollback is never blocked; the run it preempts stops at its next step),
    reads the live state, chooses the colour to return to and, when that colour is warm, moves all
    production traffic to it, then points the test listener at the colour rolled back from,
    releases the lease and writes the deployment record. Only the lease comes before the switch;
    the record is written after it.
  - The colour to return to is O(to_colour), else the C(from) colour of the last promote (in
    flight, interrupted or done) as the lease's journal recorded it, else the idle colour (or the
    heaviest of a split).
  - When that colour is cold (scaled down, or no healthy target), nothing moves; the module
    returns RV(kind=cold) and the lease it holds, and the caller scales the colour up on its
    previous release, gates on its health, and switches.
  - In check mode nothing is written; the result says what would happen.
author:
  - switchyard contributors (@switchyard)
options:
  deployment_parameter:
    description: The SSM parameter that holds the environment's deployment contract (layer C(alb)).
    type: str
    required: true
  to_colour:
    description: Return to this colour instead of the one the journal names.
    type: str
    choices: [blue, green]
  actor:
    description: Who rolls back, for the lease and the record.
    type: str
    required: true
  run_id:
    description: The run (for example the CI run id), for the lease.
    type: str
  lease_seconds:
    description: How long the lease lives without a heartbeat, when the rollback must go on cold.
    type: int
    default: 900
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Roll back production
  switchyard.bluegreen.alb_rollback:
    deployment_parameter: /switchyard/switchyard-production/deployment
    actor: "{{ lookup('ansible.builtin.env', 'USER') }}"
  register: rollback
"""

RETURN = r"""
kind:
  description: C(warm) (switched), C(cold) (nothing moved; the caller brings the colour back first).
  returned: always
  type: str
  sample: warm
from_colour:
  description: The colour production traffic leaves.
  returned: always
  type: str
  sample: green
to_colour:
  description: The colour production traffic returns to.
  returned: always
  type: str
  sample: blue
time_to_restore_seconds:
  description: From the module's start to the production listener's change (warm).
  returned: when kind is warm
  type: float
  sample: 0.21
deployment:
  description: The deployment contract read.
  returned: always
  type: dict
lease:
  description: The lease after the takeover (released again after a warm rollback).
  returned: always
  type: dict
token:
  description: The lease's fencing token, which the caller passes on (cold).
  returned: always
  type: int
preempted:
  description: The run whose lease was taken over (holder, operation, phase, token), or null.
  returned: always
  type: dict
record:
  description: The deployment record written (warm).
  returned: when kind is warm
  type: dict
"""

import time

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils.warm_rollback import ARGUMENT_SPEC, execute


def main():
    started = time.time()
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    execute(module, started)


if __name__ == "__main__":
    main()
