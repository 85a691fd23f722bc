#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecs_migration_run
short_description: Run a release's migration through the stack's migration runner, and wait for it to exit
version_added: 0.5.0
description:
  - Asks the stack's migration runner (a Lambda function Terraform owns, C(module_utils/migration_runner.py))
    to start the migration task of I(image), then waits until the task has stopped and fails unless
    its container exited with code 0. The result names the task, its exit code and stop reason, and
    its log stream with the stream's last lines.
  - The runner, not the caller, chooses the task definition (the stack's migration family, with its
    fixed command and the migration role) and accepts only an image of the stack's repository; the
    caller needs C(lambda:InvokeFunction) on the runner, C(ecs:DescribeTasks) and C(logs:GetLogEvents),
    and may neither pass the migration role nor run a task itself.
  - A migration is not idempotent, so every run outside check mode starts a task and reports
    C(changed); with I(token), a retried request starts no second task. In check mode the runner is
    invoked as a dry run (it exists and the caller may invoke it), and nothing starts. A task still
    running at I(wait_timeout) is left running and the failure says so.
author:
  - switchyard contributors (@switchyard)
options:
  runner:
    description: Name or ARN of the migration runner function (the deployment contract's C(migration.runner)).
    type: str
    required: true
  cluster:
    description: The ECS cluster the runner starts the task in (the contract's C(cluster_name)).
    type: str
    required: true
  image:
    description: The release's image, which the migration task runs.
    type: str
    required: true
  keep:
    description: The releases that can still run against the database once it is migrated (passed as C(--keep=)).
    type: list
    elements: str
    default: []
  started_by:
    description: The task's C(startedBy), which names who ran it in ECS's console and events.
    type: str
    default: switchyard
  token:
    description:
      - Unique to this migration (the deployment lease's token), so that a request the runner receives twice
        (a retry) starts one task (RunTask's C(clientToken)). Letters, digits, C(-) and C(_), at most 64.
    type: str
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
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Migrate the database with the new image, before it takes traffic
  switchyard.bluegreen.ecs_migration_run:
    runner: "{{ deployment.migration.runner }}"
    cluster: "{{ deployment.cluster_name }}"
    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:0123abcd
    keep: [123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:4567cdef]
  register: migrated
"""

RETURN = r"""
lost:
  description: The run no longer holds its deployment lease (O(lease)); nothing was started.
  returned: when the lease was lost
  type: bool
  sample: true
lease:
  description: The lease as found when it was lost (who took it, for what).
  returned: when the lease was lost
  type: dict
task_definition_arn:
  description: The revision of the migration family the runner ran; empty in check mode.
  returned: always
  type: str
  sample: arn:aws:ecs:us-east-1:123456789012:task-definition/app-migration:4
task_arn:
  description: The task that ran; empty in check mode.
  returned: always
  type: str
  sample: arn:aws:ecs:us-east-1:123456789012:task/app/0123456789abcdef
exit_code:
  description: Exit code of the migration container; null when it has none (it never started, or still runs).
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
  sample: /switchyard/app/service:migration/app/0123456789abcdef
log_tail:
  description: The last I(log_lines) lines the container logged.
  returned: always
  type: list
  elements: str
  sample: ['{"switchyard_migrations": {"applied": [], "head": "0003.drop-visits-client"}}']
seconds:
  description: From the runner's start of the task to seeing it stopped.
  returned: always
  type: float
  sample: 41.2
"""

import json

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AnsibleAWSModule reports the missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils.aws import client
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.lease import LeaseError, LeaseLost
from ansible_collections.switchyard.bluegreen.plugins.module_utils.fence import FENCE_OPTION, fence
from ansible_collections.switchyard.bluegreen.plugins.module_utils.health import poll_problem
from ansible_collections.switchyard.bluegreen.plugins.module_utils.one_off import watch


def invoke(module, functions, dry_run=False):
    """The runner's answer: the task it started, or the module fails with why it started none."""
    params = module.params
    event = {"image": params["image"], "keep": params["keep"], "started_by": params["started_by"][:128]}
    if params["token"]:
        event["token"] = params["token"]
    try:
        response = functions.invoke(
            FunctionName=params["runner"],
            InvocationType="DryRun" if dry_run else "RequestResponse",
            Payload=json.dumps(event).encode(),
            aws_retry=True,
        )
    except is_boto3_error_code("ResourceNotFoundException"):
        module.fail_json(
            msg=f"The migration runner {params['runner']} does not exist. Run playbooks/provision.yml for this"
            " environment first. Nothing was migrated."
        )
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Could not invoke the migration runner {params['runner']}; nothing was migrated")
    if dry_run:
        return None
    answer = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError") or not isinstance(answer, dict):
        module.fail_json(
            msg=f"The migration runner {params['runner']} failed ({response.get('FunctionError') or 'no answer'}):"
            f" {json.dumps(answer)[:500]}. Its log group /aws/lambda/{params['runner']} says why. Nothing was migrated."
        )
    if answer.get("refused"):
        module.fail_json(msg=answer["refused"])
    return answer


def run(module, functions, ecs, logs):
    # The run's lease, renewed with its journal before the runner starts anything.
    fence(module.params["lease"], lambda: client(module, "dynamodb"), check_mode=module.check_mode)()
    result = dict(
        changed=True,
        task_definition_arn="",
        task_arn="",
        exit_code=None,
        stopped_reason="",
        log_stream="",
        log_tail=[],
        seconds=0.0,
    )
    if module.check_mode:
        invoke(module, functions, dry_run=True)
        module.exit_json(**result)
    task = invoke(module, functions)
    if task.get("cluster") and task["cluster"] != module.params["cluster"]:
        module.fail_json(
            msg=f"The migration runner started {task['task_arn']} in cluster {task['cluster']}, not"
            f" {module.params['cluster']}: the deployment contract and the runner disagree. Provision again.",
            **result,
        )
    result["task_definition_arn"] = task["task_definition_arn"]
    where = {"arn": task["task_arn"], "container": task["container"], "log_group": task.get("log_group") or None}
    watch(module, (ecs, logs), {**where, "log_stream": task.get("log_stream") or None}, result)


ARGUMENT_SPEC = dict(
    lease=FENCE_OPTION,
    runner=dict(type="str", required=True),
    cluster=dict(type="str", required=True),
    image=dict(type="str", required=True),
    keep=dict(type="list", elements="str", default=[]),
    started_by=dict(type="str", default="switchyard"),
    token=dict(type="str", no_log=False),
    wait_timeout=dict(type="int", default=900),
    poll_seconds=dict(type="float", default=5),
    log_lines=dict(type="int", default=20),
)
VALIDATION = {}


def execute(module):
    """The module's run, given AnsibleAWSModule or the action plugin's ControllerModule."""
    problem = poll_problem(module.params["poll_seconds"])
    if problem:
        module.fail_json(msg=problem)
    try:
        run(module, client(module, "lambda"), client(module, "ecs"), client(module, "logs"))
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
