"""SANDBOX ONLY: what the AWS API emulator does not do by itself, done through its public API.

Real ECS registers a service's task addresses in its target group, and a real ALB publishes
request and 5xx counts to CloudWatch. The emulator (moto) does neither, so this loop does both,
once a tick, for every ECS service attached to a target group:

- tasks: ECS starts tasks until runningCount reaches desiredCount; the emulator only does so
  when the desired count is updated, so a service created at N tasks is nudged once.
- targets: a service with N desired tasks gets N IP targets in its target group (the emulator
  reports registered IP targets healthy). An image whose tag contains "unhealthy" never gets any,
  which is how a release that fails its health checks looks from outside.
- metrics: every target group the production listener (tag Role=production) forwards to receives
  a share of REQUESTS_PER_TICK by its weight; a tag such as "v3-5xx-2.5" makes 2.5 % of them 5xx.

Run: python scripts/sandbox_harness.py --endpoint http://127.0.0.1:4566 [--tick 1]
Never point this at a real AWS account: it refuses any endpoint that is not loopback.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import sys
import time
from datetime import UTC, datetime
from urllib.parse import urlparse

import boto3

REQUESTS_PER_TICK = 1000
ERROR_TAG = re.compile(r"5xx-(\d+(?:\.\d+)?)")


def image_tag(image: str) -> str:
    """The tag of an image reference (a digest-only reference has none)."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else ""


def healthy_image(image: str) -> bool:
    return "unhealthy" not in image_tag(image)


def error_percent(image: str) -> float:
    match = ERROR_TAG.search(image_tag(image))
    return float(match.group(1)) if match else 0.0


def clients(endpoint: str):
    kwargs = dict(
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="SANDBOXHARNESS",  # tells its calls apart from the deployment's
        aws_secret_access_key="sandbox-not-a-secret",
    )
    return (boto3.client(s, **kwargs) for s in ("ecs", "elbv2", "ec2", "cloudwatch"))


class Harness:
    def __init__(self, endpoint: str):
        self.ecs, self.elbv2, self.ec2, self.cloudwatch = clients(endpoint)

    def services(self):
        """(service, image) for every service attached to a target group."""
        for cluster_arn in self.ecs.list_clusters()["clusterArns"]:
            arns = self.ecs.list_services(cluster=cluster_arn)["serviceArns"]
            for start in range(0, len(arns), 10):
                described = self.ecs.describe_services(cluster=cluster_arn, services=arns[start : start + 10])[
                    "services"
                ]
                for service in described:
                    if not service.get("loadBalancers"):
                        continue
                    task = self.ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
                    yield service, task["containerDefinitions"][0]["image"]

    def addresses(self, service, count: int) -> list[str]:
        """Task addresses inside the service's first subnet (blue in its lower half, green in the
        upper), new ones for each task definition revision, as ECS starts new tasks for a new
        revision and stops the old ones."""
        subnet_id = service["networkConfiguration"]["awsvpcConfiguration"]["subnets"][0]
        cidr = self.ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["CidrBlock"]
        hosts = list(ipaddress.ip_network(cidr).hosts())
        half = len(hosts) // 2
        count = min(count, half)
        revision = int(service["taskDefinition"].rsplit(":", 1)[1])
        base = 0 if service["serviceName"].endswith("blue") else half
        start = base + (revision * 8) % (half - count + 1)
        return [str(host) for host in hosts[start : start + count]]

    def start_tasks(self, service) -> None:
        if service["runningCount"] != service["desiredCount"]:
            self.ecs.update_service(
                cluster=service["clusterArn"],
                service=service["serviceName"],
                desiredCount=service["desiredCount"],
            )

    def sync_targets(self, service, image) -> None:
        binding = service["loadBalancers"][0]
        group = binding["targetGroupArn"]
        wanted = set()
        if healthy_image(image) and service["desiredCount"] > 0:
            wanted = set(self.addresses(service, service["desiredCount"]))
        health = self.elbv2.describe_target_health(TargetGroupArn=group)
        present = {d["Target"]["Id"] for d in health["TargetHealthDescriptions"]}
        port = binding["containerPort"]
        if wanted - present:
            targets = [{"Id": ip, "Port": port} for ip in sorted(wanted - present)]
            self.elbv2.register_targets(TargetGroupArn=group, Targets=targets)
        if present - wanted:
            targets = [{"Id": ip, "Port": port} for ip in sorted(present - wanted)]
            self.elbv2.deregister_targets(TargetGroupArn=group, Targets=targets)

    def production_weights(self):
        """(load balancer arn suffix, {target group arn: weight}) per production listener."""
        for lb in self.elbv2.describe_load_balancers()["LoadBalancers"]:
            suffix = lb["LoadBalancerArn"].split(":loadbalancer/", 1)[1]
            for listener in self.elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
                tags = self.elbv2.describe_tags(ResourceArns=[listener["ListenerArn"]])
                pairs = tags["TagDescriptions"][0]["Tags"] if tags["TagDescriptions"] else []
                if {"Key": "Role", "Value": "production"} not in pairs:
                    continue
                action = listener["DefaultActions"][0]
                groups = (action.get("ForwardConfig") or {}).get("TargetGroups")
                weights = (
                    {g["TargetGroupArn"]: g.get("Weight", 1) for g in groups}
                    if groups
                    else {action["TargetGroupArn"]: 1}
                )
                yield suffix, weights

    def publish_metrics(self, images_by_group: dict[str, str]) -> None:
        now = datetime.now(UTC)
        for lb_suffix, weights in self.production_weights():
            total = sum(weights.values()) or 1
            data = []
            for group, weight in weights.items():
                requests = REQUESTS_PER_TICK * weight // total
                if requests == 0:
                    continue
                errors = round(requests * error_percent(images_by_group.get(group, "")) / 100)
                dimensions = [
                    {"Name": "LoadBalancer", "Value": lb_suffix},
                    {"Name": "TargetGroup", "Value": group.split(":", 5)[5]},
                ]
                counts = (("RequestCount", requests), ("HTTPCode_Target_5XX_Count", errors))
                for name, value in counts:
                    data.append(
                        {
                            "MetricName": name,
                            "Dimensions": dimensions,
                            "Timestamp": now,
                            "Value": value,
                            "Unit": "Count",
                        }
                    )
            if data:
                self.cloudwatch.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data)

    def tick(self) -> None:
        images_by_group = {}
        for service, image in self.services():
            self.start_tasks(service)
            self.sync_targets(service, image)
            images_by_group[service["loadBalancers"][0]["targetGroupArn"]] = image
        self.publish_metrics(images_by_group)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--tick", type=float, default=1.0, help="seconds between passes")
    args = parser.parse_args()
    if urlparse(args.endpoint).hostname not in ("127.0.0.1", "localhost"):
        print(f"refusing {args.endpoint}: it drives local emulators only", file=sys.stderr)
        return 2
    harness = Harness(args.endpoint)
    while True:
        try:
            harness.tick()
        except Exception as error:  # noqa: BLE001 - keep going while the stack is being built
            print(f"harness: {error}", file=sys.stderr)
        time.sleep(args.tick)


if __name__ == "__main__":
    sys.exit(main())
