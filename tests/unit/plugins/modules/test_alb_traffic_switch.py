"""alb_traffic_switch: weights set exactly, idempotent, stickiness kept, refuses unhealthy groups."""

from __future__ import annotations

import pytest
from ansible_collections.switchyard.bluegreen.plugins.module_utils.lease_store import to_dynamodb
from ansible_collections.switchyard.bluegreen.plugins.modules import alb_traffic_switch

from tests.unit.plugins.modules.utils import ANY, expect_lease_update, expect_lease_update_refused, run_module

ANY_GET = {"TableName": ANY, "Key": ANY, "ConsistentRead": True}

LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/svc/50dc6c495c0c9188/f2f7dc8efc522ab2"
BLUE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/svc-blue/1111111111111111"
GREEN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/svc-green/2222222222222222"
DEFAULT_RULE = LISTENER.replace(":listener/", ":listener-rule/") + "/0000000000000000"
STICKY = {"Enabled": True, "DurationSeconds": 3600}


def plain(arn):
    """A forward as AWS returns it: both shapes at once."""
    return {
        "Type": "forward",
        "TargetGroupArn": arn,
        "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": arn, "Weight": 1}],
            "TargetGroupStickinessConfig": {"Enabled": False},
        },
    }


def weighted(*pairs, stickiness=None):
    config = {"TargetGroups": [{"TargetGroupArn": arn, "Weight": weight} for arn, weight in pairs]}
    if stickiness is not None:
        config["TargetGroupStickinessConfig"] = stickiness
    return {"Type": "forward", "ForwardConfig": config}


def expect_listener(elbv2, actions, rules=()):
    """The listener read in one DescribeRules: its default rule carries its default actions."""
    default_rule = {
        "RuleArn": DEFAULT_RULE,
        "Priority": "default",
        "Conditions": [],
        "Actions": actions,
        "IsDefault": True,
    }
    elbv2.add_response("describe_rules", {"Rules": [default_rule, *rules]}, {"ListenerArn": LISTENER})


def expect_health(elbv2, arn, *states):
    elbv2.add_response(
        "describe_target_health",
        {
            "TargetHealthDescriptions": [
                {"Target": {"Id": f"10.0.0.{i}", "Port": 8080}, "TargetHealth": {"State": state}}
                for i, state in enumerate(states)
            ]
        },
        {"TargetGroupArn": arn},
    )


def args(*groups):
    return {
        "listener_arn": LISTENER,
        "target_groups": [{"arn": arn, "weight": weight} for arn, weight in groups],
        "managed_target_group_arns": [BLUE, GREEN],
        "region": "us-east-1",
    }


def test_switch_to_green_modifies_the_listener_and_shows_the_diff(aws):
    elbv2 = aws.stub("elbv2")
    expect_listener(elbv2, [plain(BLUE)])
    expect_health(elbv2, GREEN, "healthy", "healthy")
    elbv2.add_response(
        "modify_listener",
        {"Listeners": []},
        {
            "ListenerArn": LISTENER,
            "DefaultActions": [weighted((GREEN, 1), stickiness={"Enabled": False})],
        },
    )

    result = run_module(alb_traffic_switch, args((GREEN, 1)), diff=True)

    assert not result["failed"], result["msg"]
    assert result["changed"] is True
    assert result["modified"] == [LISTENER]
    assert result["previous"]["default"] == {BLUE: 1}
    assert result["current"]["default"] == {GREEN: 1}
    assert result["diff"] == {"before": result["previous"], "after": result["current"]}


def test_same_traffic_in_other_weights_is_no_change(aws):
    """{blue: 90, green: 10} is {blue: 9, green: 1}: nothing to write, nothing reported."""
    elbv2 = aws.stub("elbv2")
    expect_listener(elbv2, [weighted((BLUE, 90), (GREEN, 10))])

    result = run_module(alb_traffic_switch, args((BLUE, 9), (GREEN, 1)))

    assert result["changed"] is False
    assert result["modified"] == []
    assert "diff" not in result  # not asked for


