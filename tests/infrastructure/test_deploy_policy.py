"""The GitHub deploy role's policy: no wildcard actions, "*" resources only where AWS allows nothing narrower."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO

MODULE = REPO / "infrastructure" / "modules" / "deploy_access"
SOURCE = (MODULE / "main.tf").read_text() + (MODULE / "boundaries.tf").read_text()
RELEASE_SOURCE = (MODULE / "release.tf").read_text()
FINALIZE_SOURCE = (MODULE / "finalize.tf").read_text()
STACK_CONTRACT = (REPO / "infrastructure" / "modules" / "stack" / "contract.tf").read_text()
STACK_LEASE = (REPO / "infrastructure" / "modules" / "stack" / "lease.tf").read_text()


def document(source: str, name: str) -> str:
    """The HCL of one aws_iam_policy_document, up to the next top-level block."""
    start = source.index(f'data "aws_iam_policy_document" "{name}"')
    end = source.find("\n}\n", start)
    return source[start : end + 3]


INFRASTRUCTURE = document(SOURCE, "infrastructure")
RELEASE = document(RELEASE_SOURCE, "release")
POLICY = INFRASTRUCTURE + RELEASE


def local_list(name: str) -> str:
    """The items of a list in the module's locals (actions = local.<name>), also one that is
    concat(local.<other>, [...])."""
    found = re.search(rf"\n  {name}\s*=\s*(?:concat\(local\.(\w+),\s*)?\[(.*?)\]\)?\n", SOURCE, re.S)
    return (local_list(found.group(1)) + ", " if found.group(1) else "") + found.group(2)


def statements(policy: str, role: str) -> list[dict]:
    found = []
    for block in re.split(r"\n  statement \{|\n    content \{", policy)[1:]:
        sid = re.search(r'sid\s*=\s*"(\w+)"', block).group(1)
        listed = re.search(r"actions\s*=\s*(?:\[(.*?)\]|local\.(\w+))", block, re.S)
        actions = re.findall(
            r'"([^"]+)"', listed.group(1) if listed.group(1) is not None else local_list(listed.group(2))
        )
        listed = re.search(r"resources\s*=\s*(?:\[(.*?)\]|local\.(\w+))", block, re.S)
        resources = listed.group(1).strip() if listed.group(1) is not None else local_list(listed.group(2))
        effect = "Deny" if re.search(r'effect\s*=\s*"Deny"', block) else "Allow"
        found.append({"sid": sid, "role": role, "actions": actions, "resources": resources, "effect": effect})
    return found


FINALIZE = document(FINALIZE_SOURCE, "finalize")
STATEMENTS = (
    statements(INFRASTRUCTURE, "infrastructure") + statements(RELEASE, "release") + statements(FINALIZE, "finalize")
)
ALLOWS = [s for s in STATEMENTS if s["effect"] == "Allow"]


def test_the_policy_was_parsed():
    assert len(STATEMENTS) > 10 and all(s["actions"] for s in STATEMENTS)


@pytest.mark.parametrize("statement", STATEMENTS, ids=lambda s: f"{s['role']}-{s['sid']}")
def test_no_wildcard_actions(statement):
    wild = [a for a in statement["actions"] if "*" in a]
    assert wild == [], f"{statement['sid']} grants wildcard actions {wild}: name each action"


@pytest.mark.parametrize("statement", ALLOWS, ids=lambda s: f"{s['role']}-{s['sid']}")
def test_star_resource_only_where_aws_allows_nothing_narrower(statement):
    if statement["sid"].startswith("Unscopable"):
        return
    assert '"*"' not in statement["resources"], f"{statement['sid']} uses resource * but could be scoped"


def test_only_this_repository_and_environment_may_assume_the_role():
    assert '"repo:${var.github_repository}:environment:${each.value.environment}"' in SOURCE
    assert '"${local.oidc_url}:repository_id"' in SOURCE and '"${local.oidc_url}:job_workflow_ref"' in SOURCE
    assert '"${local.oidc_url}:aud"' in SOURCE


def _statement(sid: str) -> dict:
    found = [s for s in STATEMENTS if s["sid"] == sid]
    assert found, f"the deploy policy has no {sid} statement"
    return found[0]


def test_the_role_may_read_the_deployment_contract_and_nothing_else_in_parameter_store():
    read = _statement("ReadDeploymentContract")
    assert read["actions"] == ["ssm:GetParameter"], f"the contract needs ssm:GetParameter only, not {read['actions']}"
    assert read["resources"].strip() == "local.deployment_parameter_arn", "the read must name the contract's one ARN"


def test_parameter_store_permissions_stop_at_the_contract():
    """Every ssm: action names the contract's ARN, or (reads only) the images' build records, which
    only the build role writes (build.tf); only DescribeParameters (no resource ARN in AWS) is unscoped."""
    for statement in ALLOWS:
        ssm = [a for a in statement["actions"] if a.startswith("ssm:")]
        if not ssm:
            continue
        if statement["sid"].startswith("Unscopable"):
            assert ssm == ["ssm:DescribeParameters"], f"{statement['sid']} grants {ssm} on every parameter"
        elif statement["resources"].strip() == "local.image_records_arn, local.attestations_arn":
            assert ssm == ["ssm:GetParameter"], f"{statement['sid']} writes the images' build records"
        else:
            assert statement["resources"].strip() == "local.deployment_parameter_arn", (
                f"{statement['sid']} grants {ssm} beyond the deployment contract: {statement['resources']}"
            )


def test_the_role_names_the_parameter_the_stack_publishes():
    """deploy_access and the stack derive the name by the same convention: /switchyard/<name>/deployment."""
    role = re.search(r'deployment_parameter_arn\s*=\s*"[^"]*:parameter(/[^"]+)"', SOURCE).group(1)
    stack = re.search(r'deployment_parameter_name\s*=\s*"([^"]+)"', STACK_CONTRACT).group(1)
    assert role.replace("${var.name}", "<name>") == stack.replace("${local.name}", "<name>"), (
        f"the deploy role may read {role} but the stack publishes {stack}"
    )


LEASE_ITEM_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
}
LEASE_TABLE_TERRAFORM_ACTIONS = {
    "dynamodb:CreateTable",  # never DeleteTable: the lease keeps a cold rollback's revisions (boundaries.tf)
    "dynamodb:UpdateTable",
    "dynamodb:DescribeTable",
    "dynamodb:DescribeContinuousBackups",
    "dynamodb:UpdateContinuousBackups",
    "dynamodb:DescribeTimeToLive",
    "dynamodb:UpdateTimeToLive",
    "dynamodb:ListTagsOfResource",
    "dynamodb:TagResource",
    "dynamodb:UntagResource",
}


def test_the_deployment_may_use_the_lease_item_by_item():
    lease = _statement("DeploymentLease")
    assert set(lease["actions"]) == LEASE_ITEM_ACTIONS, (
        f"the deployment_lease module needs exactly {sorted(LEASE_ITEM_ACTIONS)}, the policy grants {lease['actions']}"
    )
    assert lease["resources"].strip() == "local.lease_table_arn", "the lease statement must name the lease table's ARN"


def test_terraform_may_manage_the_lease_table_and_nothing_more():
    table = _statement("StackLeaseTable")
    assert set(table["actions"]) == LEASE_TABLE_TERRAFORM_ACTIONS, (
        f"Terraform manages the lease table with {sorted(LEASE_TABLE_TERRAFORM_ACTIONS)}, "
        f"the policy grants {table['actions']}"
    )
    assert table["resources"].strip() == "local.lease_table_arn", "table management must name the lease table's ARN"


def test_dynamodb_permissions_stop_at_the_lease_table():
    """Every dynamodb: action names the lease table's one ARN: no other table, no index, no stream, no Scan."""
    granted = set()
    for statement in ALLOWS:
        dynamodb = [a for a in statement["actions"] if a.startswith("dynamodb:")]
        if not dynamodb:
            continue
        granted |= set(dynamodb)
        assert statement["resources"].strip() == "local.lease_table_arn", (
            f"{statement['sid']} grants {dynamodb} beyond the lease table: {statement['resources']}"
        )
    assert granted == LEASE_ITEM_ACTIONS | LEASE_TABLE_TERRAFORM_ACTIONS, sorted(granted)
    assert "dynamodb:*" not in POLICY and "dynamodb:Scan" not in POLICY and "dynamodb:Batch" not in POLICY


