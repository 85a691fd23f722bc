# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migration runner: a small Lambda function Terraform owns (infrastructure/modules/ecs,
migration.tf), the only way a deployment starts a release's migration.

The release role may invoke it, but may neither pass the migration role nor run a task: the
runner starts a copy of the stack's migration task definition (its fixed command, the migration
role, Terraform's) in which only the image changed, and only to an image of the stack's repository
(by digest; the sandbox, which has no registry, allows its tags). It appends --release and one
--keep=<image> per release that can still run, as single arguments: an input cannot become an
option, a command or a role. It returns the task it started; the caller watches it to its exit
(ecs_migration_run).

Where the environment runs only attested images (PROVENANCE, a branch: production's main), the
runner refuses an image whose build record (scripts/image_record.py, written only by the build
and attest roles) lacks that branch's attestation, whoever asks: the release role cannot migrate
with an image the preflight would refuse.

Event: {"image": str, "keep": [str], "started_by": str, "token": str}; token, when given, makes a
retried request start no second task (RunTask's clientToken). Environment (Terraform's): CLUSTER,
TASK_DEFINITION (the template revision's ARN), MIGRATION_ROLE (the task role of its copies),
SUBNETS, SECURITY_GROUPS (comma-separated), ASSIGN_PUBLIC_IP, REPOSITORY (the image repository's
URL), IMAGE_POLICY (digest or tag_or_digest), PROVENANCE (a branch, or empty).
"""

from __future__ import annotations

import json
import logging
import os
import re

from ansible_collections.switchyard.bluegreen.plugins.module_utils.task_definition import (
    READ_ONLY,
    awslogs_stream,
    with_image,
)

LOG = logging.getLogger("switchyard.migration_runner")
LOG.setLevel(logging.INFO)

DIGEST = r"@sha256:[a-f0-9]{64}"
TAG = r":[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
# Any image reference, for the releases that can still run (they may come from elsewhere, such as
# the bootstrap image): no whitespace, no leading dash, at most 255 characters.
ANY_IMAGE = re.compile(rf"^[a-z0-9][a-z0-9._/:-]*(?:{TAG})?(?:{DIGEST})?$")
MAX_KEEP = 10
STARTED_BY = re.compile(r"[A-Za-z0-9 _.:/-]{1,128}")
TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
POLICIES = ("digest", "tag_or_digest")


class Refused(ValueError):
    """The event asks for what the runner does not do; nothing was started."""


def image_pattern(repository, policy):
    """The images the runner accepts: the repository's, by digest (or also by tag)."""
    if policy not in POLICIES:
        raise Refused(f"IMAGE_POLICY is {policy!r}: the stack sets one of {', '.join(POLICIES)}")
    base = re.escape(repository)
    if policy == "digest":
        return re.compile(rf"^{base}{DIGEST}$")
    return re.compile(rf"^{base}(?:{TAG}(?:{DIGEST})?|{DIGEST})$")


def arguments(event, config):
    """(image, the arguments appended to the fixed command, startedBy), or Refused naming each problem."""
    if not isinstance(event, dict):
        raise Refused("the event is not an object with image, keep and started_by")
    problems = []
    unknown = sorted(set(event) - {"image", "keep", "started_by", "token"})
    if unknown:
        problems.append(f"unknown fields {', '.join(unknown)}")
    image = event.get("image")
    wanted = "by digest" if config["IMAGE_POLICY"] == "digest" else "by tag or digest"
    if not isinstance(image, str) or not image_pattern(config["REPOSITORY"], config["IMAGE_POLICY"]).fullmatch(image):
        problems.append(f"image {image!r} is not an image of {config['REPOSITORY']} {wanted}")
    keep = event.get("keep") or []
    if not isinstance(keep, list) or len(keep) > MAX_KEEP:
        problems.append(f"keep must be a list of at most {MAX_KEEP} images")
        keep = []
    bad = [k for k in keep if not isinstance(k, str) or len(k) > 255 or not ANY_IMAGE.fullmatch(k)]
    if bad:
        problems.append(f"keep holds what is not an image reference: {bad!r}")
    started_by = event.get("started_by") or "switchyard migration"
    if not isinstance(started_by, str) or not STARTED_BY.fullmatch(started_by):
        problems.append("started_by must be 1 to 128 letters, digits, spaces or _.:/-")
    token = event.get("token")
    if token is not None and (not isinstance(token, str) or not TOKEN.fullmatch(token)):
        problems.append("token must be 1 to 64 letters, digits, - or _")
    if problems:
        raise Refused("; ".join(problems))
    extra = ["--release", image] + [f"--keep={k}" for k in dict.fromkeys(keep) if k != image]
    # ECS's startedBy takes letters, digits, -, / and _ only.
    return image, extra, re.sub(r"[^A-Za-z0-9_/-]", "-", started_by), token


def provenance_problem(ssm, image, branch):
    """Why image may not run where only branch's builds run, or None (scripts/image_record.py)."""
    found = re.fullmatch(r"[^/]+/([a-z0-9._/-]+)@sha256:([a-f0-9]{64})", image)
    if not found:
        return f"image {image!r} is not by digest, so nothing attests it"
    name = f"/switchyard/attestations/{found[1]}/{branch}/{found[2]}"
    try:
        attested = json.loads(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return f"nothing attests that a commit on {branch} built {image} ({name} is missing)"
    if not isinstance(attested, dict) or attested.get("image") != image:
        return f"{name} does not attest {image}"
    return None


def migration_revision(ecs, config, image):
    """The revision to run: the template with the image and the migration role, registered unless
    the family's latest revision is that very copy already (a rerun registers nothing)."""
    template = ecs.describe_task_definition(taskDefinition=config["TASK_DEFINITION"])["taskDefinition"]
    accepted = frozenset(ecs.meta.service_model.operation_model("RegisterTaskDefinition").input_shape.members)

    def registrable(revision):
        return {k: v for k, v in revision.items() if k in accepted and k not in READ_ONLY}

    body = with_image(registrable(template), image, [template["containerDefinitions"][0]["name"]])
    body["taskRoleArn"] = config["MIGRATION_ROLE"]
    latest = ecs.describe_task_definition(taskDefinition=template["family"])["taskDefinition"]
    if registrable(latest) == body:  # exactly the copy: a revision someone else made differs
        return latest
    return ecs.register_task_definition(**body)["taskDefinition"]


def handle(event, environ, client):
    """Start the migration task of event's image; {task_arn, ...} or {refused: why}."""
    keys = ("CLUSTER", "TASK_DEFINITION", "MIGRATION_ROLE", "REPOSITORY", "IMAGE_POLICY", "PROVENANCE")
    config = {key: environ.get(key, "") for key in keys}
    try:
        image, extra, started_by, token = arguments(event, config)
        problem = config["PROVENANCE"] and provenance_problem(client("ssm"), image, config["PROVENANCE"])
        if problem:
            raise Refused(problem)
    except Refused as e:
        LOG.warning("refused: %s", e)
        return {"refused": f"The migration runner refused the request: {e}. Nothing was started."}
    ecs = client("ecs")
    revision = migration_revision(ecs, config, image)
    container = revision["containerDefinitions"][0]
    network = {
        "subnets": [s for s in environ.get("SUBNETS", "").split(",") if s],
        "securityGroups": [s for s in environ.get("SECURITY_GROUPS", "").split(",") if s],
        "assignPublicIp": environ.get("ASSIGN_PUBLIC_IP") or "DISABLED",
    }
    response = ecs.run_task(
        cluster=config["CLUSTER"],
        taskDefinition=revision["taskDefinitionArn"],
        count=1,
        launchType="FARGATE",
        startedBy=started_by,
        networkConfiguration={"awsvpcConfiguration": network},
        # The template's own command, with the release's arguments: the only override.
        overrides={"containerOverrides": [{"name": container["name"], "command": container["command"] + extra}]},
        **({"clientToken": token} if token else {}),
    )
    if not response.get("tasks"):
        reasons = "; ".join(f"{f.get('arn', '')} {f.get('reason', '')}".strip() for f in response.get("failures", []))
        return {"refused": f"ECS started no migration task: {reasons or 'no reason given'}. Nothing ran."}
    task_arn = response["tasks"][0]["taskArn"]
    group, stream = awslogs_stream(container, task_arn)
    LOG.info("started %s of %s for %s", task_arn, revision["taskDefinitionArn"], image)
    return {
        "task_arn": task_arn,
        "task_definition_arn": revision["taskDefinitionArn"],
        "cluster": config["CLUSTER"],
        "container": container["name"],
        "log_group": group or "",
        "log_stream": stream or "",
    }


def _client(service):
    import boto3  # noqa: PLC0415 - only the handler needs boto3
    from botocore.config import Config  # noqa: PLC0415

    return boto3.client(service, config=Config(retries={"mode": "adaptive", "max_attempts": 10}))


def lambda_handler(event, context):  # noqa: ARG001 - Lambda's signature
    return handle(event, os.environ, _client)
