"""alb_rollback: the lease first, then production back on the previous colour, then the bookkeeping."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from ansible_collections.switchyard.bluegreen.plugins.module_utils import lease_holder, lease_store
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core import lease as lease_utils
from ansible_collections.switchyard.bluegreen.plugins.modules import alb_rollback

from tests.unit.plugins.modules.utils import ANY, expect_lease_update, expect_lease_update_refused, run_module

NOW = 1_800_000_000.0
HOST = "runner-1"
PARAMETER = "/switchyard/switchyard-production/deployment"
TABLE = "switchyard-production-deployment-lease"
LOG_GROUP = "/switchyard/switchyard-production/deployments"
ELB = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
PRODUCTION = f"{ELB}:listener/app/svc/50dc6c495c0c9188/1111111111111111"
TEST = f"{ELB}:listener/app/svc/50dc6c495c0c9188/2222222222222222"
GROUPS = {"blue": f"{ELB}:targetgroup/svc-blue/aaaa", "green": f"{ELB}:targetgroup/svc-green/bbbb"}
SERVICES = {"blue": "svc-blue", "green": "svc-green"}
CLUSTER = "svc"
TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/svc"
# The previous release runs on blue (revision 3), the new one on green (revision 4).
REVISIONS = {"blue": 3, "green": 4}
IMAGES = {"blue": "app@sha256:1111", "green": "app@sha256:2222"}
CONTRACT = {
    "contract_version": 1,
    "layer": "alb",
    "environment": "production",
    "name": "switchyard-production",
    "production_listener_arn": PRODUCTION,
    "test_listener_arn": TEST,
    "target_group_arns": GROUPS,
    "cluster_name": CLUSTER,
    "service_names": SERVICES,
    "deployment_log_group": LOG_GROUP,
    "lease_table": TABLE,
}
ARGS = {"deployment_parameter": PARAMETER, "actor": "alice", "run_id": "run-2", "region": "us-east-1"}
CONDITION = "attribute_not_exists(environment) OR #token = :seen"
ALICE = {"actor": "alice", "run_id": "run-2", "host": HOST, "pid": 500}  # this run, as local_holder sees it
BOB = {"actor": "bob", "run_id": "run-1", "host": "laptop", "pid": 311}
NO_STICKINESS = {"Enabled": False}


@pytest.fixture(autouse=True)
def this_machine(monkeypatch, tmp_path):
    """NOW on HOST, where the play's ansible-playbook is pid 500."""
    proc = tmp_path / "proc"
    (proc / "500").mkdir(parents=True)
    (proc / "500" / "cmdline").write_bytes(b"python3\0/usr/bin/ansible-playbook\0rollback.yml\0")
    monkeypatch.setattr(lease_holder, "clock", lambda: NOW)
    monkeypatch.setattr(lease_holder, "playbook_pid", lambda: 500)
    monkeypatch.setattr(lease_holder, "PROC", str(proc))
    monkeypatch.setattr(lease_holder.socket, "gethostname", lambda: HOST)


# --- the lease ----------------------------------------------------------------------------------


BOBS_JOURNAL = {"image": IMAGES["green"], "previous_image": IMAGES["blue"], "from_colour": "blue", "to_colour": "green"}


BOBS_PREEMPTED = {"holder": BOB, "operation": "promote", "phase": "baking", "token": 7, "details": BOBS_JOURNAL}


def bobs_promote(**changes):
    """Bob's promote from blue to green, token 7, baking: the journal a rollback undoes."""
    item = {
        "environment": "production",
        "token": 7,
        "state": "held",
        "operation": "promote",
        "phase": "baking",
        "holder": dict(BOB),
        "started": NOW - 300,
        "heartbeat": NOW - 20,
        "expires": NOW + 880,
        "ttl": int(NOW) + lease_utils.TTL_SECONDS,
        "details": dict(BOBS_JOURNAL),
        "outcome": None,
        "preempted": None,
        "preempted_by": None,
        "took_over": None,
    }
    return {**item, **changes}