def test_the_lease_table_arn_is_one_table_without_wildcards():
    arn = re.search(r'lease_table_arn\s*=\s*"([^"]+)"', SOURCE).group(1)
    assert "*" not in arn and arn.endswith(":table/${var.name}-deployment-lease"), (
        f"the lease table's ARN must name one table, not a pattern: {arn}"
    )


def test_the_role_names_the_lease_table_the_stack_creates():
    """deploy_access and the stack derive the table's name by the same convention: <name>-deployment-lease."""
    role = re.search(r'lease_table_arn\s*=\s*"[^"]*:table/([^"]+)"', SOURCE).group(1)
    stack = re.search(r'lease_table_name\s*=\s*"([^"]+)"', STACK_LEASE).group(1)
    assert role.replace("${var.name}", "<name>") == stack.replace("${local.name}", "<name>"), (
        f"the deploy role may write the table {role} but the stack creates {stack}"
    )


# --- the split: a release role without IAM writes, a bounded infrastructure role ------------------

READ = re.compile(r"^[a-z0-9-]+:(Describe|Get|List|BatchGet|BatchCheck)|^kms:Decrypt$")
RELEASE_WRITES = {
    "elasticloadbalancing:ModifyListener",  # the switch
    "elasticloadbalancing:ModifyRule",
    "ecs:UpdateService",  # the new image, the desired count
    "ecs:RegisterTaskDefinition",
    "ecs:TagResource",  # the tags of a new revision, only as it is registered
    "lambda:InvokeFunction",  # the stack's migration runner, which alone starts a migration
    "iam:PassRole",  # the service's task roles, to ECS only
    "logs:CreateLogStream",  # the deployment records
    "logs:PutLogEvents",
    "dynamodb:PutItem",  # the lease
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "s3:PutObject",  # the plan's state lock, and nothing else of the state
    "s3:DeleteObject",
    "ecr:InitiateLayerUpload",  # the image, where the environment builds it
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
}


