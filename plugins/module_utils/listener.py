# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one writer of listener actions: every path that moves traffic writes it here.

alb_traffic_switch (a promote's steps, the way back of its rescue, rollback.yml's cold path),
alb_rollback (rollback.yml's warm path) and the guard's Lambda all read a listener with read(),
plan with traffic.plan_changes and write with write(), which calls the run's fence right before
the first change (module_utils/fence.py): a run that lost its lease moves nothing.

No Ansible here (the guard's package carries this file). A module's client retries through
amazon.aws (retry={"aws_retry": True}); the guard's plain boto3 client relies on botocore's
adaptive retries (retry={}). Errors are botocore's, for the caller to report.
"""

from __future__ import annotations

from ansible_collections.switchyard.bluegreen.plugins.module_utils.traffic import plan_changes


class ListenerError(Exception):
    """The listener cannot be read as a switch needs it; the text is the whole message."""


def read(elbv2, listener_arn):
    """(listener, rules) in one DescribeRules: the default rule carries the listener's default
    actions. Raises ListenerError when it has no default rule."""
    rules = elbv2.get_paginator("describe_rules").paginate(ListenerArn=listener_arn).build_full_result()["Rules"]
    return from_rules(listener_arn, rules)


def belongs(rule_arn, listener_arn):
    """Whether rule_arn is a rule of listener_arn (a rule's ARN is its listener's, as listener-rule,
    followed by its own id)."""
    return rule_arn.startswith(listener_arn.replace(":listener/", ":listener-rule/", 1) + "/")


def from_rules(listener_arn, rules):
    """(listener, rules) from a listener's rules as DescribeRules gave them (read here, or known
    to the run). Raises ListenerError when they have no default rule."""
    default = next((rule for rule in rules if rule.get("IsDefault")), None)
    if default is None:
        raise ListenerError(f"Listener {listener_arn} has no default rule in DescribeRules. Nothing was changed.")
    return {"ListenerArn": listener_arn, "DefaultActions": default["Actions"]}, rules


def write(elbv2, changes, fence=None, retry=None):
    """Apply plan_changes' [(arn, "listener" or "rule", actions)], the fence right before each
    write (it raises when the run lost its lease, and nothing more is written)."""
    for arn, kind, actions in changes:
        if fence is not None:
            fence()
        if kind == "listener":
            elbv2.modify_listener(ListenerArn=arn, DefaultActions=actions, **(retry or {}))
        else:
            elbv2.modify_rule(RuleArn=arn, Actions=actions, **(retry or {}))


def route(elbv2, listener_arn, target_group_arns, weights, *, fence=None, check_mode=False, retry=None, current=None):
    """Move a listener's forwards to the colours' weights ({colour: weight}); the colours'
    target_group_arns ({colour: arn}) are the groups it manages; current: (listener, rules) when
    just read. Whether anything changed."""
    listener, rules = current or read(elbv2, listener_arn)
    desired = {target_group_arns[colour]: weight for colour, weight in weights.items()}
    changes = plan_changes(listener, rules, desired, list(target_group_arns.values()))
    if not check_mode:
        write(elbv2, changes, fence, retry)
    return bool(changes)