def alices_rollback(token=8, **changes):
    """The lease this rollback holds once it took it over (from bob's promote unless changed)."""
    item = {
        "environment": "production",
        "token": token,
        "state": "held",
        "operation": "rollback",
        "phase": "restoring",
        "holder": dict(ALICE),
        "started": NOW,
        "heartbeat": NOW,
        "expires": NOW + 900,
        "ttl": int(NOW) + lease_utils.TTL_SECONDS,
        "details": {},
        "outcome": None,
        "preempted": {"holder": BOB, "operation": "promote", "phase": "baking", "token": 7, "details": BOBS_JOURNAL},
        "preempted_by": {"holder": ALICE, "operation": "rollback", "at": NOW},
        "took_over": None,
        # What it undoes (core.lease.undoes): bob's promote, for the next rollback should this one fail.
        "undoes": {"holder": BOB, "operation": "promote", "phase": "baking", "token": 7, "details": BOBS_JOURNAL},
    }
    return {**item, **changes}


def released(item, **details):
    return dict(item, state="released", phase="done", outcome="done", heartbeat=NOW, expires=NOW, details=details)


class Item:
    """Matches the Item parameter of put_item whose decoded values include fields; keeps what it saw."""

    def __init__(self, **fields):
        self.fields = fields
        self.seen = None

    def __eq__(self, attributes):
        self.seen = lease_store.from_dynamodb(attributes)
        return all(self.seen.get(key) == value for key, value in self.fields.items())

    __hash__ = None  # compared only

    def __repr__(self):
        return f"Item({self.fields}, seen={self.seen})"


class Capture:
    """Matches any value of a parameter and keeps it (the line of a log event)."""

    def __init__(self):
        self.value = None

    def __eq__(self, value):
        self.value = value
        return True

    __hash__ = None

    def __repr__(self):
        return f"Capture({self.value!r})"


def expect_get(dynamodb, item):
    dynamodb.add_response(
        "get_item",
        {"Item": lease_store.to_dynamodb(item)} if item else {},
        {"TableName": TABLE, "Key": {"environment": {"S": "production"}}, "ConsistentRead": True},
    )


def expect_put(dynamodb, seen, item):
    dynamodb.add_response(
        "put_item",
        {},
        {
            "TableName": TABLE,
            "Item": item,
            "ConditionExpression": CONDITION,
            "ExpressionAttributeNames": {"#token": "token"},
            "ExpressionAttributeValues": {":seen": {"N": str(seen)}},
        },
    )


# --- the contract, the listeners, the services --------------------------------------------------


def expect_update(dynamodb, token, before):
    expect_lease_update(dynamodb, TABLE, "production", token, before)


def expect_contract(ssm):
    ssm.add_response(
        "get_parameter",
        {"Parameter": {"Name": PARAMETER, "Type": "String", "Value": json.dumps(CONTRACT), "Version": 1}},
        {"Name": PARAMETER},
    )


def forward(**weights):
    """A forward as AWS returns it: every group with its weight, stickiness off."""
    groups = [{"TargetGroupArn": GROUPS[colour], "Weight": weight} for colour, weight in weights.items()]
    return {"Type": "forward", "ForwardConfig": {"TargetGroups": groups, "TargetGroupStickinessConfig": NO_STICKINESS}}


def plain(colour):
    """A plain forward as AWS returns it: both shapes at once."""
    return {"Type": "forward", "TargetGroupArn": GROUPS[colour], **forward(**{colour: 1})}


def expect_listeners(elbv2, production, test):
    elbv2.add_response(
        "describe_listeners",
        {
            "Listeners": [
                {"ListenerArn": PRODUCTION, "Port": 443, "Protocol": "HTTPS", "DefaultActions": [production]},
                {"ListenerArn": TEST, "Port": 8443, "Protocol": "HTTPS", "DefaultActions": [test]},
            ]
        },
        {"ListenerArns": [PRODUCTION, TEST]},
    )


def expect_rules(elbv2, listener, action):
    default_rule = {
        "RuleArn": listener.replace(":listener/", ":listener-rule/") + "/0000000000000000",
        "Priority": "default",
        "Conditions": [],
        "Actions": [action],
        "IsDefault": True,
    }
    elbv2.add_response("describe_rules", {"Rules": [default_rule]}, {"ListenerArn": listener})


def expect_modify(elbv2, listener, action):
    elbv2.add_response("modify_listener", {"Listeners": []}, {"ListenerArn": listener, "DefaultActions": [action]})


