"""SANDBOX ONLY: the AWS API emulator (moto's server), plus the one-off task its ECS cannot run.

moto runs no container: a task started by RunTask stops with exit code 0 and logs nothing. The
one-off tasks of a deployment (RunTask with a command override: a release's migration) are
played here, in the emulator's own process, since only here can a container's exit code be set.
Like the sandbox harness, it plays the sample service:

- `python -m switchyard_app.migrate apply --release R --keep K...` runs the sample service's own
  migration rules (app/switchyard_app) against a database kept in memory for each cluster: it
  applies the release's pending migrations, or refuses a contract migration that a kept release
  still needs (or a release older than a contract migration applied), and exits as the real
  command does (0, or 3 refused), logging its summary line.
- markers in the image tag: "migration-fails" makes the migration fail as a refused statement
  would (exit 1); "schema-2" makes the release ship only the first 2 migrations.
- the lines go to the container's awslogs stream (prefix/container/task id), as ECS's driver
  writes them; any other command exits 0 with one line saying nothing ran.

moto runs no Lambda function without Docker either: the stack's migration runner (a function whose
handler is module_utils/migration_runner.py) is run here, in the emulator's process, with the very
code of its package and the function's environment, calling this emulator back as AWS would.

And it answers an S3 bucket's default Object Lock retention as S3 does (only Days or Years).

With SWITCHYARD_EMULATOR_IAM=enforce, an IAM user's calls are checked against its policies the way
AWS checks them (sandbox/sandbox_iam.py).

Run: python sandbox/sandbox_emulator.py -H 127.0.0.1 -p 4566   (moto.server's own arguments)
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys
import time
from pathlib import Path

import boto3
from moto import server
from moto.awslambda.models import LambdaBackend
from moto.ecs.models import EC2ContainerServiceBackend
from moto.logs.models import logs_backends
from moto.s3.models import S3Backend

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "app"))
from switchyard_app import migrate, schema  # noqa: E402 - the sample service, from its directory

SCHEMA_TAG = re.compile(r"schema-(\d+)")
# cluster ARN -> {"applied": [ids], "heads": {release: head}, "contracts": {migration: release}}
DATABASES: dict[str, dict] = {}


def migration_outcome(database: dict, image: str, argv: list[str]) -> tuple[int, list[str]]:
    """(exit code, log lines) of the sample service's migrate command in this image."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--release", required=True)
    parser.add_argument("--keep", action="append", default=[])
    arguments, _ = parser.parse_known_args(argv)
    if "migration-fails" in image:
        error = "migrate: DatabaseError: the sandbox plays a migration the database refuses ('migration-fails')"
        return 1, [error, json.dumps({"switchyard_migrations": {"error": error[len("migrate: ") :]}})]
    shipped = schema.shipped()
    count = SCHEMA_TAG.search(image)
    shipped = shipped[: int(count.group(1))] if count else shipped
    ids = [migration.id for migration in shipped]
    pending = [migration for migration in shipped if migration.id not in database["applied"]]
    keep = [release for release in dict.fromkeys(arguments.keep) if release and release != arguments.release]
    refusal = migrate.older_release_refusal(arguments.release, ids, database["contracts"]) or migrate.contract_refusal(
        ids, pending, {release: database["heads"].get(release) for release in keep}
    )
    if refusal:
        return migrate.REFUSED, [f"migrate: {refusal}", json.dumps({"switchyard_migrations": {"error": refusal}})]
    database["applied"].extend(migration.id for migration in pending)
    database["contracts"].update({m.id: arguments.release for m in pending if m.phase == "contract"})
    head = ids[-1] if ids else None
    if head:
        database["heads"][arguments.release] = head
    summary = {
        "release": arguments.release,
        "applied": [{"id": migration.id, "phase": migration.phase, "seconds": 0.01} for migration in pending],
        "head": head,
        "seconds": 0.01 * len(pending),
    }
    return 0, [json.dumps({"switchyard_migrations": summary})]


def write_log(backend, container_definition: dict, task, lines: list[str]) -> None:
    options = (container_definition.get("logConfiguration") or {}).get("options") or {}
    group, prefix = options.get("awslogs-group"), options.get("awslogs-stream-prefix")
    if not group:
        return
    stream = f"{prefix}/{container_definition['name']}/{task.id}" if prefix else task.id
    logs = logs_backends[backend.account_id][backend.region_name]
    logs.create_log_stream(group, stream)
    now = int(time.time() * 1000)
    logs.put_log_events(group, stream, [{"timestamp": now + i, "message": line} for i, line in enumerate(lines)])


