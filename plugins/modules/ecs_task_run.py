#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
module: ecs_task_run
short_description: Run a one-off ECS task the way a service runs, and wait for it to exit
version_added: 0.4.0
description:
  - Runs one task of I(task_definition), or of a copy of it that changes only the image of the
    first container (I(image); a new revision is registered unless the given one is that copy
    already), in the network, launch type and platform of the ECS service I(service), with a
    command and environment overrides. A database migration of a release runs so, before the
    release takes traffic.
  - Waits until the task has stopped, then fails unless its essential container exited with
    code 0. The result names the task, its exit code and stop reason, and its log stream
    (awslogs) with the stream's last lines. A task still running at I(wait_timeout) is left
    running (stopping a migration halfway would be worse) and the failure says so.
  - A one-off task is not idempotent, so every run outside check mode runs a task and reports
    C(changed). In check mode nothing is registered or run.
author:
  - switchyard contributors (@switchyard)
options:
  cluster:
    description: Name or ARN of the ECS cluster.
    type: str
    required: true
  service:
    description: The ECS service whose network configuration, launch type and platform the task uses.
    type: str
    required: true
  task_definition:
    description: Task definition (ARN or C(family:revision)) to run, or with I(image) to copy.
    type: str
    required: true
  image:
    description: Image of the first container of the task (the application), by digest where known.
    type: str
  command:
    description: Command override of the first container.
    type: list
    elements: str
    required: true
  environment:
    description: Environment overrides of the first container (names to values). Never secrets.
    type: dict
    default: {}
  task_role_arn:
    description:
      - Task role of this task only, in place of the task definition's (RunTask's
        C(overrides.taskRoleArn)). A migration task reads the schema owner's credentials so,
        which the service's own role may not read.
    type: str
    version_added: 0.4.0
  started_by:
    description: The task's C(startedBy), which names who ran it in ECS's console and events.
    type: str
    default: switchyard
  wait_timeout:
    description: Seconds to wait for the task to stop.
    type: int
    default: 900
  poll_seconds:
    description: Seconds between two looks at the task.
    type: float
    default: 5
  log_lines:
    description: How many of the last lines of the task's log stream to return.
    type: int
    default: 20
extends_documentation_fragment:
  - switchyard.bluegreen.fence
  - switchyard.bluegreen.known_state
  - switchyard.bluegreen.known_state.service
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Migrate the database with the new image, before it takes traffic
  switchyard.bluegreen.ecs_task_run:
    cluster: "{{ deployment.cluster_name }}"
    service: "{{ deployment.service_names.green }}"
    task_definition: "{{ state.colours.blue.task_definition }}"
    image: registry.example.com/app@sha256:0123abcd
    command: [python, -m, switchyard_app.migrate, apply, --release, registry.example.com/app@sha256:0123abcd]
  register: migrated
"""

RETURN = r"""
lost:
  description: The run no longer holds its deployment lease (O(lease)); nothing was changed.
  returned: when the lease was lost
  type: bool
  sample: true
lease:
  description: The lease as found when it was lost (who took it, for what).
  returned: when the lease was lost
  type: dict
task_definition_arn:
  description: The revision the task ran (in check mode, the one it would run).
  returned: always
  type: str
  sample: arn:aws:ecs:us-east-1:123456789012:task-definition/app:4
revision:
  description: >-
    The revision the task ran as O(known_revisions) takes it (ARN, number, registrable body, tags),
    so a release of the same revision does not read it again; null for a copy check mode did not register.
  returned: always
  type: dict
  sample: {"arn": "arn:aws:ecs:us-east-1:123456789012:task-definition/app:4", "revision": 4, "body": {}, "tags": []}
registered:
  description: Whether a revision was (in check mode, would be) registered for I(image).
  returned: always
  type: bool
  sample: true
task_arn:
  description: The task that ran; empty in check mode.
  returned: always
  type: str
  sample: arn:aws:ecs:us-east-1:123456789012:task/app/0123456789abcdef
exit_code:
  description: Exit code of the first container; null when it has none (it never started, or still runs).
  returned: always
  type: int
  sample: 0
stopped_reason:
  description: Why ECS stopped the task.
  returned: always
  type: str
  sample: Essential container in task exited
log_stream:
  description: C(group:stream) of the container's awslogs stream; empty without awslogs.
  returned: always
  type: str
  sample: /ecs/app:app/app/0123456789abcdef
log_tail:
  description: The last I(log_lines) lines the container logged.
  returned: always
  type: list
  elements: str
  sample: ['{"switchyard_migrations": {"applied": [], "head": "0003.drop-visits-client"}}']