def expect_services(ecs, desired=None):
    desired = desired or {"blue": 2, "green": 2}
    ecs.add_response(
        "describe_services",
        {
            "services": [
                {
                    "serviceName": SERVICES[colour],
                    "status": "ACTIVE",
                    "taskDefinition": f"{TD}:{REVISIONS[colour]}",
                    "desiredCount": desired[colour],
                    "runningCount": desired[colour],
                }
                for colour in ("blue", "green")
            ]
        },
        {"cluster": CLUSTER, "services": [SERVICES["blue"], SERVICES["green"]]},
    )


def expect_health(elbv2, colour, healthy):
    elbv2.add_response(
        "describe_target_health",
        {
            "TargetHealthDescriptions": [
                {"Target": {"Id": f"10.0.0.{i}", "Port": 8080}, "TargetHealth": {"State": "healthy"}}
                for i in range(healthy)
            ]
        },
        {"TargetGroupArn": GROUPS[colour]},
    )


def expect_task_definition(ecs, colour):
    revision = REVISIONS[colour]
    ecs.add_response(
        "describe_task_definition",
        {
            "taskDefinition": {
                "taskDefinitionArn": f"{TD}:{revision}",
                "family": "svc",
                "revision": revision,
                "status": "ACTIVE",
                "registeredAt": datetime(2026, 11, 1, tzinfo=UTC),
                "containerDefinitions": [{"name": "app", "image": IMAGES[colour]}],
            },
            "tags": [],
        },
        {"taskDefinition": f"{TD}:{revision}", "include": ["TAGS"]},
    )


def expect_record(logs):
    """The record's event, in one call (the stream exists); its line is kept in the Capture returned."""
    line = Capture()
    logs.add_response(
        "put_log_events",
        {},
        {"logGroupName": LOG_GROUP, "logStreamName": "records", "logEvents": [{"timestamp": ANY, "message": line}]},
    )
    return line


def call_order(aws):
    """Every call made on the stubbed clients, across clients, in order: (service, operation, listener).

    A Stubber checks the order of calls on its own client only; the production listener (elbv2) and
    the record (logs) are on different clients, so their order is noted here.
    """
    calls = []
    for service, client in aws.clients.items():

        def note(params, model, service=service, **kwargs):
            calls.append((service, model.name, params.get("ListenerArn")))

        client.meta.events.register("before-parameter-build", note)
    return calls


def services(aws):
    return [service for service, *_ in aws.created]


# --- warm ---------------------------------------------------------------------------------------


