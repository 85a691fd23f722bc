#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: alb_traffic_switch
short_description: Set where an ALB listener forwards a service's traffic
version_added: 0.1.0
description:
  - Points a listener's default action, and every rule that forwards only to the service's
    target groups, at one target group or a weighted split. All other actions and rules are
    left alone.
  - Compares the current and desired split exactly (as shares of traffic), so a re-run reports
    no change. Check mode predicts the result; diff mode shows before and after.
  - A rewritten forward keeps its order and its target group stickiness
    (C(TargetGroupStickinessConfig)).
  - Refuses to send traffic to a target group with no healthy targets unless told to.
  - With O(lease), changes nothing once the run has lost its deployment lease.
author:
  - switchyard contributors (@switchyard)
options:
  listener_arn:
    description: ARN of the listener to set.
    type: str
    required: true
  target_groups:
    description:
      - Where traffic goes. One entry sends all traffic there; several give a weighted split.
    type: list
    elements: dict
    required: true
    suboptions:
      arn:
        description: Target group ARN.
        type: str
        required: true
      weight:
        description: Relative weight, 0 to 999.
        type: int
        default: 1
  managed_target_group_arns:
    description:
      - The service's target groups (blue and green). A forward action is rewritten only when
        every group it forwards to is in this list. Defaults to the groups in I(target_groups).
    type: list
    elements: str
  require_healthy_targets:
    description:
      - Refuse, before changing anything, when a target group that would receive traffic has
        no healthy target.
    type: bool
    default: true
  known_rules:
    description:
      - The listener's rules (its default rule included) as this run last read or wrote them, that
        is RV(switchyard.bluegreen.alb_bluegreen_info#module:listener_rules) of the listener or
        RV(rules) of this module's previous call on it. The listener is then not read again.
      - Give them only while the run holds the deployment lease (O(lease)) and no write of its own
        went elsewhere since, as only a run that holds the lease moves traffic. Without them the
        listener is read.
    type: list
    elements: dict
extends_documentation_fragment:
  - switchyard.bluegreen.fence
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Send all production traffic to green
  switchyard.bluegreen.alb_traffic_switch:
    listener_arn: "{{ deployment.production_listener_arn }}"
    target_groups:
      - arn: "{{ deployment.target_group_arns.green }}"
    managed_target_group_arns: "{{ deployment.target_group_arns.values() | list }}"

- name: Canary step, 10 percent to green
  switchyard.bluegreen.alb_traffic_switch:
    listener_arn: "{{ deployment.production_listener_arn }}"
    target_groups:
      - arn: "{{ deployment.target_group_arns.blue }}"
        weight: 90
      - arn: "{{ deployment.target_group_arns.green }}"
        weight: 10
"""

RETURN = r"""
listener_arn:
  description: The listener that was set.
  returned: always
  type: str
  sample: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/svc/50dc6c495c0c9188/f2f7dc8efc522ab2
previous:
  description: Weights of the managed forwards before the run (default action first, then rules).
  returned: always
  type: dict
  sample: {"default": {"arn:...:targetgroup/svc-blue/1": 1}, "rules": {}}
current:
  description: Weights of the managed forwards after the run (predicted in check mode).
  returned: always
  type: dict
  sample: {"default": {"arn:...:targetgroup/svc-green/2": 1}, "rules": {}}
rules:
  description: >-
    The listener's rules after the run (predicted from what was written; in check mode, what would
    be), the default rule included: the next call's O(known_rules).
  returned: always
  type: list
  elements: dict
  sample: [{"RuleArn": "arn:...", "IsDefault": true, "Priority": "default", "Actions": []}]
modified:
  description: ARNs of the listener and rules whose actions were (or would be) rewritten.
  returned: always
  type: list
  elements: str
  sample: ["arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/svc/50dc/f2f7"]
lost:
  description: The run no longer holds its deployment lease (O(lease)); nothing was changed.
  returned: when the lease was lost
  type: bool
  sample: true
lease:
  description: The lease as found when it was lost (who took it, for what).
  returned: when the lease was lost
  type: dict
diff:
  description: The managed forwards before and after (the values of I(previous) and I(current)).
  returned: in diff mode
  type: dict
  sample: {"before": {"default": {"arn:...:targetgroup/svc-blue/1": 1}, "rules": {}},
           "after": {"default": {"arn:...:targetgroup/svc-green/2": 1}, "rules": {}}}
