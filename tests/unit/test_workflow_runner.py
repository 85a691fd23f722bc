"""tests/workflow_runner.py: GitHub expressions, job conditions and steps, without AWS."""

from __future__ import annotations

import pytest

from tests.conftest import REPO
from tests.workflow_runner import Runner, WorkflowError, condition, evaluate, substitute

CONTEXT = {"github": {"ref": "refs/heads/main"}, "inputs": {"environment": "production"}, "vars": {}}


def test_expressions_read_as_github_reads_them():
    assert evaluate("github.ref == 'refs/heads/main'", CONTEXT) is True
    assert evaluate("github.ref != 'refs/heads/main' || inputs.environment == 'production'", CONTEXT) is True
    assert evaluate("!inputs.missing && true", CONTEXT) is True
    assert substitute("roll back ${{ inputs.environment }}${{ vars.NONE }}", CONTEXT) == "roll back production"
    assert condition("${{ github.ref == 'refs/heads/develop' }}", CONTEXT) is False
    assert condition(None, CONTEXT) is True


def test_an_expression_it_cannot_read_is_an_error():
    with pytest.raises(WorkflowError, match="does not read"):
        evaluate("contains(github.ref, 'main')", CONTEXT)


def runner(tmp_path, **extra):
    return Runner(checkout=REPO, github=CONTEXT["github"], variables={}, credentials={}, **extra)


def test_jobs_skip_on_their_if_and_on_needs_that_did_not_succeed(tmp_path):
    deploy = runner(tmp_path)
    assert deploy.run_job("deploy.yml", "build").skipped, "build runs on develop only"
    assert deploy.run_job("deploy.yml", "staging", needs={"build": {"result": "skipped"}}).skipped


def test_an_action_it_does_not_model_is_an_error(tmp_path):
    # The production job assumes a role the runner was given no credentials for.
    with pytest.raises(WorkflowError, match="has no credentials here"):
        runner(tmp_path, stand_ins={"Terraform and the virtualenv": lambda step, env: {}}).run_job(
            "deploy.yml", "production"
        )