seconds:
  description: From running the task to seeing it stopped.
  returned: always
  type: float
  sample: 41.2
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils import known_state
from ansible_collections.switchyard.bluegreen.plugins.module_utils.aws import (
    TaskNotStartedError,
    client,
    register_task_definition,
    registrable_fields,
    run_task,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.lease import LeaseError, LeaseLost
from ansible_collections.switchyard.bluegreen.plugins.module_utils.fence import FENCE_OPTION, fence
from ansible_collections.switchyard.bluegreen.plugins.module_utils.health import poll_problem
from ansible_collections.switchyard.bluegreen.plugins.module_utils.known_state import (
    KNOWN_REVISIONS_OPTION,
    KNOWN_SERVICE_OPTION,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.one_off import started, watch
from ansible_collections.switchyard.bluegreen.plugins.module_utils.task_definition import (
    registrable,
    target_containers,
    with_image,
)


def revision_to_run(module, ecs):
    """(ARN, body, registered, revision): the given revision, or its copy with the image
    registered; revision as known_revisions takes it (None for a copy check mode did not register)."""
    params = module.params
    source, tags = known_state.revision(ecs, params["task_definition"], params["known_revisions"])
    accepted = registrable_fields(ecs)
    body = registrable(source, accepted)
    if params["image"]:
        body = with_image(body, params["image"], target_containers(body, []))
    if registrable(source, accepted) == body:
        return source["taskDefinitionArn"], source, False, known_state.entry(source, body, tags)
    if module.check_mode:
        return f"{source['family']}:(new revision)", body, True, None
    registered = register_task_definition(ecs, body, tags)
    return (
        registered["taskDefinitionArn"],
        registered,
        True,
        known_state.entry(registered, registrable(registered, accepted), tags),
    )


def run_request(params, service, task_definition_arn, container):
    """RunTask's arguments: the service's placement, the overrides of the first container."""
    overrides = {"name": container, "command": params["command"]}
    if params["environment"]:
        overrides["environment"] = [{"name": k, "value": str(v)} for k, v in params["environment"].items()]
    task_overrides = {"containerOverrides": [overrides]}
    if params["task_role_arn"]:
        task_overrides["taskRoleArn"] = params["task_role_arn"]
    request = dict(
        cluster=params["cluster"],
        taskDefinition=task_definition_arn,
        count=1,
        startedBy=params["started_by"][:128],
        overrides=task_overrides,
    )
    for field in ("networkConfiguration", "platformVersion", "capacityProviderStrategy"):
        if service.get(field):
            request[field] = service[field]
    if not service.get("capacityProviderStrategy"):
        request["launchType"] = service.get("launchType") or "FARGATE"
    return request


def run(module, ecs, logs):
    params = module.params
    service = known_state.service(ecs, params["cluster"], params["service"], params["known_service"])
    if service is None:
        module.fail_json(
            msg=f"ECS service {params['service']} does not exist in cluster {params['cluster']}."
            " Run playbooks/provision.yml for this environment first. Nothing was run."
        )
    # The run's lease, renewed with its journal before anything is written (a revision included).
    fence(params["lease"], lambda: client(module, "dynamodb"), check_mode=module.check_mode)()
    arn, body, registered, known = revision_to_run(module, ecs)
    container = body["containerDefinitions"][0]
    result = dict(
        changed=True,
        task_definition_arn=arn,
        registered=registered,
        revision=known,
        task_arn="",
        exit_code=None,
        stopped_reason="",
        log_stream="",
        log_tail=[],
        seconds=0.0,
    )
    if module.check_mode:
        module.exit_json(**result)

    try:
        task = run_task(ecs, run_request(params, service, arn, container["name"]))
    except TaskNotStartedError as e:
        module.fail_json(msg=f"{e}. Nothing ran.", **result)
    watch(module, (ecs, logs), started(task["taskArn"], container), result)


ARGUMENT_SPEC = dict(
    lease=FENCE_OPTION,
    cluster=dict(type="str", required=True),
    service=dict(type="str", required=True),
    task_definition=dict(type="str", required=True),
    image=dict(type="str"),
    command=dict(type="list", elements="str", required=True),
    environment=dict(type="dict", default={}),
    task_role_arn=dict(type="str"),
    started_by=dict(type="str", default="switchyard"),
    wait_timeout=dict(type="int", default=900),
    poll_seconds=dict(type="float", default=5),
    log_lines=dict(type="int", default=20),
    known_revisions=KNOWN_REVISIONS_OPTION,
    known_service=KNOWN_SERVICE_OPTION,
)
VALIDATION = {}


def execute(module):
    """The module's run, given AnsibleAWSModule or the action plugin's ControllerModule."""
    problem = poll_problem(module.params["poll_seconds"])
    if problem:
        module.fail_json(msg=problem)
    try:
        run(module, client(module, "ecs"), client(module, "logs"))
    except LeaseLost as e:
        module.fail_json(msg=str(e), lost=True, lease=e.lease)
    except LeaseError as e:
        module.fail_json(msg=str(e))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


def main():
    execute(AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, **VALIDATION))


if __name__ == "__main__":
    main()
