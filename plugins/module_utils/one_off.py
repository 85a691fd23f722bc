# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A one-off ECS task watched to its exit, its last log lines read, and the module's result:
what ecs_task_run and ecs_migration_run do once a task runs."""

from __future__ import annotations

import time

from ansible_collections.switchyard.bluegreen.plugins.module_utils.aws import (
    describe_tasks,
    latest_task_log_events,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.task_definition import (
    awslogs_stream,
    task_outcome,
)


def wait_until_stopped(ecs, cluster, task_arn, timeout, poll_seconds):
    """(the task, seconds until it stopped), or (the task, None) when still running at timeout."""
    started = time.monotonic()
    while True:
        # Right after RunTask, ECS may not return the task yet (failure MISSING): look again.
        task = next(iter(describe_tasks(ecs, cluster, [task_arn])), {"taskArn": task_arn})
        if task.get("lastStatus") == "STOPPED":
            return task, time.monotonic() - started
        if time.monotonic() - started >= timeout:
            return task, None
        time.sleep(poll_seconds)


def started(task_arn, container):
    """What watch() needs of a task: its ARN, its container's name and awslogs group and stream."""
    group, stream = awslogs_stream(container, task_arn)
    return {"arn": task_arn, "container": container["name"], "log_group": group, "log_stream": stream}


def watch(module, clients, task, result):
    """Wait for the task (started()), read its log tail, and exit the module: failed unless it exited 0.

    module.params gives cluster, wait_timeout, poll_seconds and log_lines; result is updated with
    task_arn, log_stream, log_tail, seconds, exit_code and stopped_reason. clients: (ecs, logs)."""
    ecs, logs = clients
    params = module.params
    task_arn, group, stream = task["arn"], task.get("log_group"), task.get("log_stream")
    result["task_arn"] = task_arn
    result["log_stream"] = f"{group}:{stream}" if group else ""
    timeout, poll = params["wait_timeout"], params["poll_seconds"]
    stopped, waited = wait_until_stopped(ecs, params["cluster"], task_arn, timeout, poll)
    if group:
        events = latest_task_log_events(logs, group, stream, params["log_lines"])
        result["log_tail"] = [event["message"] for event in sorted(events, key=lambda event: event["timestamp"])]
    result["seconds"] = round(waited or params["wait_timeout"], 1)
    outcome = task_outcome(stopped, task["container"])
    result.update(exit_code=outcome["exit_code"], stopped_reason=outcome["stopped_reason"])
    where = f"Its log stream: {result['log_stream']}." if group else "It has no awslogs stream."
    if waited is None:
        module.fail_json(
            msg=f"Task {task_arn} still runs after {params['wait_timeout']} s; it was left running"
            f" (stopping it halfway could leave its work half done). {where}",
            **result,
        )
    if outcome["problem"]:
        module.fail_json(msg=f"Task {task_arn} {outcome['problem']}. {where}", **result)
    module.exit_json(**result)
