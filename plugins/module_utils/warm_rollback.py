# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The warm rollback of an ALB environment, in one process (rollback.yml's fast path).

Run by the module alb_rollback and, when the task runs on the controller, in the controller's own
process by the action plugin of the same name (no module payload, no new Python, no imports from
a zip: a second less). Both hand execute() an object with what it uses of AnsibleAWSModule:
params, check_mode, exit_json, fail_json, fail_json_aws and fail_json_aws_error.
"""

from __future__ import annotations

import time

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    BotoCoreError = ClientError = None  # AnsibleAWSModule says botocore is missing

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.switchyard.bluegreen.plugins.module_utils.aws import (
    append_log_event,
    client,
    describe_services,
    describe_task_definition,
    get_parameter,
    healthy_target_count,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.contract import ContractError, parse
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.lease import (
    LeaseError,
    LeaseLost,
    Request,
    plain,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.rollback import (
    WARM,
    is_warm,
    plan_rollback,
    return_colour,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.fence import fence
from ansible_collections.switchyard.bluegreen.plugins.module_utils.lease_holder import local_here, local_holder
from ansible_collections.switchyard.bluegreen.plugins.module_utils.lease_store import DynamoStore
from ansible_collections.switchyard.bluegreen.plugins.module_utils.listener import ListenerError, read, route
from ansible_collections.switchyard.bluegreen.plugins.module_utils.records import stamped, to_line
from ansible_collections.switchyard.bluegreen.plugins.module_utils.traffic import colour_weights

ARGUMENT_SPEC = dict(
    deployment_parameter=dict(type="str", required=True),
    to_colour=dict(type="str", choices=["blue", "green"]),
    actor=dict(type="str", required=True),
    run_id=dict(type="str"),
    lease_seconds=dict(type="int", default=900),
)


def execute(module, started):
    """Roll back; ends with module.exit_json or module.fail_json. started: the run's epoch seconds."""
    try:
        run(module, started)
    except LeaseLost as e:
        module.fail_json(msg=str(e), lost=True, lease=e.lease)
    except (LeaseError, ListenerError) as e:
        module.fail_json(msg=str(e))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Could not send production traffic back")


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
    return store.settle_state(deployment["environment"], state, request, local_here(), write=not module.check_mode)


def image_of(ecs, service):
    task, _tags = describe_task_definition(ecs, service["taskDefinition"])
    return task["containerDefinitions"][0]["image"]


def run(module, started):
    deployment = read_contract(module, client(module, "ssm"))
    store = DynamoStore(client(module, "dynamodb"), deployment["lease_table"])
    # The lease first: from here on, a promote still running changes nothing more.
    journal, taken = take_lease(module, store, deployment, "preempted", phase="restoring")
    token = taken.lease["token"]

    elbv2, ecs = client(module, "elbv2"), client(module, "ecs")
    arns = deployment["target_group_arns"]
    production, production_rules = read(elbv2, deployment["production_listener_arn"])
    weights = colour_weights(production["DefaultActions"], arns)
    names = deployment["service_names"]
    services = {s["serviceName"]: s for s in describe_services(ecs, deployment["cluster_name"], list(names.values()))}
    # The one decision (core.rollback): which colour, warm or not. The records the schema rule
    # needs are read by the cold path only (the rollback role), which brings a colour back.
    to = return_colour(journal, weights, module.params["to_colour"])
    service = services.get(names[to])
    warm = is_warm(service, healthy_target_count(elbv2, arns[to]))
    plan = plan_rollback(journal, weights, {to: {"warm": warm}}, asked=to)
    leaving = plan.from_colour
    result = dict(
        deployment=deployment,
        from_colour=leaving,
        to_colour=to,
        token=token,
        lease=plain(taken.lease),
        preempted=plain(taken.preempted),
        production_weights=weights,
        plan=plan.as_dict(),
    )
    if plan.kind != WARM:
        # The lease is coordination, not a change: nothing has moved yet.
        module.exit_json(changed=False, kind="cold", **result)

    lease = {"table": deployment["lease_table"], "environment": deployment["environment"], "token": token}
    rollback_fence = fence(lease, lambda: store.dynamodb, check_mode=module.check_mode)
    retry = {"aws_retry": True}
    switched = route(
        elbv2,
        production["ListenerArn"],
        arns,
        {leaving: 0, to: 100},
        fence=rollback_fence,
        check_mode=module.check_mode,
        retry=retry,
        current=(production, production_rules),
    )
    restored = round(time.time() - started, 3)
    # Everything below is bookkeeping: production is already back.
    test_changed = route(
        elbv2,
        deployment["test_listener_arn"],
        arns,
        {leaving: 1, to: 0},
        fence=rollback_fence,
        check_mode=module.check_mode,
        retry=retry,
    )
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
    record, _redacted = stamped(record)
    if not module.check_mode:
        append_log_event(
            client(module, "logs"), deployment["deployment_log_group"], int(time.time() * 1000), to_line(record)
        )
        _taken, released = take_lease(
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
