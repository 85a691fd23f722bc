# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the traffic switch: where a listener's actions forward, and what must change.

Kept free of AWS calls so that idempotence is a tested function (tests/unit).
"""

from __future__ import annotations

from fractions import Fraction

# A listener action forwards to target groups with weights: {target_group_arn: weight}.
Weights = dict


def forward_weights(action):
    """Weights of a forward action, whichever of the two shapes AWS returned; None if not a forward.

    A plain forward (``TargetGroupArn`` only) is a single group at weight 1.
    """
    if action.get("Type") != "forward":
        return None
    groups = (action.get("ForwardConfig") or {}).get("TargetGroups")
    if groups:
        return {group["TargetGroupArn"]: int(group.get("Weight", 1)) for group in groups}
    if action.get("TargetGroupArn"):
        return {action["TargetGroupArn"]: 1}
    return None


def traffic_shares(weights):
    """The share of traffic each group receives, exactly; groups at weight 0 receive none."""
    total = sum(weights.values())
    if total == 0:
        return {}
    return {arn: Fraction(weight, total) for arn, weight in weights.items() if weight > 0}


def same_traffic(current, desired):
    """True when both send every request to the same groups in the same proportions.

    {blue: 1} and {blue: 100, green: 0} are the same; {blue: 90, green: 10} and
    {blue: 9, green: 1} are the same; {blue: 90, green: 10} and {blue: 91, green: 9} are not.
    """
    return traffic_shares(current) == traffic_shares(desired)


def validate_weights(weights):
    """Refusals for a desired split, as messages; empty when it is usable."""
    problems = []
    if not weights:
        problems.append("no target group to forward to: give at least one")
    for arn, weight in weights.items():
        if not 0 <= weight <= 999:
            problems.append(f"weight {weight} of {arn} is outside 0..999 (the ALB's range)")
    if weights and sum(weights.values()) == 0:
        problems.append("all weights are 0: the listener would send traffic nowhere")
    if len(weights) > 5:
        problems.append("an ALB forward action takes at most 5 target groups")
    return problems


def stickiness(action):
    """The forward action's TargetGroupStickinessConfig, or None when it has none."""
    return (action.get("ForwardConfig") or {}).get("TargetGroupStickinessConfig")


def forward_action(weights, stickiness_config=None):
    """The action to write: a plain forward for one group, a weighted forward for several.

    A stickiness configuration (that of the action being replaced) is kept, which needs the
    ForwardConfig shape even for one group.
    """
    if len(weights) == 1 and stickiness_config is None:
        (arn,) = weights
        return {"Type": "forward", "TargetGroupArn": arn}
    config = {"TargetGroups": [{"TargetGroupArn": arn, "Weight": weight} for arn, weight in sorted(weights.items())]}
    if stickiness_config is not None:
        config["TargetGroupStickinessConfig"] = dict(stickiness_config)
    return {"Type": "forward", "ForwardConfig": config}


def is_managed(action, managed_arns):
    """A forward action is ours to rewrite when it forwards only to the service's groups."""
    weights = forward_weights(action)
    return weights is not None and set(weights) <= set(managed_arns)


def rewrite_actions(actions, desired, managed_arns):
    """Actions with every managed forward replaced by the desired one, and whether any changed.

    Other actions (authenticate, fixed-response, forwards to other services) keep their place;
    a rewritten forward keeps its Order and its target group stickiness.
    """
    rewritten, changed = [], False
    for action in actions:
        if is_managed(action, managed_arns) and not same_traffic(forward_weights(action), desired):
            replacement = forward_action(desired, stickiness(action))
            if "Order" in action:
                replacement["Order"] = action["Order"]
            rewritten.append(replacement)
            changed = True
        else:
            rewritten.append(action)
    return rewritten, changed


def describe_forwards(actions, managed_arns):
    """The managed forwards among actions, as weights (what diff and results show)."""
    return [forward_weights(a) for a in actions if is_managed(a, managed_arns)]


def colour_weights(actions, target_group_arns):
    """Weight per colour of the first forward action: {"blue": 1, "green": 0}.

    target_group_arns maps colour to ARN. Colours the action does not forward to weigh 0.
    """
    for action in actions:
        weights = forward_weights(action)
        if weights is not None:
            return {colour: weights.get(arn, 0) for colour, arn in target_group_arns.items()}
    return {colour: 0 for colour in target_group_arns}


def live_colour(weights):
    """The colour that receives all traffic, or None while traffic is split or goes nowhere."""
    receiving = [colour for colour, weight in weights.items() if weight > 0]
    return receiving[0] if len(receiving) == 1 else None


def snapshot(default_actions, rules, managed):
    """Managed forwards as readable weights: what previous/current and the diff show.

    The listener's default rule is its default action, shown once, under "default".
    """
    return {
        "default": (describe_forwards(default_actions, managed) or [None])[0],
        "rules": {
            rule["RuleArn"]: describe_forwards(rule["Actions"], managed)[0]
            for rule in rules
            if not rule.get("IsDefault") and describe_forwards(rule["Actions"], managed)
        },
    }


def plan_changes(listener, rules, desired, managed):
    """[(arn, kind, new actions)] for the default action and each rule that must change."""
    changes = []
    actions, changed = rewrite_actions(listener["DefaultActions"], desired, managed)
    if changed:
        changes.append((listener["ListenerArn"], "listener", actions))
    for rule in rules:
        if rule.get("IsDefault"):
            continue  # the listener's default action, handled above
        actions, changed = rewrite_actions(rule["Actions"], desired, managed)
        if changed:
            changes.append((rule["RuleArn"], "rule", actions))
    return changes


def predict(listener, rules, changes):
    """The listener's default actions and its rules (the default rule included) once changes are
    applied."""
    default_actions = listener["DefaultActions"]
    predicted_rules = [dict(rule) for rule in rules]
    for arn, kind, actions in changes:
        if kind == "listener":
            default_actions = actions
            for rule in predicted_rules:
                if rule.get("IsDefault"):
                    rule["Actions"] = actions
        else:
            next(rule for rule in predicted_rules if rule["RuleArn"] == arn)["Actions"] = actions
    return default_actions, predicted_rules
