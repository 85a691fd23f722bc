"""The delivery path as GitHub Actions runs it, offline on the sandbox (issue 10): the `run:` steps
of .github/workflows/*.yml in order (tests/workflow_runner.py), with the workflows' own
`-i inventories/<environment>` pointed at sandbox stand-ins: staging is the session's sandbox
stack, production a second stack (tests/workflows/inventories/production) provisioned first with
provision.yml, as production's infrastructure is.

A push to develop builds (a registry stand-in answers with a digest), records which commit built
it, and promotes to staging; a push to main attests that the commit is on main and promotes to
production the digest live in staging (scripts/live_image.py); then the rollback workflow rolls
production back and the scheduled finalize runs for both environments. The checkout is a git
repository whose history has a commit on main and one on a branch that never reached it."""

from __future__ import annotations

import hashlib
import json
import subprocess

import boto3
import pytest

from tests.conftest import PRODUCTION_INVENTORY, REPO, playbook_runner
from tests.integration.test_promote import FAST
from tests.workflow_runner import Runner, WorkflowError, checkout_with_inventories

pytestmark = pytest.mark.sandbox

REPOSITORY = "registry.sandbox.local/switchyard/app"
COMMIT = "5d41402abc4b2a76b9719d911017c592ae14f0c8"
ROLES = {  # the GitHub environment's variable -> the role of that environment it names
    "AWS_RELEASE_ROLE_ARN": "arn:aws:iam::123456789012:role/switchyard-{environment}-release",
    "AWS_INFRASTRUCTURE_ROLE_ARN": "arn:aws:iam::123456789012:role/switchyard-{environment}-infrastructure",
    "AWS_FINALIZE_ROLE_ARN": "arn:aws:iam::123456789012:role/switchyard-{environment}-finalize",
}
STATUS_ROLE = "arn:aws:iam::123456789012:role/switchyard-staging-status"
BUILD_ROLE = "arn:aws:iam::123456789012:role/switchyard-staging-build"  # the repository's owner's
ATTEST_ROLE = "arn:aws:iam::123456789012:role/switchyard-staging-attest"
# The emulator's credentials stand for each role (it enforces no IAM here).
EMULATOR_KEYS = {"AWS_ACCESS_KEY_ID": "SANDBOXACCESSKEY", "AWS_SECRET_ACCESS_KEY": "sandbox-not-a-secret"}


def pushed_by_digest(sha: str):
    """The image build and push of commit sha, which needs Docker: the registry answers with a digest
    of its own for each commit."""
    digest = hashlib.sha256(sha.encode()).hexdigest()
    return lambda step, env: {"image": f"{REPOSITORY}@sha256:{digest}"}


def already_set_up(step, env) -> dict:
    """Terraform and the virtualenv: this machine's `make setup` has made both (a deploy job's
    `make deploy-setup` installs the runtime part of it, from the same hashed lock)."""
    assert "make deploy-setup" in step["run"], "the set-up step changed: model it again"
    return {}


STAND_INS = {
    "Terraform and the virtualenv": already_set_up,
    "The virtualenv": already_set_up,
}


def git(checkout, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args]
    return subprocess.run(command, cwd=checkout, capture_output=True, text=True, check=True).stdout.strip()


def history(checkout) -> dict:
    """{main, merged, branch}: main's head, a commit on main below it (develop's, merged), and a
    commit of a branch that never reached main. The checkout is left on main."""
    git(checkout, "init", "-q", "-b", "main")
    git(checkout, "commit", "-q", "--allow-empty", "-m", "the start")
    git(checkout, "checkout", "-q", "-b", "experiment")
    git(checkout, "commit", "-q", "--allow-empty", "-m", "never merged")
    branch = git(checkout, "rev-parse", "HEAD")
    git(checkout, "checkout", "-q", "main")
    git(checkout, "commit", "-q", "--allow-empty", "-m", "develop's work")
    merged = git(checkout, "rev-parse", "HEAD")
    git(checkout, "commit", "-q", "--allow-empty", "-m", "the merge to main")
    return {"main": git(checkout, "rev-parse", "HEAD"), "merged": merged, "branch": branch}


def attested(aws, image: str) -> None:
    """What the build and attest roles write for an image a commit on main built."""
    repository, digest = image.split("/", 1)[1].split("@sha256:")
    ssm = aws("ssm")
    built = {"image": image, "commit": "0" * 40, "ref": "refs/heads/develop"}
    ssm.put_parameter(Name=f"/switchyard/images/{repository}/{digest}", Value=json.dumps(built), Type="String")
    attestation = {**built, "branch": "main", "branch_commit": "1" * 40}
    name = f"/switchyard/attestations/{repository}/main/{digest}"
    ssm.put_parameter(Name=name, Value=json.dumps(attestation), Type="String")