def test_the_release_role_writes_only_what_a_release_changes():
    writes = {a for s in ALLOWS if s["role"] == "release" for a in s["actions"] if not READ.match(a)}
    assert writes <= RELEASE_WRITES, f"the release role may also write {sorted(writes - RELEASE_WRITES)}"
    iam = {a for s in ALLOWS if s["role"] == "release" for a in s["actions"] if a.startswith("iam:")}
    assert iam <= {"iam:PassRole", "iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies",
                   "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
                   "iam:GetOpenIDConnectProvider", "iam:GetPolicy", "iam:GetPolicyVersion",
                   "iam:ListPolicyTags", "iam:ListOpenIDConnectProviders"}, sorted(iam)  # fmt: skip


def test_the_release_role_passes_only_the_task_roles_and_only_to_ecs():
    passing = [s for s in ALLOWS if s["role"] == "release" and "iam:PassRole" in s["actions"]]
    assert [s["sid"] for s in passing] == ["PassTaskRoles"]
    roles = re.findall(r"role/\$\{var\.name\}-([\w-]+)", passing[0]["resources"])
    assert roles == ["task", "task-execution"] and "*" not in passing[0]["resources"], roles
    block = RELEASE[RELEASE.index('sid     = "PassTaskRoles"') :]
    assert '"ecs-tasks.amazonaws.com"' in block[: block.index("}\n  }")]


def test_the_release_role_runs_no_task_and_invokes_only_its_stacks_migration_runner():
    actions = {a for s in ALLOWS if s["role"] == "release" for a in s["actions"]}
    assert "ecs:RunTask" not in actions and "ecs:StartTask" not in actions
    invoking = [s for s in ALLOWS if s["role"] == "release" and "lambda:InvokeFunction" in s["actions"]]
    assert [s["resources"] for s in invoking] == [
        '"${local.arn}:lambda:${local.region}:${local.account}:function:${var.name}-migration-runner"'
    ], invoking


def test_the_state_is_written_only_by_the_infrastructure_role():
    for s in ALLOWS:
        if s["role"] == "release" and {"s3:PutObject", "s3:DeleteObject"} & set(s["actions"]):
            assert s["resources"].endswith('${var.state_key}.tflock"'), f"{s['sid']} writes more than the lock"


def test_the_infrastructure_role_runs_under_its_boundary_and_never_changes_its_own_access():
    role = SOURCE[SOURCE.index('resource "aws_iam_role" "infrastructure"') :]
    assert "permissions_boundary = aws_iam_policy.infrastructure_boundary.arn" in role[: role.index("\n}\n")]
    boundary = SOURCE[SOURCE.index('resource "aws_iam_policy" "infrastructure_boundary"') :]
    assert "policy      = data.aws_iam_policy_document.infrastructure.json" in boundary[: boundary.index("\n}\n")]
    denies = {s["sid"]: s for s in STATEMENTS if s["role"] == "infrastructure" and s["effect"] == "Deny"}
    own = denies["DenyChangingDeployAccess"]
    assert {"iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy",
            "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary"} <= set(own["actions"])  # fmt: skip
    roles = local_list("protected_role_arns")
    protected = ("infrastructure", "release", "status", "guard", "migration", "migration-runner", "break-glass")
    assert all(f"role/${{var.name}}-{name}" in roles for name in protected)
    assert own["resources"] == roles
    assert {"iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"} <= set(
        denies["DenyChangingTheBoundary"]["actions"]
    )
    attaching = INFRASTRUCTURE[INFRASTRUCTURE.index('sid       = "DenyAttachingOtherPolicies"') :]
    assert '"ArnNotEquals"' in attaching[: attaching.index("\n  }\n")]


def test_every_role_a_stack_creates_carries_the_workload_boundary():
    """The infrastructure role may create no role without it (DenyRolesWithoutTheWorkloadBoundary):
    every role of the stack's modules asks for it, and the environment roots hand it over."""
    roles = {}
    for path in sorted((REPO / "infrastructure" / "modules").glob("*/*.tf")):
        if path.parent.name != "deploy_access":
            for name, body in re.findall(r'resource "aws_iam_role" "(\w+)" \{\n(.*?)\n\}', path.read_text(), re.S):
                roles[f"{path.parent.name}.{name}"] = "permissions_boundary = var.permissions_boundary" in body
    assert len(roles) >= 6 and all(roles.values()), roles
    for environment in ("staging", "production"):
        root = (REPO / "infrastructure" / "environments" / environment / "main.tf").read_text()
        assert "permissions_boundary = module.deploy_access.workload_boundary_arn" in root, environment


def test_the_finalize_role_only_scales_services_and_holds_the_lease():
    """No listener write, no task definition, no task, no role to pass, no image: it cannot move
    traffic or run code, only scale the old colour down under the lease."""
    writes = {a for s in ALLOWS if s["role"] == "finalize" for a in s["actions"] if not READ.match(a)}
    assert writes == {"ecs:UpdateService", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}, writes
