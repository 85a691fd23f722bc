"""alb_bluegreen_info: the live colour is the production listener's; each colour's service state."""

from __future__ import annotations

from datetime import UTC, datetime

from ansible_collections.switchyard.bluegreen.plugins.modules import alb_bluegreen_info

from tests.unit.plugins.modules.utils import run_module

ELB = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
PRODUCTION = f"{ELB}:listener/app/svc/50dc6c495c0c9188/1111111111111111"
TEST = f"{ELB}:listener/app/svc/50dc6c495c0c9188/2222222222222222"
GROUPS = {"blue": f"{ELB}:targetgroup/svc-blue/aaaa", "green": f"{ELB}:targetgroup/svc-green/bbbb"}
SERVICES = {"blue": "svc-blue", "green": "svc-green"}
CLUSTER = "svc"
TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/svc"


def forward(*pairs):
    return [
        {
            "Type": "forward",
            "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": GROUPS[c], "Weight": w} for c, w in pairs]},
        }
    ]


def default_rule(listener, actions):
    return {"RuleArn": f"{listener}/default", "Priority": "default", "IsDefault": True, "Actions": actions}


def expect_listeners(elbv2, production, test):
    """Each listener's rules in one DescribeRules (the default rule carries its default actions)."""
    for listener, actions in ((PRODUCTION, production), (TEST, test)):
        elbv2.add_response("describe_rules", {"Rules": [default_rule(listener, actions)]}, {"ListenerArn": listener})


def expect_colours(aws, revisions=None, healthy=None, target_health=True):
    revisions = revisions or {"blue": 3, "green": 4}
    healthy = healthy or {"blue": 2, "green": 0}
    ecs, elbv2 = aws.stub("ecs"), aws.stub("elbv2")
    ecs.add_response(
        "describe_services",
        {
            "services": [
                {
                    "serviceName": SERVICES[c],
                    "status": "ACTIVE",
                    "taskDefinition": f"{TD}:{revisions[c]}",
                    "desiredCount": 2 if c == "blue" else 0,
                    "runningCount": 2 if c == "blue" else 0,
                }
                for c in ("blue", "green")
            ]
        },
        {"cluster": CLUSTER, "services": ["svc-blue", "svc-green"]},
    )
    for colour in ("blue", "green"):
        ecs.add_response(
            "describe_task_definition",
            {
                "taskDefinition": {
                    "taskDefinitionArn": f"{TD}:{revisions[colour]}",
                    "family": "svc",
                    "revision": revisions[colour],
                    "status": "ACTIVE",
                    "registeredAt": datetime(2026, 11, 1, tzinfo=UTC),
                    "containerDefinitions": [{"name": "app", "image": f"app:v{revisions[colour]}"}],
                    "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
                    "requiresCompatibilities": ["FARGATE"],
                },
                "tags": [],
            },
            {"taskDefinition": f"{TD}:{revisions[colour]}", "include": ["TAGS"]},
        )
        if not target_health:
            continue
        elbv2.add_response(
            "describe_target_health",
            {
                "TargetHealthDescriptions": [
                    {"Target": {"Id": f"10.0.0.{i}"}, "TargetHealth": {"State": "healthy"}}
                    for i in range(healthy[colour])
                ]
            },
            {"TargetGroupArn": GROUPS[colour]},
        )


ARGS = {
    "production_listener_arn": PRODUCTION,
    "test_listener_arn": TEST,
    "cluster": CLUSTER,
    "services": SERVICES,
    "target_group_arns": GROUPS,
    "region": "us-east-1",
}


def test_blue_live_green_idle(aws):
    elbv2 = aws.stub("elbv2")
    expect_listeners(elbv2, forward(("blue", 1)), forward(("green", 1)))
    expect_colours(aws)

    result = run_module(alb_bluegreen_info, ARGS)

    assert not result["failed"], result["msg"]
    assert result["changed"] is False
    assert (result["live_colour"], result["idle_colour"]) == ("blue", "green")
    assert result["production_weights"] == {"blue": 1, "green": 0}
    assert result["test_weights"] == {"blue": 0, "green": 1}
    assert result["colours"]["blue"] == {
        "service": "svc-blue",
        "task_definition": f"{TD}:3",
        "image": "app:v3",
        "desired_count": 2,
        "running_count": 2,
        "healthy_targets": 2,
        "warm": True,
    }
    assert result["colours"]["green"]["warm"] is False  # no tasks: a rollback to it would need a scale-up
    # The live revision as it can be registered again: read-only fields dropped, the rest kept.
    assert result["task_definition"] == {
        "family": "svc",
        "containerDefinitions": [{"name": "app", "image": "app:v3"}],
        "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        "requiresCompatibilities": ["FARGATE"],
    }


def test_each_revision_comes_back_for_the_deploy_to_reuse(aws):
    elbv2 = aws.stub("elbv2")
    expect_listeners(elbv2, forward(("blue", 1)), forward(("green", 1)))
    expect_colours(aws)

    result = run_module(alb_bluegreen_info, ARGS)

    green = result["revisions"]["green"]
    assert (green["arn"], green["revision"], green["tags"]) == (f"{TD}:4", 4, [])
    assert green["body"]["containerDefinitions"] == [{"name": "app", "image": "app:v4"}]
    assert "registeredAt" not in green["body"] and "revision" not in green["body"], "registrable fields only"


