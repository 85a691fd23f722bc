"""Concurrency of the CD workflows: a deployment is never cut off half-way, a rollback never waits
behind a deployment, and a scheduled finalize can never replace or cancel a pending rollback.

GitHub keeps at most one running and one pending run per concurrency group, and a newly queued run
replaces (cancels) the pending one even with cancel-in-progress: false. So deploy, rollback and
finalize each need a group of their own per environment; who may change an environment at a time is
the deployment lease's job (DynamoDB), not GitHub's. (tests/test_development_env.py checks the
workflows against GitHub's schema and zizmor.)
"""

from __future__ import annotations

import re

import pytest
import yaml

from tests.conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"
ENVIRONMENTS = ("staging", "production")


def jobs(workflow: str) -> dict[str, dict]:
    return yaml.safe_load((WORKFLOWS / workflow).read_text())["jobs"]


def concurrency(workflow: str, job: str) -> dict:
    found = jobs(workflow)[job].get("concurrency")
    assert isinstance(found, dict), f"{workflow}: job {job} has no concurrency group (group and cancel-in-progress)"
    return found


def groups(workflow: str, job: str) -> dict[str, str]:
    """The job's concurrency group for each environment it can run for, with its expression evaluated."""
    template = concurrency(workflow, job)["group"]
    expressions = set(re.findall(r"\$\{\{\s*([^}]*?)\s*\}\}", template))
    assert expressions <= {"inputs.environment", "matrix.environment"}, (
        f"{workflow}: the group {template!r} must depend on the environment only, not on {expressions}"
    )
    return {env: re.sub(r"\$\{\{[^}]*\}\}", env, template) for env in ENVIRONMENTS}


# workflow, job, environment it serves (None: the job's input or matrix), the group per environment
EXPECTED = [
    ("deploy.yml", "staging", "staging", "deploy-staging"),
    ("deploy.yml", "production", "production", "deploy-production"),
    ("rollback.yml", "rollback", None, "rollback-{environment}"),
    ("finalize.yml", "finalize", None, "finalize-{environment}"),
]


def job_id(case: tuple) -> str:
    return f"{case[0]}:{case[1]}"


@pytest.mark.parametrize(("workflow", "job", "environment", "group"), EXPECTED, ids=[job_id(c) for c in EXPECTED])
def test_each_workflow_has_its_own_group_per_environment(workflow, job, environment, group):
    actual = groups(workflow, job)
    for env in [environment] if environment else ENVIRONMENTS:
        expected = group.format(environment=env)
        assert actual[env] == expected, f"{workflow}: job {job} for {env} is in {actual[env]!r}, expected {expected!r}"


@pytest.mark.parametrize(("workflow", "job"), [c[:2] for c in EXPECTED], ids=[job_id(c) for c in EXPECTED])
def test_nothing_in_progress_is_ever_cancelled(workflow, job):
    assert concurrency(workflow, job).get("cancel-in-progress") is False, (
        f"{workflow}: job {job} must set cancel-in-progress: false (a promote, rollback or finalize cut off "
        "half-way leaves the environment between colours)"
    )


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_deploy_rollback_and_finalize_never_share_a_group(environment):
    """A shared group would let one queued run replace another's pending run: a finalize a rollback."""
    owners: dict[str, str] = {}
    for workflow, job, served, _ in EXPECTED:
        if served not in (None, environment):
            continue
        group = groups(workflow, job)[environment]
        assert group not in owners, f"{workflow} ({job}) shares {group!r} with {owners[group]} in {environment}"
        owners[group] = f"{workflow} ({job})"


def test_every_job_that_runs_a_playbook_is_in_a_group():
    """A new job that runs a playbook against an environment must join a concurrency group too."""
    for workflow in sorted(p.name for p in WORKFLOWS.glob("*.yml")):
        for name, job in jobs(workflow).items():
            runs_playbook = any("ansible-playbook" in step.get("run", "") for step in job.get("steps", []))
            if runs_playbook and "environment" in job:
                assert (workflow, name) in {c[:2] for c in EXPECTED}, (
                    f"{workflow}: job {name} runs a playbook in an environment but is not in EXPECTED here: "
                    "give it a concurrency group of its own and add it"
                )