def test_a_warm_rollback_preempts_the_promote_and_switches_production_before_any_bookkeeping(aws):
    ssm, dynamodb, elbv2, ecs, logs = (aws.stub(s) for s in ("ssm", "dynamodb", "elbv2", "ecs", "logs"))
    expect_contract(ssm)
    # Bob's promote from blue to green bakes at 90 % on green: the lease is taken over first.
    expect_get(dynamodb, bobs_promote())
    preempt = Item(**alices_rollback())
    expect_put(dynamodb, 7, preempt)
    # The live state: production split, the test listener on blue; blue is warm.
    expect_rules(elbv2, PRODUCTION, forward(blue=10, green=90))
    expect_services(ecs)
    expect_health(elbv2, "blue", 2)
    # The journal says blue, although green is the heaviest: all production traffic goes to blue...
    expect_update(dynamodb, 8, alices_rollback())  # the fence, right before the write
    expect_modify(elbv2, PRODUCTION, forward(blue=100, green=0))
    # ...then the test listener to green, the colour left, for whoever looks into it.
    expect_rules(elbv2, TEST, plain("blue"))
    expect_update(dynamodb, 8, alices_rollback())  # the fence, right before the write
    expect_modify(elbv2, TEST, forward(blue=0, green=1))
    # The record: what each colour runs, written to the log group; then the lease released.
    expect_task_definition(ecs, "blue")
    expect_task_definition(ecs, "green")
    line = expect_record(logs)
    expect_update(dynamodb, 8, alices_rollback())
    # Each Stubber enforces the order of the calls on its own client (production's listener before
    # the test listener's, the lease taken before it is released); the order across clients (the
    # lease before any listener write, the production listener before the task definitions and any
    # CloudWatch Logs call) is checked on the calls noted here.
    calls = call_order(aws)

    result = run_module(alb_rollback, ARGS)

    assert not result["failed"], result["msg"]
    # The lease taken, then production switched, and only then the rest.
    switch = calls.index(("elbv2", "ModifyListener", PRODUCTION))
    assert calls.index(("dynamodb", "PutItem", None)) < switch
    assert not [call for call in calls[:switch] if call[0] == "elbv2" and call[1].startswith("Modify")]
    after = calls[switch + 1 :]
    assert [call for call in calls if call[0] == "logs"] == [
        ("logs", "PutLogEvents", None),
    ]
    assert all(call in after for call in calls if call[0] == "logs" or call[1] == "DescribeTaskDefinition")
    assert ("elbv2", "ModifyListener", TEST) in after
    assert after[-1:] == [("dynamodb", "UpdateItem", None)]  # released last, in one call

    assert result["changed"] is True and result["switched"] is True
    assert (result["kind"], result["from_colour"], result["to_colour"]) == ("warm", "green", "blue")
    assert result["token"] == 8
    assert result["preempted"] == BOBS_PREEMPTED
    assert result["deployment"] == CONTRACT
    assert result["production_weights"] == {"blue": 10, "green": 90}
    assert preempt.seen == alices_rollback()
    assert result["lease"] == released(alices_rollback(), from_colour="green", to_colour="blue")

    record = result["record"]
    assert {key: value for key, value in record.items() if key not in ("preempted", "recorded_at")} == {
        "environment": "production",
        "actor": "alice",
        "kind": "rollback",
        "image": IMAGES["blue"],
        "previous_image": IMAGES["green"],
        "from_colour": "green",
        "to_colour": "blue",
        "rollback_kind": "warm",
        "outcome": "succeeded",
        "time_to_restore_seconds": result["time_to_restore_seconds"],
    }
    assert {key: record["preempted"][key] for key in ("holder", "operation", "phase")} == {
        "holder": BOB,
        "operation": "promote",
        "phase": "baking",
    }
    assert record["recorded_at"].endswith("+00:00")
    assert json.loads(line.value) == record  # what was written is what was returned
    assert isinstance(result["time_to_restore_seconds"], float) and result["time_to_restore_seconds"] >= 0


def expect_back_to_green_with_a_free_lease(aws):
    """Every call of a warm rollback from blue to green with no journal and nobody holding the lease."""
    ssm, dynamodb, elbv2, ecs, logs = (aws.stub(s) for s in ("ssm", "dynamodb", "elbv2", "ecs", "logs"))
    expect_contract(ssm)
    expect_get(dynamodb, None)
    taken = alices_rollback(token=1, preempted=None, preempted_by=None, undoes=None)
    expect_put(dynamodb, 0, Item(**taken))
    # All on blue, the test listener already on it: back to green, whose old release still runs.
    expect_rules(elbv2, PRODUCTION, plain("blue"))
    expect_services(ecs)
    expect_health(elbv2, "green", 1)
    expect_update(dynamodb, 1, taken)  # the fence, right before the write
    expect_modify(elbv2, PRODUCTION, forward(blue=0, green=100))
    expect_rules(elbv2, TEST, plain("blue"))  # already on blue, the colour left: not written
    expect_task_definition(ecs, "green")
    expect_task_definition(ecs, "blue")
    expect_record(logs)
    expect_update(dynamodb, 1, taken)


def test_without_a_journal_production_returns_to_the_idle_colour_and_a_free_lease_preempts_nobody(aws):
    expect_back_to_green_with_a_free_lease(aws)

    result = run_module(alb_rollback, ARGS)

    assert not result["failed"], result["msg"]
    assert (result["kind"], result["from_colour"], result["to_colour"]) == ("warm", "blue", "green")
    assert result["switched"] is True and result["token"] == 1 and result["preempted"] is None
    assert result["record"]["image"] == IMAGES["green"] and result["record"]["previous_image"] == IMAGES["blue"]
    assert result["record"]["preempted"] is None


