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

from ansible_collections.amazon.aws.plugins.module_utils import elb_utils
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils.aws import (
    append_log_event,
    apply_listener_changes,
    client,
    describe_services,
    describe_task_definition,
    get_parameter,
    healthy_target_count,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.contract import ContractError, parse
from ansible_collections.switchyard.bluegreen.plugins.module_utils.lease import (
    DynamoStore,
    Here,
    LeaseError,
    Request,
    local_holder,
    plain,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.records import stamped, to_line
from ansible_collections.switchyard.bluegreen.plugins.module_utils.rollback import is_warm, other, return_colour
from ansible_collections.switchyard.bluegreen.plugins.module_utils.traffic import colour_weights, plan_changes


def read_contract(module, ssm):
    parameter = module.params["deployment_parameter"]
    value = get_parameter(ssm, parameter)
    if value is None:
        module.fail_json(
            msg=f"No deployment contract: SSM parameter {parameter} does not exist. Provision the environment"
            " (playbooks/provision.yml) or check the inventory and the region. Nothing was changed."
        )
    try:
        return parse(value, parameter)
    except ContractError as e:
        module.fail_json(msg=str(e) + " Nothing was changed.")


def take_lease(module, store, deployment, state, **journal):
    """Settle the lease (preempted, released) for this run; (item before, decision)."""
    params = module.params
    request = Request(
        environment=deployment["environment"],
        operation="rollback",
        holder=local_holder(params["actor"], params["run_id"]),
        lease_seconds=params["lease_seconds"],
        check_mode=module.check_mode,
        **journal,
    )
    return store.settle_state(deployment["environment"], state, request, Here.local(), write=not module.check_mode)


def route(module, elbv2, listener, rules, *, weights, deployment):
    """Move a listener's managed forwards to weights ({colour: weight}); whether it changed."""
    arns = deployment["target_group_arns"]
    desired = {arns[colour]: weight for colour, weight in weights.items()}
    changes = plan_changes(listener, rules, desired, list(arns.values()))
    if not module.check_mode:
        apply_listener_changes(elbv2, changes)
    return bool(changes)


def image_of(ecs, service):
    task, _ = describe_task_definition(ecs, service["taskDefinition"])
    return task["containerDefinitions"][0]["image"]


def run(module, started):
    deployment = read_contract(module, client(module, "ssm"))
    store = DynamoStore(client(module, "dynamodb"), deployment["lease_table"])
    # The lease first: from here on, a promote still running changes nothing more.
    journal, taken = take_lease(module, store, deployment, "preempted", phase="restoring")
    token = taken.lease["token"]

    elbv2, ecs = client(module, "elbv2"), client(module, "ecs")
    listeners = {
        listener["ListenerArn"]: listener
        for listener in elb_utils.describe_listeners(
            elbv2, listener_arns=[deployment["production_listener_arn"], deployment["test_listener_arn"]]
        )
    }
    production = listeners[deployment["production_listener_arn"]]
    weights = colour_weights(production["DefaultActions"], deployment["target_group_arns"])
    to = return_colour(journal, weights, module.params["to_colour"])
    leaving = other(to)
    names = deployment["service_names"]
    services = {s["serviceName"]: s for s in describe_services(ecs, deployment["cluster_name"], list(names.values()))}
    service = services.get(names[to])
    warm = is_warm(service, healthy_target_count(elbv2, deployment["target_group_arns"][to]))
    result = dict(
        deployment=deployment,
        from_colour=leaving,
        to_colour=to,
        token=token,
        lease=plain(taken.lease),
        preempted=plain(taken.preempted),
        production_weights=weights,
    )
    if not warm:
        # The lease is coordination, not a change: nothing has moved yet.
        module.exit_json(changed=False, kind="cold", **result)

    production_rules = elb_utils.describe_rules(elbv2, ListenerArn=production["ListenerArn"])
    switched = route(module, elbv2, production, production_rules, weights={leaving: 0, to: 100}, deployment=deployment)
    restored = round(time.time() - started, 3)
    # Everything below is bookkeeping: production is already back.
    test = listeners[deployment["test_listener_arn"]]
    test_rules = elb_utils.describe_rules(elbv2, ListenerArn=test["ListenerArn"])
    test_changed = route(module, elbv2, test, test_rules, weights={leaving: 1, to: 0}, deployment=deployment)
    record = dict(
        environment=deployment["environment"],
        actor=module.params["actor"],
        kind="rollback",
        image=image_of(ecs, service),
        previous_image=image_of(ecs, services[names[leaving]]) if names[leaving] in services else None,
        from_colour=leaving,
        to_colour=to,
        rollback_kind="warm",
        outcome="succeeded",
        time_to_restore_seconds=restored,
        preempted=result["preempted"],
    )
    record, _ = stamped(record)
    if not module.check_mode:
        append_log_event(
            client(module, "logs"), deployment["deployment_log_group"], int(time.time() * 1000), to_line(record)
        )
        _, released = take_lease(
            module,
            store,
            deployment,
            "released",
            token=token,
            outcome="done",
            details={"from_colour": leaving, "to_colour": to},
        )
        result["lease"] = plain(released.lease)
    module.exit_json(
        changed=switched or test_changed,
        kind="warm",
        switched=switched,
        time_to_restore_seconds=restored,
        record=record,
        **result,
    )


def main():
    started = time.time()
    module = AnsibleAWSModule(
        argument_spec=dict(
            deployment_parameter=dict(type="str", required=True),
            to_colour=dict(type="str", choices=["blue", "green"]),
            actor=dict(type="str", required=True),
            run_id=dict(type="str"),
            lease_seconds=dict(type="int", default=900),
        ),
        supports_check_mode=True,
    )
    try:
        run(module, started)
    except LeaseError as e:
        module.fail_json(msg=str(e))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