def test_second_run_after_a_switch_changes_nothing(aws):
    elbv2 = aws.stub("elbv2")
    expect_listener(elbv2, [plain(GREEN)])

    result = run_module(alb_traffic_switch, args((GREEN, 1)), diff=True)

    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]


def test_check_mode_predicts_the_switch_without_writing(aws):
    elbv2 = aws.stub("elbv2")
    expect_listener(elbv2, [plain(BLUE)])
    expect_health(elbv2, GREEN, "healthy")
    # no modify_listener expected: the Stubber fails the test if the module calls it

    result = run_module(alb_traffic_switch, args((BLUE, 90), (GREEN, 10)), check_mode=True, diff=True)

    assert result["changed"] is True
    assert result["current"]["default"] == {BLUE: 90, GREEN: 10}
    assert result["modified"] == [LISTENER]


def test_a_weighted_step_keeps_target_group_stickiness_and_order(aws):
    elbv2 = aws.stub("elbv2")
    current = dict(weighted((BLUE, 1), (GREEN, 0), stickiness=STICKY), Order=2)
    authenticate = {"Type": "fixed-response", "Order": 1, "FixedResponseConfig": {"StatusCode": "503"}}
    expect_listener(elbv2, [authenticate, current])
    expect_health(elbv2, GREEN, "healthy")
    elbv2.add_response(
        "modify_listener",
        {"Listeners": []},
        {
            "ListenerArn": LISTENER,
            "DefaultActions": [authenticate, dict(weighted((BLUE, 90), (GREEN, 10), stickiness=STICKY), Order=2)],
        },
    )

    result = run_module(alb_traffic_switch, args((BLUE, 90), (GREEN, 10)))

    assert result["changed"] is True


def test_all_traffic_to_one_group_keeps_stickiness_in_the_forward_config(aws):
    elbv2 = aws.stub("elbv2")
    expect_listener(elbv2, [weighted((BLUE, 1), stickiness=STICKY)])
    expect_health(elbv2, GREEN, "healthy")
    elbv2.add_response(
        "modify_listener",
        {"Listeners": []},
        {"ListenerArn": LISTENER, "DefaultActions": [weighted((GREEN, 1), stickiness=STICKY)]},
    )

    result = run_module(alb_traffic_switch, args((GREEN, 1)))

    assert result["changed"] is True


def test_rules_forwarding_to_the_service_follow_the_listener(aws):
    elbv2 = aws.stub("elbv2")
    rule_arn = DEFAULT_RULE.replace("0000000000000000", "3333333333333333")
    rule = {
        "RuleArn": rule_arn,
        "Priority": "10",
        "Conditions": [{"Field": "path-pattern", "Values": ["/api/*"]}],
        "Actions": [plain(BLUE)],
        "IsDefault": False,
    }
    expect_listener(elbv2, [plain(GREEN)], rules=[rule])
    elbv2.add_response(
        "modify_rule",
        {"Rules": []},
        {"RuleArn": rule_arn, "Actions": [weighted((GREEN, 1), stickiness={"Enabled": False})]},
    )

    result = run_module(alb_traffic_switch, args((GREEN, 1)))

    assert result["changed"] is True
    assert result["modified"] == [rule_arn]
    assert result["current"]["rules"] == {rule_arn: {GREEN: 1}}


def test_refuses_a_group_without_healthy_targets_and_changes_nothing(aws):
    elbv2 = aws.stub("elbv2")
    expect_listener(elbv2, [plain(BLUE)])
    expect_health(elbv2, GREEN, "unhealthy", "initial")

    result = run_module(alb_traffic_switch, args((GREEN, 1)))

    assert result["failed"]
    assert f"Refusing to send traffic to {GREEN}: it has no healthy targets" in result["msg"]
    assert "Nothing was changed" in result["msg"]