def test_the_colour_asked_for_wins_over_the_journal_and_nothing_to_move_is_not_a_switch(aws):
    ssm, dynamodb, elbv2, ecs, logs = (aws.stub(s) for s in ("ssm", "dynamodb", "elbv2", "ecs", "logs"))
    expect_contract(ssm)
    expect_get(dynamodb, bobs_promote())
    expect_put(dynamodb, 7, Item(token=8))
    # Production is all on green already; green is asked for although the journal says blue.
    expect_rules(elbv2, PRODUCTION, plain("green"))
    expect_services(ecs)
    expect_health(elbv2, "green", 2)
    expect_rules(elbv2, TEST, plain("blue"))  # the colour left: nothing to write
    expect_task_definition(ecs, "green")
    expect_task_definition(ecs, "blue")
    expect_record(logs)
    expect_update(dynamodb, 8, alices_rollback())

    result = run_module(alb_rollback, dict(ARGS, to_colour="green"))

    assert not result["failed"], result["msg"]
    assert (result["kind"], result["from_colour"], result["to_colour"]) == ("warm", "blue", "green")
    assert result["switched"] is False
    # Nothing moved: the lease is coordination and the record bookkeeping, not a change.
    assert result["changed"] is False


def test_a_lease_taken_over_again_after_the_switch_is_not_released_and_does_not_fail(aws):
    # Carol's rollback preempted this one between its switch and its release: hers stays.
    ssm, dynamodb, elbv2, ecs, logs = (aws.stub(s) for s in ("ssm", "dynamodb", "elbv2", "ecs", "logs"))
    carol = {"actor": "carol", "run_id": "run-3", "host": "ci", "pid": 9}
    carols = alices_rollback(token=9, holder=carol)
    expect_contract(ssm)
    expect_get(dynamodb, bobs_promote())
    expect_put(dynamodb, 7, Item(token=8))
    expect_rules(elbv2, PRODUCTION, forward(blue=10, green=90))
    expect_services(ecs)
    expect_health(elbv2, "blue", 2)
    expect_update(dynamodb, 8, alices_rollback())  # the fence, right before the write
    expect_modify(elbv2, PRODUCTION, forward(blue=100, green=0))
    expect_rules(elbv2, TEST, plain("green"))
    expect_task_definition(ecs, "blue")
    expect_task_definition(ecs, "green")
    expect_record(logs)
    expect_lease_update_refused(dynamodb)  # no longer held with token 8: read who has it, write nothing
    expect_get(dynamodb, carols)

    result = run_module(alb_rollback, ARGS)

    assert not result["failed"], result["msg"]
    assert result["kind"] == "warm" and result["switched"] is True and result["token"] == 8
    assert result["lease"] == carols


# --- cold ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("desired", "healthy"),
    [
        pytest.param(0, 0, id="scaled down"),
        pytest.param(2, 0, id="no healthy target yet"),
    ],
)
def test_a_cold_colour_moves_nothing_and_keeps_the_lease_for_the_caller(aws, desired, healthy):
    ssm, dynamodb, elbv2, ecs = (aws.stub(s) for s in ("ssm", "dynamodb", "elbv2", "ecs"))
    expect_contract(ssm)
    # Bob's promote from blue to green is done and blue was scaled down since.
    expect_get(dynamodb, bobs_promote(state="released", phase="done", outcome="done"))
    # Nobody preempted, but what it undoes is bob's promote, done: a failed rollback leaves it to the next.
    done = {"holder": BOB, "operation": "promote", "phase": "done", "token": 7, "details": BOBS_JOURNAL}
    taken = alices_rollback(preempted=None, preempted_by=None, undoes=done)
    written = Item(**taken)
    expect_put(dynamodb, 7, written)
    expect_rules(elbv2, PRODUCTION, plain("green"))
    expect_services(ecs, {"blue": desired, "green": 2})
    expect_health(elbv2, "blue", healthy)
    # no describe_rules, no modify_listener, no task definition, no logs: the Stubbers fail the test on any

    result = run_module(alb_rollback, ARGS)

    assert not result["failed"], result["msg"]
    assert result["changed"] is False  # the lease is coordination, not a change: nothing has moved yet
    assert (result["kind"], result["from_colour"], result["to_colour"]) == ("cold", "green", "blue")
    assert result["token"] == 8 and result["preempted"] is None
    assert result["lease"] == written.seen == taken  # held, phase restoring: the caller goes on with it
    assert result["lease"]["state"] == "held"
    assert "record" not in result and "switched" not in result and "time_to_restore_seconds" not in result
    assert "logs" not in services(aws)


