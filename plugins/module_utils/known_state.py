# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run already read under its lease (doc fragment switchyard.bluegreen.known_state): a
revision by its ARN (revisions never change) and the service as read, so the ECS modules of a
promote do not describe them again."""

from __future__ import annotations

import json

from ansible_collections.switchyard.bluegreen.plugins.module_utils.aws import (
    describe_service,
    describe_task_definition,
)

# The fields of a service the ECS modules use: what it runs, its size and where its tasks run.
SERVICE_FIELDS = (
    "serviceName",
    "taskDefinition",
    "desiredCount",
    "networkConfiguration",
    "platformVersion",
    "capacityProviderStrategy",
    "launchType",
)

# The options of doc fragment switchyard.bluegreen.known_state (known_revisions) and its
# .service (known_service).
KNOWN_REVISIONS_OPTION = dict(
    type="list",
    elements="dict",
    default=[],
    no_log=False,
    options=dict(
        arn=dict(type="str", required=True),
        revision=dict(type="int", required=True),
        body=dict(type="dict", required=True),
        tags=dict(type="list", elements="dict", default=[]),
    ),
)
KNOWN_SERVICE_OPTION = dict(type="dict")

# Above this, the revisions a release would keep in the lease are not kept (the item's limit is
# 400 KB): the next state read describes them.
REVISIONS_MAX_BYTES = 100_000


def keepable(revisions, warn):
    """The revisions to keep in the lease: as given, or None (those kept so far stay) when too
    large, with a warning through warn."""
    if revisions is not None and len(json.dumps(revisions)) > REVISIONS_MAX_BYTES:
        warn(
            f"The revisions to keep in the lease exceed {REVISIONS_MAX_BYTES} bytes; they are not kept, and"
            " the next run reads them from ECS."
        )
        return None
    return revisions


def service_fields(service):
    """The part of a described service that known_service carries."""
    return {field: service[field] for field in SERVICE_FIELDS if field in service}


def entry(described, body, tags):
    """A revision as known_revisions takes it: a described or registered one's ARN and number,
    its registrable body and tags."""
    return {"arn": described["taskDefinitionArn"], "revision": described["revision"], "body": body, "tags": tags}


def known(arn, body, tags, known_revisions):
    """The revision of arn as known_revisions takes it: from its body when the run has it (a
    revision's ARN ends in its number), else from known_revisions; None when neither has it."""
    if body is not None:
        return entry({"taskDefinitionArn": arn, "revision": int(arn.rsplit(":", 1)[1])}, body, tags or [])
    return next((kept for kept in known_revisions or [] if kept["arn"] == arn), None)


def revision(ecs, task_definition, known):
    """(body, tags) of a revision: from known (alb_bluegreen_info's revisions) when named there by
    its ARN, else described."""
    for kept in known or []:
        if kept["arn"] == task_definition:
            return dict(kept["body"], taskDefinitionArn=kept["arn"], revision=kept["revision"]), kept["tags"]
    return describe_task_definition(ecs, task_definition)


def service(ecs, cluster, name, known):
    """The service called name: known when given (read under the run's lease), else described
    (None when it does not exist)."""
    if known and known.get("serviceName", name) == name:
        return known
    return describe_service(ecs, cluster, name)