"""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AnsibleAWSModule says botocore is missing

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils.aws import client, healthy_target_count
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.lease import LeaseError, LeaseLost
from ansible_collections.switchyard.bluegreen.plugins.module_utils.fence import FENCE_OPTION, fence
from ansible_collections.switchyard.bluegreen.plugins.module_utils.listener import (
    ListenerError,
    belongs,
    from_rules,
    read,
    write,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.traffic import (
    plan_changes,
    predict,
    snapshot,
    validate_weights,
)


def refuse_unhealthy(module, elbv2, desired, current_default):
    """Fail before any change when a group about to receive traffic has no healthy target."""
    for arn, weight in desired.items():
        if weight == 0 or (current_default or {}).get(arn):
            continue  # receives nothing, or already receives traffic: not a new destination
        if healthy_target_count(elbv2, arn) == 0:
            module.fail_json(
                msg=(
                    f"Refusing to send traffic to {arn}: it has no healthy targets. Wait for the"
                    " service's tasks to pass health checks, or set require_healthy_targets=false"
                    " to force it. Nothing was changed."
                ),
                target_group_arn=arn,
            )


def desired_split(module):
    """The requested weights and managed groups, or a refusal before any AWS call."""
    desired = {g["arn"]: g["weight"] for g in module.params["target_groups"]}
    if len(desired) != len(module.params["target_groups"]):
        module.fail_json(msg="target_groups names the same target group twice; give each once.")
    problems = validate_weights(desired)
    if problems:
        module.fail_json(msg="Refusing the requested split: " + "; ".join(problems) + ".")
    managed = module.params["managed_target_group_arns"] or list(desired)
    stray = set(desired) - set(managed)
    if stray:
        module.fail_json(msg=f"target_groups includes {sorted(stray)}, which managed_target_group_arns leaves out.")
    return desired, managed


def read_listener(module, elbv2, listener_arn):
    """The listener (its ARN and default actions) and its rules: known to the run, or read in one
    DescribeRules (the default rule carries the default actions). A clear refusal when it does not
    exist."""
    try:
        known = module.params["known_rules"]
        if known and all(belongs(rule["RuleArn"], listener_arn) for rule in known if rule.get("RuleArn")):
            return from_rules(listener_arn, known)
        return read(elbv2, listener_arn)
    except is_boto3_error_code("ListenerNotFound"):
        module.fail_json(
            msg=(
                f"Listener {listener_arn} does not exist. Check the ARN (the deployment contract's"
                " production_listener_arn or test_listener_arn) and the region. Nothing was changed."
            )
        )
    except ListenerError as e:
        module.fail_json(msg=str(e))


def run(module, elbv2):
    listener_arn = module.params["listener_arn"]
    desired, managed = desired_split(module)
    listener, rules = read_listener(module, elbv2, listener_arn)

    before = snapshot(listener["DefaultActions"], rules, managed)
    changes = plan_changes(listener, rules, desired, managed)
    if changes and module.params["require_healthy_targets"]:
        refuse_unhealthy(module, elbv2, desired, before["default"])

    # The run's lease, renewed with its journal right before each listener or rule write, and once
    # when nothing changes (the journal lands, and a run that lost the lease learns so here).
    check = fence(module.params["lease"], lambda: client(module, "dynamodb"), check_mode=module.check_mode)
    if module.check_mode or not changes:
        check()
    else:
        write(elbv2, changes, check, {"aws_retry": True})

    after_actions, after_rules = predict(listener, rules, changes)
    after = snapshot(after_actions, after_rules, managed)
    result = dict(
        changed=bool(changes),
        listener_arn=listener_arn,
        previous=before,
        current=after,
        modified=[change[0] for change in changes],
        rules=after_rules,
    )
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


ARGUMENT_SPEC = dict(
    listener_arn=dict(type="str", required=True),
    target_groups=dict(
        type="list",
        elements="dict",
        required=True,
        options=dict(
            arn=dict(type="str", required=True),
            weight=dict(type="int", default=1),
        ),
    ),
    managed_target_group_arns=dict(type="list", elements="str"),
    require_healthy_targets=dict(type="bool", default=True),
    known_rules=dict(type="list", elements="dict"),
    lease=FENCE_OPTION,
)
VALIDATION = {}


def execute(module):
    """The module's run, given AnsibleAWSModule or the action plugin's ControllerModule."""
    try:
        run(module, client(module, "elbv2"))
    except LeaseLost as e:
        module.fail_json(msg=str(e), lost=True, lease=e.lease)
    except LeaseError as e:
        module.fail_json(msg=str(e))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Could not set the listener's forwards")


def main():
    execute(AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, **VALIDATION))


if __name__ == "__main__":
    main()