def test_a_missing_service_is_cold(aws):
    ssm, dynamodb, elbv2, ecs = (aws.stub(s) for s in ("ssm", "dynamodb", "elbv2", "ecs"))
    expect_contract(ssm)
    expect_get(dynamodb, bobs_promote())
    expect_put(dynamodb, 7, Item(token=8))
    expect_rules(elbv2, PRODUCTION, forward(blue=10, green=90))
    ecs.add_response(
        "describe_services",
        {"services": [{"serviceName": "svc-green", "status": "ACTIVE", "desiredCount": 2}]},
        {"cluster": CLUSTER, "services": [SERVICES["blue"], SERVICES["green"]]},
    )
    expect_health(elbv2, "blue", 0)

    result = run_module(alb_rollback, ARGS)

    assert not result["failed"], result["msg"]
    assert result["kind"] == "cold" and result["to_colour"] == "blue" and result["token"] == 8


# --- nothing changed ----------------------------------------------------------------------------


def test_a_missing_contract_fails_naming_the_parameter_before_any_other_call(aws):
    aws.stub("ssm").add_client_error(
        "get_parameter",
        service_error_code="ParameterNotFound",
        http_status_code=400,
        expected_params={"Name": PARAMETER},
    )

    result = run_module(alb_rollback, ARGS)

    assert result["failed"]
    assert f"No deployment contract: SSM parameter {PARAMETER} does not exist" in result["msg"]
    assert "playbooks/provision.yml" in result["msg"]
    assert result["msg"].endswith("Nothing was changed.")
    assert services(aws) == ["ssm"]  # no lease, no listener, no record


def test_an_unusable_contract_fails_before_any_other_call(aws):
    ssm = aws.stub("ssm")
    ssm.add_response(
        "get_parameter",
        {"Parameter": {"Name": PARAMETER, "Type": "String", "Value": json.dumps({**CONTRACT, "layer": "haproxy"})}},
        {"Name": PARAMETER},
    )

    result = run_module(alb_rollback, ARGS)

    assert result["failed"]
    assert "has layer 'haproxy'" in result["msg"] and result["msg"].endswith("Nothing was changed.")
    assert services(aws) == ["ssm"]


def test_a_missing_lease_table_fails_before_any_listener_call(aws):
    expect_contract(aws.stub("ssm"))
    aws.stub("dynamodb").add_client_error(
        "get_item", service_error_code="ResourceNotFoundException", service_message="Requested resource not found"
    )

    result = run_module(alb_rollback, ARGS)

    assert result["failed"]
    assert result["msg"].startswith(f"The DynamoDB table {TABLE} of the deployment lease does not exist")
    assert result["msg"].endswith("Nothing was changed.")
    assert services(aws) == ["ssm", "dynamodb"]


def test_a_failed_switch_fails_with_the_aws_message_and_records_nothing(aws):
    ssm, dynamodb, elbv2, ecs = (aws.stub(s) for s in ("ssm", "dynamodb", "elbv2", "ecs"))
    expect_contract(ssm)
    expect_get(dynamodb, bobs_promote())
    expect_put(dynamodb, 7, Item(token=8))
    expect_rules(elbv2, PRODUCTION, forward(blue=10, green=90))
    expect_services(ecs)
    expect_health(elbv2, "blue", 2)
    expect_update(dynamodb, 8, alices_rollback())  # the fence, right before the write
    elbv2.add_client_error("modify_listener", service_error_code="AccessDenied", service_message="not allowed")

    result = run_module(alb_rollback, ARGS)

    assert result["failed"]
    assert result["msg"].startswith("Could not send production traffic back") and "not allowed" in result["msg"]
    assert "logs" not in services(aws)


def test_a_rollback_that_lost_its_lease_before_the_switch_writes_nothing(aws):
    """Carol's rollback took the lease between this one's reading and its switch: the fence, in the
    same process right before the write, refuses it and names who holds the lease."""
    ssm, dynamodb, elbv2, ecs = (aws.stub(s) for s in ("ssm", "dynamodb", "elbv2", "ecs"))
    carols = alices_rollback(token=9, holder={"actor": "carol", "run_id": "run-3", "host": "ci", "pid": 9})
    expect_contract(ssm)
    expect_get(dynamodb, bobs_promote())
    expect_put(dynamodb, 7, Item(token=8))
    expect_rules(elbv2, PRODUCTION, forward(blue=10, green=90))
    expect_services(ecs)
    expect_health(elbv2, "blue", 2)
    expect_lease_update_refused(dynamodb)  # no longer held with token 8
    expect_get(dynamodb, carols)  # no modify_listener stubbed: a write would fail the test

    result = run_module(alb_rollback, ARGS)

    assert result["failed"] and result["lost"] is True, result
    assert "carol took it for rollback" in result["msg"] and "changes nothing more" in result["msg"]
    assert result["lease"]["token"] == 9