def test_without_target_health_no_target_is_read(aws):
    # A promote's read: no DescribeTargetHealth (the Stubber fails on any call it does not expect).
    elbv2 = aws.stub("elbv2")
    expect_listeners(elbv2, forward(("blue", 1)), forward(("green", 1)))
    expect_colours(aws, target_health=False)

    result = run_module(alb_bluegreen_info, dict(ARGS, target_health=False))

    assert not result["failed"], result["msg"]
    assert result["live_colour"] == "blue"
    assert {c["healthy_targets"] for c in result["colours"].values()} == {None}
    assert {c["warm"] for c in result["colours"].values()} == {None}


def test_split_traffic_has_no_live_colour(aws):
    elbv2 = aws.stub("elbv2")
    expect_listeners(elbv2, forward(("blue", 90), ("green", 10)), forward(("green", 1)))
    expect_colours(aws)

    result = run_module(alb_bluegreen_info, ARGS, check_mode=True)

    assert result["live_colour"] is None and result["idle_colour"] is None
    assert result["production_weights"] == {"blue": 90, "green": 10}
    assert "task_definition" not in result


def test_a_missing_listener_is_named(aws):
    elbv2 = aws.stub("elbv2")
    for _ in (PRODUCTION, TEST):
        elbv2.add_client_error("describe_rules", service_error_code="ListenerNotFound", service_message="gone")

    result = run_module(alb_bluegreen_info, ARGS)

    assert result["failed"]
    assert f"does not exist: production_listener_arn {PRODUCTION}, test_listener_arn {TEST}" in result["msg"]
    assert "provision.yml" in result["msg"]


def test_a_listener_without_a_default_rule_is_refused(aws):
    elbv2 = aws.stub("elbv2")
    elbv2.add_response("describe_rules", {"Rules": []}, {"ListenerArn": PRODUCTION})

    result = run_module(alb_bluegreen_info, ARGS)

    assert result["failed"] and f"Listener {PRODUCTION} has no default rule" in result["msg"]


def test_the_rules_and_services_come_back_for_the_routes_and_deploys_to_reuse(aws):
    elbv2 = aws.stub("elbv2")
    expect_listeners(elbv2, forward(("blue", 1)), forward(("green", 1)))
    expect_colours(aws)

    result = run_module(alb_bluegreen_info, ARGS)

    assert result["listener_rules"]["production"] == [default_rule(PRODUCTION, forward(("blue", 1)))]
    assert result["listener_rules"]["test"] == [default_rule(TEST, forward(("green", 1)))]
    assert result["services"]["green"] == {"serviceName": "svc-green", "taskDefinition": f"{TD}:4", "desiredCount": 0}


def test_a_known_revision_is_not_described_again(aws):
    # Only blue's revision is described (the Stubber fails on any call it does not expect).
    elbv2, ecs = aws.stub("elbv2"), aws.stub("ecs")
    expect_listeners(elbv2, forward(("blue", 1)), forward(("green", 1)))
    ecs.add_response(
        "describe_services",
        {
            "services": [
                {
                    "serviceName": SERVICES[c],
                    "status": "ACTIVE",
                    "taskDefinition": f"{TD}:{n}",
                    "desiredCount": 1,
                    "runningCount": 1,
                }
                for c, n in (("blue", 3), ("green", 4))
            ]
        },
    )
    ecs.add_response(
        "describe_task_definition",
        {
            "taskDefinition": {
                "taskDefinitionArn": f"{TD}:3",
                "family": "svc",
                "revision": 3,
                "containerDefinitions": [{"name": "app", "image": "app:v3"}],
            },
            "tags": [],
        },
    )
    known = {
        "arn": f"{TD}:4",
        "revision": 4,
        "body": {"family": "svc", "containerDefinitions": [{"name": "app", "image": "app:v4"}]},
        "tags": [],
    }

    result = run_module(alb_bluegreen_info, dict(ARGS, target_health=False, known_revisions=[known]))

    assert not result["failed"], result["msg"]
    assert result["colours"]["green"]["image"] == "app:v4"
    assert result["revisions"]["green"]["body"] == known["body"]


def test_a_missing_service_names_its_colour(aws):
    elbv2, ecs = aws.stub("elbv2"), aws.stub("ecs")
    expect_listeners(elbv2, forward(("blue", 1)), forward(("green", 1)))
    ecs.add_response("describe_services", {"services": [{"serviceName": "svc-blue", "status": "ACTIVE"}]})

    result = run_module(alb_bluegreen_info, ARGS)

    assert result["failed"]
    assert "ECS service svc-green (green) does not exist in cluster svc" in result["msg"]


def test_aws_errors_fail_with_what_was_being_done(aws):
    aws.stub("elbv2").add_client_error("describe_rules", service_error_code="AccessDenied", service_message="no")

    result = run_module(alb_bluegreen_info, ARGS)

    assert result["failed"]
    assert result["msg"].startswith("Could not read the listeners' rules: ")
    assert "(AccessDenied) when calling the DescribeRules operation: no" in result["msg"]
