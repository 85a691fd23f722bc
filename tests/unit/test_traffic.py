"""The traffic switch's comparison and rewrite logic (module_utils/traffic.py)."""

import pytest
from ansible_collections.switchyard.bluegreen.plugins.module_utils.traffic import (
    colour_weights,
    forward_action,
    forward_weights,
    live_colour,
    rewrite_actions,
    same_traffic,
    validate_weights,
)

BLUE, GREEN, OTHER = "arn:tg/blue", "arn:tg/green", "arn:tg/other-service"
MANAGED = [BLUE, GREEN]


def weighted(*pairs):
    return {
        "Type": "forward",
        "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": a, "Weight": w} for a, w in pairs]},
    }


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ({"Type": "forward", "TargetGroupArn": BLUE}, {BLUE: 1}),
        (weighted((BLUE, 90), (GREEN, 10)), {BLUE: 90, GREEN: 10}),
        # AWS returns both shapes for a plain forward; the weighted config wins.
        ({"Type": "forward", "TargetGroupArn": BLUE, **weighted((BLUE, 1))}, {BLUE: 1}),
        ({"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503"}}, None),
        ({"Type": "redirect"}, None),
    ],
)
def test_forward_weights_reads_both_shapes(action, expected):
    assert forward_weights(action) == expected


@pytest.mark.parametrize(
    ("current", "desired", "same"),
    [
        ({BLUE: 1}, {BLUE: 1}, True),
        ({BLUE: 1}, {BLUE: 100, GREEN: 0}, True),
        ({BLUE: 90, GREEN: 10}, {BLUE: 9, GREEN: 1}, True),
        ({BLUE: 90, GREEN: 10}, {BLUE: 91, GREEN: 9}, False),
        ({BLUE: 1}, {GREEN: 1}, False),
        ({BLUE: 50, GREEN: 50}, {BLUE: 1}, False),
        ({BLUE: 0, GREEN: 0}, {BLUE: 1}, False),
    ],
)
def test_same_traffic_compares_exact_shares(current, desired, same):
    assert same_traffic(current, desired) is same


@pytest.mark.parametrize(
    ("weights", "problem"),
    [
        ({}, "no target group"),
        ({BLUE: 0, GREEN: 0}, "all weights are 0"),
        ({BLUE: 1000}, "outside 0..999"),
        ({BLUE: -1, GREEN: 1}, "outside 0..999"),
        ({f"arn:tg/{i}": 1 for i in range(6)}, "at most 5"),
    ],
)
def test_validate_weights_refuses_unusable_splits(weights, problem):
    assert any(problem in message for message in validate_weights(weights))


def test_validate_weights_accepts_a_canary_split():
    assert validate_weights({BLUE: 90, GREEN: 10}) == []


def test_forward_action_is_plain_for_one_group_and_weighted_for_two():
    assert forward_action({GREEN: 1}) == {"Type": "forward", "TargetGroupArn": GREEN}
    action = forward_action({BLUE: 90, GREEN: 10})
    assert forward_weights(action) == {BLUE: 90, GREEN: 10}


def test_rewrite_replaces_only_managed_forwards_and_keeps_order():
    actions = [
        {"Type": "authenticate-oidc", "Order": 1},
        {"Type": "forward", "TargetGroupArn": BLUE, "Order": 2},
    ]
    rewritten, changed = rewrite_actions(actions, {GREEN: 1}, MANAGED)
    assert changed
    assert rewritten[0] == actions[0]
    assert rewritten[1] == {"Type": "forward", "TargetGroupArn": GREEN, "Order": 2}


@pytest.mark.parametrize(
    "actions",
    [
        [{"Type": "forward", "TargetGroupArn": OTHER}],  # another service's forward
        [weighted((BLUE, 50), (OTHER, 50))],  # shared with another service: not ours alone
        [{"Type": "fixed-response"}],
    ],
)
def test_rewrite_leaves_foreign_actions_alone(actions):
    rewritten, changed = rewrite_actions(actions, {GREEN: 1}, MANAGED)
    assert (rewritten, changed) == (actions, False)


def test_rewrite_is_idempotent():
    first, changed = rewrite_actions([weighted((BLUE, 1))], {BLUE: 90, GREEN: 10}, MANAGED)
    assert changed
    again, changed_again = rewrite_actions(first, {BLUE: 90, GREEN: 10}, MANAGED)
    assert (again, changed_again) == (first, False)


@pytest.mark.parametrize(
    ("actions", "weights", "live"),
    [
        ([{"Type": "forward", "TargetGroupArn": BLUE}], {"blue": 1, "green": 0}, "blue"),
        ([weighted((BLUE, 0), (GREEN, 1))], {"blue": 0, "green": 1}, "green"),
        ([weighted((BLUE, 90), (GREEN, 10))], {"blue": 90, "green": 10}, None),
        ([{"Type": "fixed-response"}], {"blue": 0, "green": 0}, None),
    ],
)
def test_colour_weights_and_live_colour(actions, weights, live):
    assert colour_weights(actions, {"blue": BLUE, "green": GREEN}) == weights
    assert live_colour(weights) == live


STICKY = {"Enabled": True, "DurationSeconds": 600}


def test_a_rewritten_forward_keeps_its_stickiness():
    current = weighted((BLUE, 1))
    current["ForwardConfig"]["TargetGroupStickinessConfig"] = STICKY
    rewritten, changed = rewrite_actions([current], {GREEN: 1}, MANAGED)
    assert changed
    assert rewritten == [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": GREEN, "Weight": 1}],
                "TargetGroupStickinessConfig": STICKY,
            },
        }
    ]


def test_a_forward_without_stickiness_stays_plain():
    assert forward_action({GREEN: 1}) == {"Type": "forward", "TargetGroupArn": GREEN}
