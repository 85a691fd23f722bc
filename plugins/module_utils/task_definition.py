# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A new task definition revision that differs from a live one by its image, and nothing else.

Pure (tests/unit): the set of fields register_task_definition accepts is passed in (the ECS
client's API model knows it, module_utils/aws.registrable_fields).
"""

from __future__ import annotations

import copy

# What describe_task_definition returns that is ECS's bookkeeping, not part of the definition.
READ_ONLY = frozenset(
    (
        "taskDefinitionArn",
        "revision",
        "status",
        "requiresAttributes",
        "compatibilities",
        "registeredAt",
        "registeredBy",
        "deregisteredAt",
        "deleteRequestedAt",
    )
)


class ImageChangeError(ValueError):
    """The requested change does not fit the task definition (for example an unknown container)."""


def registrable(task_definition, accepted):
    """Every field of a described revision that can be registered again, as it is.

    accepted: the fields register_task_definition takes. Everything else (the read-only
    bookkeeping) is dropped; nothing registrable is left behind, so a copy keeps volumes,
    placement constraints, the runtime platform (an ARM64 service stays ARM64), the required
    compatibilities, ephemeral storage and whatever else the revision carries.
    """
    return {
        key: copy.deepcopy(value) for key, value in task_definition.items() if key in accepted and key not in READ_ONLY
    }


def target_containers(body, containers):
    """The names of the containers whose image changes: the given ones, or the first container."""
    names = [container["name"] for container in body.get("containerDefinitions", [])]
    if not names:
        raise ImageChangeError(f"task definition family {body.get('family')} has no container definitions")
    if not containers:
        return [names[0]]
    unknown = [name for name in containers if name not in names]
    if unknown:
        raise ImageChangeError(
            f"task definition family {body.get('family')} has no container named {', '.join(unknown)}"
            f" (containers: {', '.join(names)})"
        )
    return list(containers)


def with_image(body, image, containers):
    """A copy of body whose named containers run image; every other field as it was."""
    changed = copy.deepcopy(body)
    for container in changed["containerDefinitions"]:
        if container["name"] in containers:
            container["image"] = image
    return changed


def images(task_definition):
    """{container name: image} of a task definition."""
    return {c["name"]: c.get("image") for c in task_definition.get("containerDefinitions", [])}


def next_revision_arn(latest_arn, latest_revision):
    """The ARN the next registration in a family will get (what check mode reports)."""
    return f"{latest_arn.rsplit(':', 1)[0]}:{latest_revision + 1}"


def awslogs_stream(container, task_arn):
    """(log group, stream) where the awslogs driver writes a task's container, or (None, None)."""
    log = container.get("logConfiguration") or {}
    options = log.get("options") or {}
    if log.get("logDriver") != "awslogs" or "awslogs-group" not in options:
        return None, None
    task_id = task_arn.rsplit("/", 1)[-1]
    prefix = options.get("awslogs-stream-prefix")
    # awslogs names a task's stream prefix/container/task id (the task id alone without a prefix).
    return options["awslogs-group"], f"{prefix}/{container['name']}/{task_id}" if prefix else task_id


def task_outcome(task, container_name):
    """{exit_code, stopped_reason, problem}: how a stopped task's container ended; problem is None
    only when it exited with code 0."""
    container = next((c for c in task.get("containers", []) if c.get("name") == container_name), {})
    exit_code = container.get("exitCode")
    reason = task.get("stoppedReason") or container.get("reason") or task.get("stopCode") or ""
    if exit_code is None:
        problem = f"stopped without an exit code ({reason or 'no reason given'}): it did not run to its end"
    elif exit_code != 0:
        problem = f"exited with code {exit_code}" + (f" ({reason})" if reason else "")
    else:
        problem = None
    return {"exit_code": exit_code, "stopped_reason": reason, "problem": problem}
