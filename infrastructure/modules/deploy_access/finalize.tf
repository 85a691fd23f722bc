# The finalize role: what the scheduled finalize.yml needs to scale the old colour down once its
# standby is over, and nothing that moves traffic or runs code: no listener write, no task
# definition, no task, no role to pass, no image. Its jobs run in their own GitHub environment,
# <environment>-finalize, so the production environment's reviewers are asked only for
# deployments (main.tf, local.trusts).

resource "aws_iam_role" "finalize" {
  name                 = "${var.name}-finalize"
  assume_role_policy   = data.aws_iam_policy_document.assume["finalize"].json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "finalize" {
  statement {
    sid       = "DenyDestroyingData"
    effect    = "Deny"
    actions   = local.data_destroying_actions
    resources = local.data_resources
  }
  statement {
    sid    = "DenyRunningTheMigrationAsAService"
    effect = "Deny"
    # The migration runner's copies carry the migration role (modules/ecs, migration.tf): no
    # service may run one (UpdateService checks no PassRole, so the role alone would not stop it).
    actions   = ["ecs:UpdateService", "ecs:CreateService"]
    resources = ["*"]
    condition {
      test     = "ArnLike"
      variable = "ecs:task-definition"
      values   = ["${local.arn}:ecs:${local.region}:${local.account}:task-definition/${var.name}-migration:*"]
    }
  }
  statement {
    sid       = "ReadDeploymentContract"
    actions   = ["ssm:GetParameter"]
    resources = [local.deployment_parameter_arn]
  }
  statement {
    sid = "DeploymentLease"
    # Taken to scale down, so that no promote or rollback runs meanwhile; released after.
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"]
    resources = [local.lease_table_arn]
  }
  statement {
    sid       = "ScaleServices"
    actions   = ["ecs:UpdateService", "ecs:DescribeServices"]
    resources = ["${local.arn}:ecs:${local.region}:${local.account}:service/${var.name}/${var.name}-*"]
  }
  statement {
    sid       = "ReadRecords"
    actions   = ["logs:GetLogEvents"]
    resources = ["${local.records_log_group_arn}:*"]
  }
  statement {
    sid       = "UnscopableReads"
    actions   = local.unscopable_reads
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "finalize" {
  name   = "finalize"
  role   = aws_iam_role.finalize.id
  policy = data.aws_iam_policy_document.finalize.json
}