def play_one_off(backend, task, task_definition) -> None:
    overrides = (task.overrides.get("containerOverrides") or [{}])[0]
    command = overrides.get("command")
    if not command:
        return  # a service's task: the sandbox harness plays those
    definition = task_definition.container_definitions[0]
    image = definition.get("image", "")
    if "switchyard_app.migrate" in command and "apply" in command:
        database = DATABASES.setdefault(task.cluster_arn, {"applied": [], "heads": {}, "contracts": {}})
        code, lines = migration_outcome(database, image, command[command.index("apply") + 1 :])
    else:
        code, lines = 0, [f"sandbox: no container runs here; {' '.join(command)} exits 0"]
    task.containers[0].exitCode = code
    task.stopped_reason = "Essential container in task exited"
    write_log(backend, definition, task, lines)


_run_task = EC2ContainerServiceBackend.run_task


def run_task(self, cluster_str, task_definition_str, *args, **kwargs):
    tasks = _run_task(self, cluster_str, task_definition_str, *args, **kwargs)
    task_definition = self.describe_task_definition(task_definition_str)
    for task in tasks:
        play_one_off(self, task, task_definition)
    return tasks


_requirements = EC2ContainerServiceBackend._calculate_task_resource_requirements


def requirements(task_definition):
    """moto adds up memory per container, and fails when a Fargate revision sets it per task only
    (as ECS allows, and as ours does): such a container counts for none here."""
    counted = copy.copy(task_definition)
    counted.container_definitions = [
        c if c.get("memory") or c.get("memoryReservation") or c.get("Memory") else {**c, "memory": 0}
        for c in task_definition.container_definitions
    ]
    return _requirements(counted)


RUNNER_HANDLER = "ansible_collections/switchyard/bluegreen/plugins/module_utils/migration_runner.lambda_handler"
_invoke = LambdaBackend.invoke


def invoke(self, function_name, qualifier, body, headers, response_headers):  # noqa: PLR0917 - moto's signature
    """The migration runner's handler, run here; any other function as moto answers it."""
    function = self.get_function(function_name, qualifier)
    if function.handler != RUNNER_HANDLER:
        return _invoke(self, function_name, qualifier, body, headers, response_headers)
    if headers.get("X-Amz-Invocation-Type") == "DryRun":  # may it be invoked: yes, and nothing runs
        response_headers["Content-Length"] = "0"
        return b""
    if str(REPO / ".collections") not in sys.path:
        sys.path.insert(0, str(REPO / ".collections"))
    from ansible_collections.switchyard.bluegreen.plugins.module_utils import migration_runner  # noqa: PLC0415

    endpoint = f"http://127.0.0.1:{os.environ['MOTO_PORT']}"

    def client(service):
        # The account's own keys (no IAM user's): the runner's role is checked by its policy's tests.
        return boto3.client(service, endpoint_url=endpoint, region_name=self.region_name,
                            aws_access_key_id="runner", aws_secret_access_key="runner")  # fmt: skip

    try:
        answer = migration_runner.handle(json.loads(body or "{}"), function.environment_vars, client)
    except Exception as error:  # noqa: BLE001 - reported as Lambda reports an unhandled error
        response_headers["x-amz-function-error"] = "Unhandled"
        answer = {"errorType": type(error).__name__, "errorMessage": str(error)}
    payload = json.dumps(answer).encode()
    response_headers["Content-Length"] = str(len(payload))
    return payload


_object_lock_configuration = S3Backend.get_object_lock_configuration


def object_lock_configuration(self, bucket_name):
    """moto answers a default retention of 30 days as {Days: 30, Years: 0}; S3 names only the one
    that is set (amazon.aws.s3_bucket would otherwise rewrite it at every run)."""
    enabled, mode, days, years = _object_lock_configuration(self, bucket_name)
    return enabled, mode, days or None, years or None


EC2ContainerServiceBackend.run_task = run_task
LambdaBackend.invoke = invoke
S3Backend.get_object_lock_configuration = object_lock_configuration
EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(requirements)

if __name__ == "__main__":
    if os.environ.get("SWITCHYARD_EMULATOR_IAM") == "enforce":
        import sandbox_iam  # noqa: PLC0415 - beside this script

        sandbox_iam.install()  # an IAM user's calls are checked as AWS checks them
    server.main(sys.argv[1:])
