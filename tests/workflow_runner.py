"""Runs the jobs of .github/workflows/*.yml offline, the way GitHub Actions would, without Docker.

A job's `run:` steps execute in order with bash -e (GitHub's default shell) in a checkout, with
the job's and the step's `env:`, GITHUB_OUTPUT, and `${{ }}` expressions resolved from `github`,
`vars`, `inputs`, `matrix`, `needs` and `steps`. `uses:` steps have local equivalents:
- actions/checkout: the checkout is already there (the runner's `checkout` directory);
- actions/setup-python: the interpreter of this test run;
- aws-actions/configure-aws-credentials: the credentials the caller names for the role, with the
  region, in the environment of the later steps.
Steps the test machine cannot or need not run are replaced by name through `stand_ins`: a
function of (the step, the job's environment) that returns the step's outputs (the image build and
push, which needs Docker, answers with a digest; the set-up of Terraform and the virtualenv is done
already). Anything else (an unknown action, an expression it cannot read) is an error, so a change
to a workflow that the runner does not model fails the test instead of being skipped.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
LOCAL_ACTIONS = ("actions/checkout@", "actions/setup-python@")
CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials@"
LITERALS = {"true": True, "false": False, "null": None}


class WorkflowError(Exception):
    """The workflow does something the runner does not model, or a step failed."""


def evaluate(expression: str, context: dict):
    """A GitHub expression: property paths, 'strings', numbers, ==, !=, &&, || and !."""
    python = expression.replace("&&", " and ").replace("||", " or ")
    python = re.sub(r"!(?!=)", " not ", python)

    def value_of(node):  # noqa: PLR0911 - one return per kind of node
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return LITERALS[node.id] if node.id in LITERALS else context.get(node.id)
        if isinstance(node, ast.Attribute):
            parent = value_of(node.value)
            return parent.get(node.attr) if isinstance(parent, dict) else None
        if isinstance(node, ast.BoolOp):
            values = [value_of(v) for v in node.values]
            if isinstance(node.op, ast.And):
                return next((v for v in values if not v), values[-1])
            return next((v for v in values if v), values[-1])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not value_of(node.operand)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq | ast.NotEq):
            equal = value_of(node.left) == value_of(node.comparators[0])
            return equal if isinstance(node.ops[0], ast.Eq) else not equal
        raise WorkflowError(f"an expression the runner does not read: {expression!r}")

    try:
        tree = ast.parse(python.strip(), mode="eval")
    except SyntaxError as error:
        raise WorkflowError(f"an expression the runner does not read: {expression!r}") from error
    return value_of(tree.body)


def substitute(text: str, context: dict) -> str:
    """text with every ${{ }} replaced by its value ('' for null, as GitHub does)."""

    def one(match):
        value = evaluate(match.group(1), context)
        return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)

    return EXPRESSION.sub(one, text)


def condition(text, context: dict) -> bool:
    """A job's or step's if: (with or without ${{ }}); none means run."""
    if text is None:
        return True
    inner = EXPRESSION.fullmatch(str(text).strip())
    return bool(evaluate(inner.group(1) if inner else str(text), context))


@dataclass
class JobRun:
    """What a job did: the name of each step it ran, its outputs, and each step's output text."""

    outputs: dict = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)
    logs: dict = field(default_factory=dict)
    skipped: bool = False


@dataclass
class Runner:
    """Runs one workflow's jobs in a checkout with the given GitHub context."""

    checkout: Path
    github: dict
    variables: dict
    credentials: dict  # role ARN -> {AWS_ACCESS_KEY_ID: ..., AWS_SECRET_ACCESS_KEY: ...}
    stand_ins: dict[str, Callable[[dict, dict], dict]] = field(default_factory=dict)
    environment: dict = field(default_factory=dict)  # besides os.environ, for every step
    timeout: float = 1200

    def workflow(self, name: str) -> dict:
        return yaml.safe_load((self.checkout / ".github" / "workflows" / name).read_text())

    def run_job(self, workflow: str, job_id: str, inputs=None, needs=None, matrix=None) -> JobRun:
        job = self.workflow(workflow)["jobs"][job_id]
        context = {
            "github": self.github,
            "vars": self.variables,
            "inputs": inputs or {},
            "matrix": matrix or {},
            "needs": needs or {},
            "steps": {},
            "env": {},
        }
        # A job runs once the jobs it needs succeeded (none of ours uses always()), and its if: holds.
        wanted = job.get("needs") or []
        for need in [wanted] if isinstance(wanted, str) else wanted:
            if context["needs"].get(need, {}).get("result") != "success":
                return JobRun(skipped=True)
        if not condition(job.get("if"), context):
            return JobRun(skipped=True)
        env = {**os.environ, **self.environment}
        env.update({k: substitute(str(v), context) for k, v in (job.get("env") or {}).items()})
        result = JobRun()
        for step in job["steps"]:
            if not condition(step.get("if"), context):
                continue
            outputs = self.run_step(step, context, env, result)
            result.steps.append(step.get("name") or step.get("id") or step.get("uses") or step["run"])
            if step.get("id"):
                context["steps"][step["id"]] = {"outputs": outputs, "outcome": "success"}
        result.outputs = {k: substitute(str(v), context) for k, v in (job.get("outputs") or {}).items()}
        return result

    def run_step(self, step: dict, context: dict, env: dict, result: JobRun) -> dict:
        name = step.get("name", "")
        if name in self.stand_ins:
            return self.stand_ins[name](step, env) or {}
        uses = step.get("uses")
        if uses:
            if uses.startswith(LOCAL_ACTIONS):
                return {}
            if uses.startswith(CREDENTIALS_ACTION):
                given = {k: substitute(str(v), context) for k, v in (step.get("with") or {}).items()}
                role = given.get("role-to-assume")
                if role not in self.credentials:
                    raise WorkflowError(f"step {name!r} assumes {role!r}, which has no credentials here")
                env.update(self.credentials[role], AWS_REGION=given.get("aws-region", ""))
                env["AWS_DEFAULT_REGION"] = env["AWS_REGION"]
                return {}
            raise WorkflowError(f"step {name!r} uses {uses}, which the runner does not model")
        step_env = {**env, **{k: substitute(str(v), context) for k, v in (step.get("env") or {}).items()}}
        with tempfile.NamedTemporaryFile("r", suffix=".output") as output:
            step_env["GITHUB_OUTPUT"] = output.name
            script = substitute(step["run"], context)
            run = subprocess.run(
                ["bash", "-e", "-c", script],
                cwd=self.checkout,
                env=step_env,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
            result.logs[name] = run.stdout + run.stderr
            if run.returncode != 0:
                raise WorkflowError(
                    f"step {name!r} exited {run.returncode}:\n{run.stdout[-4000:]}\n{run.stderr[-3000:]}"
                )
            return dict(line.split("=", 1) for line in output.read().splitlines() if "=" in line)


def checkout_with_inventories(repo: Path, inventories: dict[str, Path], into: Path) -> Path:
    """A checkout of repo for the runner: every top-level entry linked, except inventories/, whose
    environments are the ones given ({name: inventory directory}), so the workflows' own
    `-i inventories/<environment>` reach the sandbox's stand-ins."""
    for entry in repo.iterdir():
        if entry.name not in ("inventories", ".git"):
            (into / entry.name).symlink_to(entry)
    (into / "inventories").mkdir()
    for name, inventory in inventories.items():
        (into / "inventories" / name).symlink_to(inventory)
    return into