def contract(aws, environment: str) -> dict:
    name = f"/switchyard/switchyard-{environment}/deployment"
    return json.loads(aws("ssm").get_parameter(Name=name)["Parameter"]["Value"])


def live_image(aws, deployment: dict) -> str:
    """The image of the colour the production listener sends everything to, read with boto3."""
    elbv2, ecs = aws("elbv2"), aws("ecs")
    (listener,) = elbv2.describe_listeners(ListenerArns=[deployment["production_listener_arn"]])["Listeners"]
    action = listener["DefaultActions"][0]
    groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or [{"TargetGroupArn": action["TargetGroupArn"]}]
    arn = max(groups, key=lambda g: g.get("Weight", 1))["TargetGroupArn"]
    colour = next(c for c, a in deployment["target_group_arns"].items() if a == arn)
    (service,) = ecs.describe_services(
        cluster=deployment["cluster_name"], services=[deployment["service_names"][colour]]
    )["services"]
    return ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"][
        "containerDefinitions"
    ][0]["image"]


@pytest.fixture(scope="module")
def production(production_stand_in):
    """The production stand-in (tests/conftest.py), provisioned from nothing by provision.yml, as
    production's infrastructure is; the environment its playbooks and the workflows' steps run with."""
    run = production_stand_in.provisioning.wait()
    assert run.returncode == 0, run.failure_messages() or run.stderr
    return production_stand_in.env


@pytest.fixture(scope="module")
def commits(checkout) -> dict:
    return history(checkout)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    return checkout_with_inventories(
        REPO,
        {"staging": REPO / "inventories" / "sandbox", "production": PRODUCTION_INVENTORY},
        tmp_path_factory.mktemp("checkout"),
    )


@pytest.fixture(scope="module")
def runner(provisioned, production, checkout, commits):
    """Staging is the session's stack (`provisioned`), production the stand-in."""

    def for_push(branch: str, environment: str, sha: str = COMMIT) -> Runner:
        roles = {variable: arn.format(environment=environment) for variable, arn in ROLES.items()}
        return Runner(
            checkout=checkout,
            github={"ref": f"refs/heads/{branch}", "sha": sha, "event_name": "push", "run_id": "4242"},
            variables={
                **roles,
                "AWS_STAGING_STATUS_ROLE_ARN": STATUS_ROLE,
                "AWS_BUILD_ROLE_ARN": BUILD_ROLE,
                "AWS_ATTEST_ROLE_ARN": ATTEST_ROLE,
                "AWS_REGION": "us-east-1",
                "ECR_REPOSITORY_URL": REPOSITORY,
            },
            credentials=dict.fromkeys([*roles.values(), STATUS_ROLE, BUILD_ROLE, ATTEST_ROLE], EMULATOR_KEYS),
            stand_ins={**STAND_INS, "Build and push by digest": pushed_by_digest(sha)},
            environment=production,
        )

    return for_push


@pytest.fixture(scope="module")
def production_aws(production):
    def make(service):
        return boto3.client(
            service, endpoint_url=production["SWITCHYARD_PRODUCTION_ENDPOINT_URL"], region_name="us-east-1",
            aws_access_key_id="x", aws_secret_access_key="x",
        )  # fmt: skip

    return make


def test_develop_to_staging_then_main_to_production_then_rollback_and_finalize(runner, commits, aws, production_aws):
    # A push to develop: build and record it, then promote to staging; production is main's.
    develop = runner("develop", "staging", commits["merged"])
    build = develop.run_job("deploy.yml", "build")
    digest = build.outputs["image"]
    assert digest.startswith(f"{REPOSITORY}@sha256:"), build.outputs
    assert build.steps[-1] == "Record which commit built the digest", build.steps
    staging = develop.run_job("deploy.yml", "staging", needs={"build": {"result": "success", "outputs": build.outputs}})
    assert staging.steps[-4:] == [
        "AWS credentials for the infrastructure (OIDC)",
        "Provision",
        "AWS credentials for the release (OIDC)",
        "Promote",
    ], staging.steps
    assert develop.run_job("deploy.yml", "production").skipped, "a push to develop must not reach production"
    assert live_image(aws, contract(aws, "sandbox")) == digest

    # A push to main (develop's commit merged): no build; production gets the digest staging runs,
    # once the job has attested that main holds the commit that built it.
    main = runner("main", "production", commits["main"])
    assert main.run_job("deploy.yml", "build").skipped, "production is never rebuilt"
    production = contract(production_aws, "production")
    before = live_image(production_aws, production)
    deployed = main.run_job("deploy.yml", "production")
    assert "Attest that a commit on main built the digest" in deployed.steps, deployed.steps
    assert deployed.steps[-2:] == ["AWS credentials for production (OIDC)", "Promote"], deployed.steps
    assert live_image(production_aws, production) == digest, "production runs staging's digest"

    # Rollback (workflow_dispatch with its input), then the scheduled finalize of both.
    main.run_job("rollback.yml", "rollback", inputs={"environment": "production"})
    assert live_image(production_aws, production) == before, "the rollback workflow restores the release before"
    for environment in ("staging", "production"):
        finalized = runner("main", environment).run_job("finalize.yml", "finalize", matrix={"environment": environment})
        assert finalized.steps[-1] == "Finalize", finalized.steps


