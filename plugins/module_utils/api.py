# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ELBv2 and ECS calls our modules share, each with amazon.aws's retry decorator."""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


@AWSRetry.jittered_backoff()
def describe_listener(elbv2, listener_arn):
    return elbv2.describe_listeners(ListenerArns=[listener_arn])["Listeners"][0]


@AWSRetry.jittered_backoff()
def describe_rules(elbv2, listener_arn):
    paginator = elbv2.get_paginator("describe_rules")
    return paginator.paginate(ListenerArn=listener_arn).build_full_result()["Rules"]


@AWSRetry.jittered_backoff()
def modify_listener(elbv2, listener_arn, actions):
    elbv2.modify_listener(ListenerArn=listener_arn, DefaultActions=actions)


@AWSRetry.jittered_backoff()
def modify_rule(elbv2, rule_arn, actions):
    elbv2.modify_rule(RuleArn=rule_arn, Actions=actions)


@AWSRetry.jittered_backoff()
def healthy_target_count(elbv2, target_group_arn):
    health = elbv2.describe_target_health(TargetGroupArn=target_group_arn)["TargetHealthDescriptions"]
    return sum(1 for d in health if d["TargetHealth"]["State"] == "healthy")


@AWSRetry.jittered_backoff()
def describe_services(ecs, cluster, names):
    """Active services among names (at most 10, ECS's limit per call)."""
    found = ecs.describe_services(cluster=cluster, services=list(names))["services"]
    return [service for service in found if service.get("status") == "ACTIVE"]


def describe_service(ecs, cluster, name):
    """The active service called name, or None."""
    found = describe_services(ecs, cluster, [name])
    return found[0] if found else None


@AWSRetry.jittered_backoff()
def describe_task_definition(ecs, arn):
    return ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]


@AWSRetry.jittered_backoff()
def update_service(ecs, **kwargs):
    ecs.update_service(**kwargs)


@AWSRetry.jittered_backoff()
def describe_load_balancer(elbv2, name):
    return elbv2.describe_load_balancers(Names=[name])["LoadBalancers"][0]


@AWSRetry.jittered_backoff()
def describe_listeners(elbv2, load_balancer_arn):
    return elbv2.describe_listeners(LoadBalancerArn=load_balancer_arn)["Listeners"]


@AWSRetry.jittered_backoff()
def describe_tags(elbv2, arns):
    return {
        d["ResourceArn"]: {t["Key"]: t["Value"] for t in d["Tags"]}
        for d in elbv2.describe_tags(ResourceArns=arns)["TagDescriptions"]
    }


@AWSRetry.jittered_backoff()
def describe_target_groups(elbv2, names):
    return elbv2.describe_target_groups(Names=names)["TargetGroups"]