def test_unhealthy_groups_can_be_forced(aws):
    elbv2 = aws.stub("elbv2")
    expect_listener(elbv2, [plain(BLUE)])
    elbv2.add_response("modify_listener", {"Listeners": []}, {"ListenerArn": LISTENER, "DefaultActions": ANY})

    result = run_module(alb_traffic_switch, dict(args((GREEN, 1)), require_healthy_targets=False))

    assert result["changed"] is True


def test_a_missing_listener_says_where_its_arn_comes_from(aws):
    aws.stub("elbv2").add_client_error(
        "describe_rules", service_error_code="ListenerNotFound", service_message="One or more listeners not found"
    )

    result = run_module(alb_traffic_switch, args((GREEN, 1)))

    assert result["failed"]
    assert f"Listener {LISTENER} does not exist" in result["msg"]


def test_throttling_is_retried(aws):
    """ThrottlingException, unknown to amazon.aws 10.1's AWSRetry, is retried by the collection's policy."""
    elbv2 = aws.stub("elbv2")
    expect_listener(elbv2, [plain(BLUE)])
    elbv2.add_client_error("describe_target_health", service_error_code="ThrottlingException", http_status_code=400)
    expect_health(elbv2, GREEN, "healthy")
    elbv2.add_response("modify_listener", {"Listeners": []}, {"ListenerArn": LISTENER, "DefaultActions": ANY})

    result = run_module(alb_traffic_switch, args((GREEN, 1)))

    assert result["changed"] is True


def test_other_aws_errors_fail_with_the_action_and_aws_message(aws):
    elbv2 = aws.stub("elbv2")
    expect_listener(elbv2, [plain(BLUE)])
    expect_health(elbv2, GREEN, "healthy")
    elbv2.add_client_error("modify_listener", service_error_code="AccessDenied", service_message="not allowed")

    result = run_module(alb_traffic_switch, args((GREEN, 1)))

    assert result["failed"]
    assert result["msg"].startswith("Could not set the listener's forwards")
    assert "not allowed" in result["msg"]


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ([(GREEN, 0)], "all weights are 0"),
        ([(GREEN, 1000)], "outside 0..999"),
        ([(GREEN, 1), (GREEN, 2)], "names the same target group twice"),
    ],
)
def test_refuses_unusable_splits_before_any_aws_call(aws, groups, message):
    result = run_module(alb_traffic_switch, args(*groups))

    assert result["failed"]
    assert message in result["msg"]


# --- fencing: the lease checked in the same process, right before the write ---------------------

TABLE = "app-production-lease"
LEASE = {"table": TABLE, "environment": "production", "token": 7, "phase": "switching 100"}


def held_by(token, actor):
    return {
        "environment": "production",
        "token": token,
        "state": "held",
        "operation": "rollback" if actor == "carol" else "promote",
        "phase": "restoring",
        "holder": {"actor": actor, "run_id": "run-1", "host": "ci", "pid": 9},
        "started": 1796119200.0,
        "heartbeat": 1796119200.0,
        "expires": 1796120100.0,
        "ttl": 1803895200,
        "details": {},
    }


def test_a_run_that_lost_its_lease_writes_nothing_and_says_who_took_it(aws):
    elbv2, dynamodb = aws.stub("elbv2"), aws.stub("dynamodb")
    expect_listener(elbv2, [plain(BLUE)])
    expect_health(elbv2, GREEN, "healthy")
    # Carol's rollback took the lease (token 8) after this promote read the listener: the renewal's
    # condition (held with token 7) fails, the module reads who holds it, and no modify_listener comes.
    expect_lease_update_refused(dynamodb)
    dynamodb.add_response("get_item", {"Item": to_dynamodb(held_by(8, "carol"))}, ANY_GET)

    result = run_module(alb_traffic_switch, dict(args((GREEN, 1)), lease=LEASE))

    assert result["failed"] and result["lost"] is True, result
    assert "carol took it for rollback (token 8)" in result["msg"] and "changes nothing more" in result["msg"]
    assert result["lease"]["token"] == 8