# --- check mode ---------------------------------------------------------------------------------


def test_check_mode_predicts_a_warm_rollback_without_writing(aws):
    ssm, dynamodb, elbv2, ecs = (aws.stub(s) for s in ("ssm", "dynamodb", "elbv2", "ecs"))
    expect_contract(ssm)
    expect_get(dynamodb, bobs_promote())  # and no put_item
    expect_rules(elbv2, PRODUCTION, forward(blue=10, green=90))
    expect_services(ecs)
    expect_health(elbv2, "blue", 2)
    expect_rules(elbv2, TEST, plain("blue"))
    expect_task_definition(ecs, "blue")
    expect_task_definition(ecs, "green")

    result = run_module(alb_rollback, ARGS, check_mode=True)

    assert not result["failed"], result["msg"]
    assert result["changed"] is True and result["switched"] is True
    assert (result["kind"], result["from_colour"], result["to_colour"]) == ("warm", "green", "blue")
    assert result["token"] == 8  # predicted, never written
    assert result["lease"] == alices_rollback()
    assert result["preempted"] == BOBS_PREEMPTED
    assert result["record"]["kind"] == "rollback" and result["record"]["image"] == IMAGES["blue"]
    assert "logs" not in services(aws)  # no record written, not even a stream created


@pytest.mark.parametrize("kind", ["cold", "warm, already on the colour"])
def test_check_mode_predicts_the_changed_of_the_real_run(aws, kind):
    # Neither moves anything: the real run and its check mode both say changed=False.
    def expect(check_mode):
        ssm, dynamodb, elbv2, ecs = (aws.stub(s) for s in ("ssm", "dynamodb", "elbv2", "ecs"))
        expect_contract(ssm)
        expect_get(dynamodb, bobs_promote())
        if not check_mode:
            expect_put(dynamodb, 7, Item(token=8))
        expect_rules(elbv2, PRODUCTION, plain("blue"))
        expect_services(ecs, {"blue": 0 if kind == "cold" else 2, "green": 2})
        expect_health(elbv2, "blue", 0 if kind == "cold" else 2)
        if kind != "cold":
            expect_rules(elbv2, TEST, plain("green"))
            expect_task_definition(ecs, "blue")
            expect_task_definition(ecs, "green")
            if not check_mode:
                expect_record(aws.stub("logs"))
                expect_update(dynamodb, 8, alices_rollback())

    expect(check_mode=False)
    real = run_module(alb_rollback, ARGS)
    expect(check_mode=True)
    predicted = run_module(alb_rollback, ARGS, check_mode=True)

    assert not real["failed"] and not predicted["failed"]
    assert predicted["changed"] == real["changed"] is False
    assert predicted["kind"] == real["kind"] and predicted["to_colour"] == real["to_colour"] == "blue"


def test_the_record_names_the_token_of_the_run_it_preempted(aws):
    ssm, dynamodb, elbv2, ecs, logs = (aws.stub(s) for s in ("ssm", "dynamodb", "elbv2", "ecs", "logs"))
    expect_contract(ssm)
    expect_get(dynamodb, bobs_promote())
    expect_put(dynamodb, 7, Item(token=8))
    expect_rules(elbv2, PRODUCTION, forward(blue=10, green=90))
    expect_services(ecs)
    expect_health(elbv2, "blue", 2)
    expect_update(dynamodb, 8, alices_rollback())  # the fence, right before the write
    expect_modify(elbv2, PRODUCTION, forward(blue=100, green=0))
    expect_rules(elbv2, TEST, plain("green"))
    expect_task_definition(ecs, "blue")
    expect_task_definition(ecs, "green")
    line = expect_record(logs)
    expect_update(dynamodb, 8, alices_rollback())

    result = run_module(alb_rollback, ARGS)

    assert not result["failed"], result["msg"]
    assert result["record"]["preempted"] == result["preempted"]
    assert json.loads(line.value)["preempted"]["token"] == 7