def test_an_image_built_from_a_commit_main_never_got_is_refused_by_production(
    runner, commits, aws, production_aws, run_playbook
):
    """develop built a commit that never reached main (a branch pushed to develop, then reset):
    staging may run it, production may not, through the workflow or a promote by hand."""
    develop = runner("develop", "staging", commits["branch"])
    build = develop.run_job("deploy.yml", "build")
    digest = build.outputs["image"]
    develop.run_job("deploy.yml", "staging", needs={"build": {"result": "success", "outputs": build.outputs}})
    assert live_image(aws, contract(aws, "sandbox")) == digest

    production = contract(production_aws, "production")
    before = live_image(production_aws, production)
    with pytest.raises(WorkflowError) as refused:
        runner("main", "production", commits["main"]).run_job("deploy.yml", "production")
    assert "Attest that a commit on main built the digest" in str(refused.value), refused.value
    assert f"built from commit {commits['branch']}" in str(refused.value) and "not on main" in str(refused.value)
    assert live_image(production_aws, production) == before, "production must not move"

    # By hand, with production's release role: the preflight refuses before anything is taken.
    by_hand = playbook_runner(runner("main", "production").environment, str(PRODUCTION_INVENTORY))
    for image, missing in (
        (digest, f"was built from commit {commits['branch']}"),
        (f"{REPOSITORY}@sha256:{hashlib.sha256(b'pushed by hand').hexdigest()}", "has no build record"),
    ):
        run = by_hand("promote.yml", "-e", f"image={image}", *FAST)
        assert run.returncode != 0 and missing in " ".join(run.failure_messages()), run.failure_messages()
        assert live_image(production_aws, production) == before
    # Staging goes back to a release that main has (the next test starts where it likes).
    run_playbook("rollback.yml")


@pytest.fixture(scope="module")
def signed_by(production, production_aws, deploy_access_policies):
    """Playbooks on the production stand-in signed by an IAM user that carries exactly the policy
    Terraform renders for a role (modules/deploy_access, tests/integration/conftest.py), or none:
    its emulator checks an IAM user's calls as AWS does (sandbox/sandbox_iam.py); other keys, as
    the harness's, are the account's root."""
    endpoint = production["SWITCHYARD_PRODUCTION_ENDPOINT_URL"]
    policies = deploy_access_policies
    iam = production_aws("iam")

    def runner(role: str | None, environment: str = "production"):
        name = f"{environment}-{role or 'nothing'}"
        iam.create_user(UserName=name)
        if role:
            iam.put_user_policy(UserName=name, PolicyName=role, PolicyDocument=policies[environment][role])
        key = iam.create_access_key(UserName=name)["AccessKey"]
        connection = {
            "region": "us-east-1",
            "endpoint_url": endpoint,
            "access_key": key["AccessKeyId"],
            "secret_key": key["SecretAccessKey"],
        }
        run = playbook_runner(production, str(PRODUCTION_INVENTORY))
        return lambda playbook, *args: run(playbook, "-e", json.dumps({"switchyard_aws_connection": connection}), *args)

    return runner


def test_promote_status_rollback_and_finalize_pass_with_exactly_their_roles_policies(signed_by, aws, production_aws):
    for refused, why in ((signed_by(None), "no policy"), (signed_by("release", "staging"), "staging's release role")):
        run = refused("status.yml")
        assert run.returncode != 0, f"a user with {why} read production's status: IAM is not enforced"
        assert "AccessDenied" in " ".join(run.failure_messages()) + run.stderr, run.failure_messages()

    release = signed_by("release")
    image = f"{REPOSITORY}@sha256:{hashlib.sha256(b'least privilege').hexdigest()}"
    attested(aws, image)
    production = contract(production_aws, "production")
    before = live_image(production_aws, production)
    finalize = signed_by("finalize")
    for role, playbook, *args in (
        (release, "status.yml"),
        (release, "promote.yml", "-e", f"image={image}", *FAST, "-e", "switchyard_standby_seconds=0"),
        (release, "rollback.yml"),
        (finalize, "finalize.yml"),
    ):
        run = role(playbook, *args)
        assert run.returncode == 0, f"{playbook} under its role: {run.failure_messages() or run.stderr}"
        if playbook == "promote.yml":
            assert live_image(production_aws, production) == image
    assert live_image(production_aws, production) == before, "the rollback restored the release before"