def test_a_run_that_holds_its_lease_renews_it_with_its_phase_right_before_the_write(aws):
    elbv2, dynamodb = aws.stub("elbv2"), aws.stub("dynamodb")
    expect_listener(elbv2, [plain(BLUE)])
    expect_health(elbv2, GREEN, "healthy")
    expect_lease_update(dynamodb, TABLE, "production", 7, held_by(7, "bob"))
    elbv2.add_response("modify_listener", {"Listeners": []}, {"ListenerArn": LISTENER, "DefaultActions": ANY})

    result = run_module(alb_traffic_switch, dict(args((GREEN, 1)), lease=LEASE))

    assert not result["failed"] and result["changed"], result


def test_with_nothing_to_change_the_lease_is_still_renewed_with_the_journal(aws):
    """The journal (switched_at, a phase) lands even when the listener is already right, and a run
    that lost its lease learns so here rather than at its next change."""
    elbv2, dynamodb = aws.stub("elbv2"), aws.stub("dynamodb")
    expect_listener(elbv2, [plain(GREEN)])
    expect_lease_update(dynamodb, TABLE, "production", 7, held_by(7, "bob"))

    result = run_module(alb_traffic_switch, dict(args((GREEN, 1)), lease=LEASE))

    assert not result["failed"] and not result["changed"], result


def test_without_a_lease_no_lease_call_is_made(aws):
    aws.stub("dynamodb")  # no response stubbed: any lease call would fail the run
    elbv2 = aws.stub("elbv2")
    expect_listener(elbv2, [plain(GREEN)])

    result = run_module(alb_traffic_switch, args((GREEN, 1)))

    assert not result["failed"] and not result["changed"], result


def test_known_rules_are_not_read_again_and_the_rules_written_come_back_for_the_next_call(aws):
    # The state's rules: no DescribeRules (the Stubber fails on any call it does not expect).
    elbv2 = aws.stub("elbv2")
    rules = [{"RuleArn": DEFAULT_RULE, "Priority": "default", "IsDefault": True, "Actions": [plain(BLUE)]}]
    elbv2.add_response(
        "modify_listener",
        {"Listeners": []},
        {"ListenerArn": LISTENER, "DefaultActions": [weighted((BLUE, 90), (GREEN, 10), stickiness={"Enabled": False})]},
    )

    first = run_module(
        alb_traffic_switch, dict(args((BLUE, 90), (GREEN, 10)), known_rules=rules, require_healthy_targets=False)
    )

    assert not first["failed"], first["msg"]
    assert first["changed"] is True and first["current"]["default"] == {BLUE: 90, GREEN: 10}
    # The next step starts from what was written: 10 % to green is no change, and nothing is read.
    again = run_module(alb_traffic_switch, dict(args((BLUE, 90), (GREEN, 10)), known_rules=first["rules"]))
    assert again["changed"] is False, again


def test_known_rules_without_a_default_rule_are_refused(aws):
    aws.stub("elbv2")

    result = run_module(
        alb_traffic_switch, dict(args((GREEN, 1)), known_rules=[{"RuleArn": f"{DEFAULT_RULE}1", "Actions": []}])
    )

    assert result["failed"] and "has no default rule" in result["msg"]


def test_known_rules_of_another_listener_are_not_used_the_listener_is_read(aws):
    # The production listener's rules read from an override listener must never be written here.
    elbv2 = aws.stub("elbv2")
    expect_listener(elbv2, [plain(GREEN)])
    other = LISTENER[:-4] + "9999"
    elsewhere = [
        {"RuleArn": other.replace(":listener/", ":listener-rule/") + "/1", "IsDefault": True, "Actions": [plain(BLUE)]}
    ]

    result = run_module(alb_traffic_switch, dict(args((GREEN, 1)), known_rules=elsewhere))

    assert not result["failed"], result["msg"]
    assert result["changed"] is False, "read from the listener itself, green already"
