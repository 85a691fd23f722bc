"""provision.yml against the sandbox: the whole stack from nothing, idempotence, ownership."""

from __future__ import annotations

import subprocess

import pytest

pytestmark = pytest.mark.sandbox


def forward_target(listener: dict) -> str:
    action = listener["DefaultActions"][0]
    return action.get("TargetGroupArn") or action["ForwardConfig"]["TargetGroups"][0]["TargetGroupArn"]


def test_provision_creates_the_whole_stack(provisioned, aws):
    stack, initial = provisioned["stack"], provisioned["initial"]
    elbv2 = aws("elbv2")
    production = {"DefaultActions": initial["actions"][stack["production_listener_arn"]]}
    test = {"DefaultActions": initial["actions"][stack["test_listener_arn"]]}
    assert forward_target(production) == stack["target_group_arns"]["blue"], (
        "a new stack must send production traffic to blue"
    )
    assert forward_target(test) == stack["target_group_arns"]["green"], (
        "a new stack's test listener must point at the idle colour, green"
    )

    groups = elbv2.describe_target_groups(TargetGroupArns=list(stack["target_group_arns"].values()))
    assert {group["TargetType"] for group in groups["TargetGroups"]} == {"ip"}

    services = aws("ecs").describe_services(
        cluster=stack["cluster_name"], services=list(stack["service_names"].values())
    )["services"]
    assert initial["desired"] == {stack["service_names"]["blue"]: 2, stack["service_names"]["green"]: 0}
    assert all(
        service["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "DISABLED" for service in services
    ), "tasks must run in private subnets without public addresses"

    database = aws("rds").describe_db_instances()["DBInstances"][0]
    assert database["PubliclyAccessible"] is False
    assert database["StorageEncrypted"] is True
    assert database["MasterUserSecret"]["SecretArn"] == provisioned["db"]["master_secret_arn"]

    alarms = {alarm["AlarmName"] for alarm in aws("cloudwatch").describe_alarms()["MetricAlarms"]}
    guard = {name for name in alarms if name.startswith(f"{stack['name']}-guard-")}
    # The alarms on the guard's own failures (modules/guard/failures.tf) notify; they never trigger it.
    failures = {f"{stack['guard_function']}-dead-letters", f"{stack['guard_function']}-errors"}
    assert failures <= guard, f"the guard's failures (dead letters, errors) need their alarms: {guard}"
    guard -= failures
    assert alarms - guard - failures == set(stack["alarm_names"].values())
    assert len(guard) == 5, f"the guard watches target 5xx and unhealthy hosts per colour, and the ELB's 5xx: {guard}"
    rule = aws("events").describe_rule(Name=f"{stack['name']}-guard")
    assert rule["State"] == "ENABLED"
    (target,) = aws("events").list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"].endswith(f":function:{stack['guard_function']}"), "the guard's rule invokes the guard"
    assert target["DeadLetterConfig"]["Arn"].endswith(f":{stack['guard_function']}-dead-letters"), (
        "an alarm event EventBridge cannot deliver to the guard must be kept in its dead-letter queue"
    )


def test_second_provision_reports_no_change(provisioned, run_playbook):
    again = run_playbook("provision.yml")
    assert again.returncode == 0, again.failure_messages() or again.stderr
    assert again.changed == 0, "a second provision of an unchanged stack must change nothing"


def test_check_mode_plans_without_changing(provisioned, run_playbook):
    planned = run_playbook("provision.yml", "--check", "--diff")
    assert planned.returncode == 0, planned.failure_messages() or planned.stderr
    assert planned.changed == 0


def test_terraform_never_undoes_a_release(provisioned, aws, terraform_env, sandbox_root, harness_signals):
    """Switch production to green and scale green through the API, as a release does:
    Terraform must see nothing to change (the ownership line)."""
    # No requests meanwhile: green may hold a faulty image an earlier test left on the idle colour,
    # whose 5xx would fire alarms (and wake the guard) for the tests after this one.
    harness_signals(period_seconds=1, delay_seconds=0, requests_per_second=0)
    stack = provisioned["stack"]
    elbv2, ecs = aws("elbv2"), aws("ecs")
    green = stack["target_group_arns"]["green"]
    blue = stack["target_group_arns"]["blue"]

    def point(listener_arn: str, target_group_arn: str) -> None:
        elbv2.modify_listener(
            ListenerArn=listener_arn,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group_arn}],
        )

    before = {
        listener["ListenerArn"]: listener["DefaultActions"]
        for listener in elbv2.describe_listeners(LoadBalancerArn=stack["load_balancer_arn"])["Listeners"]
    }
    green_desired = ecs.describe_services(cluster=stack["cluster_name"], services=[stack["service_names"]["green"]])[
        "services"
    ][0]["desiredCount"]
    point(stack["production_listener_arn"], green)
    point(stack["test_listener_arn"], blue)
    ecs.update_service(cluster=stack["cluster_name"], service=stack["service_names"]["green"], desiredCount=3)
    try:
        plan = subprocess.run(
            ["terraform", "plan", "-detailed-exitcode", "-input=false", "-no-color"],
            cwd=sandbox_root,
            env=terraform_env,
            capture_output=True,
            check=False,
            text=True,
        )
        assert plan.returncode == 0, (
            "terraform plan wants to change what Ansible owns (listener actions, desired count):\n"
            + plan.stdout[-3000:]
            + plan.stderr[-2000:]
        )
    finally:
        for arn, actions in before.items():
            elbv2.modify_listener(ListenerArn=arn, DefaultActions=actions)
        ecs.update_service(
            cluster=stack["cluster_name"], service=stack["service_names"]["green"], desiredCount=green_desired
        )


def test_the_published_contract_is_what_terraform_outputs(provisioned, run_playbook, tmp_path):
    """rollback, status and finalize read the deployment contract from AWS, without Terraform."""
    playbook = tmp_path / "find.yml"
    playbook.write_text(
        "- name: Find the stack\n"
        "  hosts: localhost\n"
        "  gather_facts: false\n"
        "  module_defaults:\n"
        '    group/switchyard.bluegreen.aws: "{{ switchyard_aws_connection }}"\n'
        "  tasks:\n"
        "    - name: deployment_info\n"
        "      switchyard.bluegreen.deployment_info:\n"
        '        parameter: "{{ switchyard_deployment_parameter }}"\n'
    )
    found = run_playbook(str(playbook))
    assert found.returncode == 0, found.failure_messages() or found.stderr
    contract = found.task_results("deployment_info")[0]["deployment"]
    assert contract["layer"] == "alb", contract
    outputs = {**provisioned["stack"], "layer": "alb"}
    assert {**contract, "contract_version": None} == {**outputs, "contract_version": None}, (
        "the SSM contract and the Terraform output differ"
    )
