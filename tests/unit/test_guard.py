"""The guard (module_utils/guard.py): when an alarm may send production back, and the handler doing
it against the emulator (moto, in process: Lambda execution itself would need Docker)."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from ansible_collections.switchyard.bluegreen.plugins.module_utils import guard
from ansible_collections.switchyard.bluegreen.plugins.module_utils.contract import ContractError
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.guard import (
    alarm_colour,
    evidence_from,
    judge,
    with_plan,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.rollback import plan_rollback
from ansible_collections.switchyard.bluegreen.plugins.module_utils.lease_store import from_dynamodb, to_dynamodb
from moto import mock_aws

SUFFIXES = {"blue": "targetgroup/app-blue/1", "green": "targetgroup/app-green/2"}
GREEN_LIVE = {"blue": 0, "green": 100}


def journal(operation="promote", state="released", outcome="done", **details):
    """The lease item a run from blue to green leaves."""
    return {
        "environment": "production",
        "token": 4,
        "state": state,
        "operation": operation,
        "phase": outcome or "baking",
        "outcome": outcome,
        "details": {"from_colour": "blue", "to_colour": "green", **details},
    }


def alarm_metrics(target_group=None):
    dimensions = {"LoadBalancer": "app/app/0"} | ({"TargetGroup": target_group} if target_group else {})
    return [{"id": "m1", "metricStat": {"metric": {"name": "HTTPCode_ELB_5XX_Count", "dimensions": dimensions}}}]


# --- the decision ---------------------------------------------------------------------------------


def test_an_alarm_names_the_colour_of_its_target_group():
    assert alarm_colour(alarm_metrics(SUFFIXES["green"]), SUFFIXES) == "green"
    assert alarm_colour(alarm_metrics(), SUFFIXES) is None, "the load balancer's own 5xx are per load balancer"


@pytest.mark.parametrize(
    "item",
    [
        pytest.param(journal(), id="standby after a finished promote"),
        pytest.param(journal(state="held", outcome=None), id="during the bake (runner alive or dead)"),
    ],
)
@pytest.mark.parametrize("alarmed", [None, "green"])
def test_an_alarm_on_the_new_colour_sends_production_back_to_the_old_one(item, alarmed):
    verdict = judge(item, GREEN_LIVE, alarmed)
    assert verdict.act and (verdict.from_colour, verdict.to_colour) == ("green", "blue"), verdict
    assert with_plan(verdict, plan_rollback(item, GREEN_LIVE, {"blue": {"warm": True, "image": "app:1"}})).act


@pytest.mark.parametrize(
    ("item", "weights", "alarmed", "why"),
    [
        pytest.param(journal("finalize"), GREEN_LIVE, None, "finalize", id="finalize scaled the old colour down"),
        pytest.param(journal("rollback"), {"blue": 100, "green": 0}, None, "rollback", id="after a rollback"),
        pytest.param(
            journal("rollback", state="held", outcome=None), GREEN_LIVE, None, "in flight", id="a rollback at work"
        ),
        pytest.param(journal(outcome="rolled_back"), GREEN_LIVE, None, "rolled_back", id="the promote rolled back"),
        pytest.param(journal(), {"blue": 100, "green": 0}, None, "does not reach green", id="traffic already back"),
        pytest.param(journal(), GREEN_LIVE, "blue", "watches blue", id="an alarm on the idle colour"),
        pytest.param(None, GREEN_LIVE, None, "nothing", id="no lease at all"),
    ],
)
def test_the_guard_only_alerts_when_there_is_nothing_of_a_promote_to_undo(item, weights, alarmed, why):
    verdict = judge(item, weights, alarmed)
    assert not verdict.act and why in verdict.reason, verdict


def test_data_from_before_the_switch_are_not_this_releases():
    """Promoting a fix over a crashed colour: an alarm (per load balancer, or the colour's own,
    which carried the crashed release's minutes) fires on periods that ended before the new
    release took traffic. Those 5xx and unhealthy hosts are the previous occupant's."""
    item = journal(state="held", outcome=None, switched_at=1000.0)
    for alarmed in (None, "green"):
        assert not judge(item, GREEN_LIVE, alarmed, evidence=(940.0, 1000.0)).act
        assert judge(item, GREEN_LIVE, alarmed, evidence=(1020.0, 1080.0)).act, "after the switch: the release's"
        # The period the switch falls in holds this release's first seconds: a crash at once.
        assert judge(item, GREEN_LIVE, alarmed, evidence=(960.0, 1020.0)).act
    assert judge(item, GREEN_LIVE, "green").act, "no evaluated periods named: the alarm is taken at its word"


def test_the_evaluated_periods_come_from_the_events_reason_data():
    points = [{"timestamp": "2026-12-01T10:01:00.000+0000"}, {"timestamp": "2026-12-01T10:00:00Z"}]
    reason = json.dumps({"period": 60, "evaluatedDatapoints": points})
    assert evidence_from({"reasonData": reason}) == (1796119200.0, 1796119260.0)
    assert evidence_from({}) is None


def test_a_cold_old_colour_is_never_switched_to():
    plan = plan_rollback(journal(), GREEN_LIVE, {"blue": {"warm": False, "image": "app:1"}})
    verdict = with_plan(judge(journal(), GREEN_LIVE, None), plan)
    assert not verdict.act and "not warm" in verdict.reason and "rollback.yml" in verdict.reason


# --- the handler, against the emulator -------------------------------------------------------------

PARAMETER = "/switchyard/app-production/deployment"


class World:
    """One environment on the emulator: a load balancer with a production listener on green and a
    test listener on blue, both colours running behind healthy targets, the lease table, the
    records' log group and the published contract."""

    def __init__(self):
        self.clients = {
            s: boto3.client(s, region_name="us-east-1") for s in ("ec2", "elbv2", "ecs", "dynamodb", "ssm", "logs")
        }
        ec2, elbv2, ecs = self.clients["ec2"], self.clients["elbv2"], self.clients["ecs"]
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"][
                "SubnetId"
            ]
            for i, z in ((1, "a"), (2, "b"))
        ]
        lb = elbv2.create_load_balancer(Name="app", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        self.groups = {
            colour: elbv2.create_target_group(
                Name=f"app-{colour}", Protocol="HTTP", Port=8000, VpcId=vpc, TargetType="ip"
            )["TargetGroups"][0]["TargetGroupArn"]
            for colour in ("blue", "green")
        }
        for index, arn in enumerate(self.groups.values()):
            elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": f"10.0.1.{10 + index}", "Port": 8000}])
        self.production = self._listener(lb, 80, {"blue": 0, "green": 100})
        self.test = self._listener(lb, 8080, {"blue": 1, "green": 0})
        ecs.create_cluster(clusterName="app")
        task = ecs.register_task_definition(
            family="app", containerDefinitions=[{"name": "app", "image": "app:1", "memory": 512}]
        )
        for colour in ("blue", "green"):
            ecs.create_service(
                cluster="app",
                serviceName=f"app-{colour}",
                taskDefinition=task["taskDefinition"]["taskDefinitionArn"],
                desiredCount=2,
            )
        self.clients["dynamodb"].create_table(
            TableName="app-lease",
            KeySchema=[{"AttributeName": "environment", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "environment", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.clients["logs"].create_log_group(logGroupName="/switchyard/app-production/deployments")
        contract = {
            "contract_version": 1,
            "layer": "alb",
            "environment": "production",
            "production_listener_arn": self.production,
            "test_listener_arn": self.test,
            "target_group_arns": self.groups,
            "target_group_arn_suffixes": {c: arn.split(":", 5)[5] for c, arn in self.groups.items()},
            "cluster_name": "app",
            "service_names": {"blue": "app-blue", "green": "app-green"},
            "lease_table": "app-lease",
            "deployment_log_group": "/switchyard/app-production/deployments",
        }
        self.clients["ssm"].put_parameter(Name=PARAMETER, Type="String", Value=json.dumps(contract))

    def _listener(self, lb, port, weights):
        groups = [{"TargetGroupArn": self.groups[c], "Weight": w} for c, w in weights.items()]
        action = {"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}
        return self.clients["elbv2"].create_listener(
            LoadBalancerArn=lb, Protocol="HTTP", Port=port, DefaultActions=[action]
        )["Listeners"][0]["ListenerArn"]

    def weights(self, listener):
        action = self.clients["elbv2"].describe_listeners(ListenerArns=[listener])["Listeners"][0]["DefaultActions"][0]
        by_arn = {g["TargetGroupArn"]: g["Weight"] for g in action["ForwardConfig"]["TargetGroups"]}
        return {colour: by_arn.get(arn, 0) for colour, arn in self.groups.items()}

    def lease(self):
        item = self.clients["dynamodb"].get_item(TableName="app-lease", Key={"environment": {"S": "production"}})
        return from_dynamodb(item["Item"]) if "Item" in item else None

    def put_lease(self, item):
        self.clients["dynamodb"].put_item(TableName="app-lease", Item=to_dynamodb({**item, "expires": 0, "started": 0}))

    def records(self):
        try:
            events = self.clients["logs"].get_log_events(
                logGroupName="/switchyard/app-production/deployments", logStreamName="records"
            )["events"]
        except self.clients["logs"].exceptions.ResourceNotFoundException:
            return []
        return [json.loads(e["message"]) for e in events]

    def event(self, colour=None, state="ALARM"):
        suffix = self.groups[colour].split(":", 5)[5] if colour else None
        return {
            "detail": {
                "alarmName": f"app-guard-{colour or 'elb'}",
                "state": {"value": state},
                "configuration": {"metrics": alarm_metrics(suffix)},
            }
        }

    def handle(self, event):
        return guard.handle(
            event, {"DEPLOYMENT_PARAMETER": PARAMETER}, lambda s: boto3.client(s, region_name="us-east-1")
        )


@pytest.fixture
def world(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "unit",
        "AWS_SECRET_ACCESS_KEY": "unit",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield World()


@pytest.mark.parametrize("colour", [None, "green"])
def test_the_handler_sends_production_back_takes_the_lease_and_writes_a_record(world, colour):
    world.put_lease(journal(state="held", outcome=None, image="app:2", previous_image="app:1"))

    result = world.handle(world.event(colour))

    assert result["acted"] and (result["from_colour"], result["to_colour"]) == ("green", "blue"), result
    assert world.weights(world.production) == {"blue": 100, "green": 0}
    assert world.weights(world.test) == {"blue": 0, "green": 1}, "the test listener points at the colour left"
    lease = world.lease()
    assert lease["operation"] == "rollback" and lease["state"] == "released" and lease["token"] == 5, lease
    assert lease["preempted"]["operation"] == "promote", "the promote it took over is named"
    (record,) = world.records()
    assert record["actor"] == "switchyard-guard" and record["kind"] == "rollback" and record["outcome"] == "succeeded"
    assert record["trigger"] == result["alarm"] and record["image"] == "app:1"

    again = world.handle(world.event(colour))
    assert not again["acted"] and "rollback" in again["reason"], "a second alarm after the guard acted changes nothing"


def test_the_handler_leaves_a_cold_old_colour_and_the_lease_alone(world):
    world.put_lease(journal())
    world.clients["ecs"].update_service(cluster="app", service="app-blue", desiredCount=0)

    result = world.handle(world.event("green"))

    assert not result["acted"] and "not warm" in result["reason"], result
    assert world.weights(world.production) == GREEN_LIVE
    assert world.lease()["operation"] == "promote" and world.lease()["token"] == 4, "nothing written to the lease"
    assert world.records() == []


def test_the_handler_ignores_an_alarm_that_goes_back_to_ok(world):
    world.put_lease(journal())
    assert not world.handle(world.event("green", state="OK"))["acted"]
    assert world.weights(world.production) == GREEN_LIVE


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"contract_version": 2}, "has contract_version 2"),
        ({"deployment_log_group": None}, "lacks deployment_log_group"),
    ],
)
def test_a_contract_the_guard_cannot_act_on_is_refused_before_the_lease(world, change, message):
    """A missing key or another contract version must never leave the lease saying "rollback"
    with the listener unmoved: the guard refuses before it takes anything."""
    world.put_lease(journal(state="held", outcome=None, image="app:2", previous_image="app:1"))
    contract = json.loads(world.clients["ssm"].get_parameter(Name=PARAMETER)["Parameter"]["Value"])
    contract = {k: v for k, v in {**contract, **change}.items() if v is not None}
    world.clients["ssm"].put_parameter(Name=PARAMETER, Type="String", Value=json.dumps(contract), Overwrite=True)

    with pytest.raises(ContractError, match=message):
        world.handle(world.event("green"))

    assert world.lease()["operation"] == "promote" and world.lease()["token"] == 4, "the lease must be untouched"
    assert world.weights(world.production) == GREEN_LIVE


# --- one rollback: an unfinished one is finished, a refused one refused the same way ------------------

PROMOTE = journal(state="held", outcome=None, image="app:2", previous_image="app:1")


def rollback_of(preempted, actor="switchyard-guard", state="held", outcome=None, token=5):
    """A rollback that took the lease from preempted and did not finish (its runner died, or it failed)."""
    return {
        "environment": "production",
        "token": token,
        "state": state,
        "operation": "rollback",
        "phase": "restoring",
        "outcome": outcome,
        "holder": {"actor": actor, "run_id": "app-guard-elb", "host": "lambda"},
        "heartbeat": 0,
        "details": {"trigger": "app-guard-elb"},
        "preempted": {k: v for k, v in preempted.items() if k in ("operation", "phase", "token", "details")},
        # What it undoes (core.lease.undoes): the promote, or what the rollback it took over undid.
        "undoes": preempted.get("undoes") or {k: preempted[k] for k in ("operation", "phase", "token", "details")},
    }


@pytest.mark.parametrize(
    "lease",
    [
        pytest.param(rollback_of(PROMOTE), id="the guard's own attempt died, Lambda retries"),
        pytest.param(rollback_of(PROMOTE, actor="alice", state="released", outcome="failed"), id="rollback.yml failed"),
        pytest.param(rollback_of(rollback_of(PROMOTE), token=6), id="two attempts died"),
    ],
)
def test_the_guard_finishes_a_rollback_that_did_not_finish(world, lease):
    world.put_lease(lease)  # the listener never moved: production is still on green

    result = world.handle(world.event())

    assert result["acted"] and (result["from_colour"], result["to_colour"]) == ("green", "blue"), result
    assert world.weights(world.production) == {"blue": 100, "green": 0}
    assert world.lease()["state"] == "released" and world.lease()["outcome"] == "done"
    (record,) = world.records()
    assert (record["image"], record["previous_image"]) == ("app:1", "app:2"), "named from the promote undone"


def test_a_rollback_at_work_is_left_alone(world):
    live = rollback_of(PROMOTE, actor="alice")
    world.clients["dynamodb"].put_item(
        TableName="app-lease", Item=to_dynamodb({**live, "started": 9e9, "heartbeat": 9e9, "expires": 9e9})
    )

    result = world.handle(world.event())

    assert not result["acted"] and "at work" in result["reason"], result
    assert world.weights(world.production) == GREEN_LIVE


def test_the_guard_refuses_a_release_the_schema_moved_past_as_rollback_yml_does(world):
    """The same decision (core.rollback.plan_rollback) as rollback.yml's and the promote's rescue:
    the colour to go back to runs app:1, and app:3's contract migration removed what app:1 reads."""
    world.put_lease(PROMOTE)
    # blue was scaled down since: bringing it back is what the records are read for.
    world.clients["ecs"].update_service(cluster="app", service="app-blue", desiredCount=0)
    logs = world.clients["logs"]
    group = "/switchyard/app-production/deployments"
    logs.create_log_stream(logGroupName=group, logStreamName="records")
    history = [  # oldest first: app:3's contract step removed what releases before app:2's migration read
        {"kind": "promote", "image": "app:1", "migrations": {"head": "0001.init", "applied": [{"id": "0001.init"}]}},
        {"kind": "promote", "image": "app:2", "migrations": {"head": "0002.add", "applied": [{"id": "0002.add"}]}},
        {
            "kind": "promote",
            "image": "app:3",
            "migrations": {"head": "0003.drop", "applied": [{"id": "0003.drop", "phase": "contract"}]},
        },
    ]
    logs.put_log_events(
        logGroupName=group,
        logStreamName="records",
        logEvents=[{"timestamp": int(time.time() * 1000) + i, "message": json.dumps(r)} for i, r in enumerate(history)],
    )

    result = world.handle(world.event("green"))

    expected = plan_rollback(PROMOTE, GREEN_LIVE, {"blue": {"warm": False, "image": "app:1"}}, list(reversed(history)))
    assert not result["acted"] and expected.kind == "refused" and result["reason"] == expected.reason, result
    assert "0003.drop" in result["reason"]
    assert world.weights(world.production) == GREEN_LIVE and world.lease()["token"] == 4, "nothing taken or moved"


def test_an_attempt_of_the_guard_still_within_its_timeout_is_left_alone(world):
    """Two alarms at once: the second finds the first's rollback held and young; it must not act
    twice. Past the Lambda's timeout (TIMEOUT_SECONDS) the same lease is an attempt that died."""
    young = rollback_of(PROMOTE)
    now = time.time()
    world.clients["dynamodb"].put_item(
        TableName="app-lease", Item=to_dynamodb({**young, "started": now, "heartbeat": now, "expires": now + 900})
    )

    environ = {"DEPLOYMENT_PARAMETER": PARAMETER, "TIMEOUT_SECONDS": "60"}
    client = lambda service: boto3.client(service, region_name="us-east-1")  # noqa: E731
    result = guard.handle(world.event(), environ, client)
    assert not result["acted"] and "at work" in result["reason"], result

    finished = guard.handle(world.event(), dict(environ, TIMEOUT_SECONDS="0"), client)
    assert finished["acted"], finished
    assert world.weights(world.production) == {"blue": 100, "green": 0}
