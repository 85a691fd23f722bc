# What no deploy role can do, and who can.
#
# - The workload boundary: the ceiling of every role the stack creates for its workloads (the task,
#   execution, migration, migration runner, guard, flow-logs and database-monitoring roles). The
#   infrastructure role may create a role, or give one permissions, only with it (main.tf,
#   DenyRolesWithoutTheWorkloadBoundary), so whatever policy it writes, no role it makes can use
#   IAM (but the runner, which passes the migration's roles to ECS) or destroy data.
# - Data: the database, its snapshots and backups, the stack's key, the deployment records and the
#   lease (it keeps the revisions a cold rollback needs) are destroyed or weakened by neither deploy
#   role, nor by any workload: only by the break-glass role, which people assume with MFA.

locals {
  # Actions that destroy data or weaken its protection (deletion protection, backup retention and
  # the final snapshot are ModifyDBInstance's or DeleteDBInstance's parameters, which IAM cannot
  # condition on: the whole action is the break-glass role's).
  data_destroying_actions = [
    "rds:DeleteDBInstance", "rds:ModifyDBInstance", "rds:StopDBInstance", "rds:DeleteDBSnapshot",
    "rds:ModifyDBSnapshotAttribute", "rds:DeleteDBInstanceAutomatedBackup",
    "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy",
    "logs:DeleteLogGroup", "logs:DeleteLogStream", "logs:PutRetentionPolicy", "logs:DisassociateKmsKey",
    "dynamodb:DeleteTable",
  ]
  records_log_group_arn = "${local.arn}:logs:${local.region}:${local.account}:log-group:/switchyard/${var.name}/deployments"
  data_resources = [
    "${local.arn}:rds:${local.region}:${local.account}:db:${var.name}",
    "${local.arn}:rds:${local.region}:${local.account}:snapshot:*",
    "${local.arn}:rds:${local.region}:${local.account}:auto-backup:*",
    "${local.arn}:kms:${local.region}:${local.account}:key/*",
    local.records_log_group_arn,
    "${local.records_log_group_arn}:*",
    local.lease_table_arn,
  ]
  break_glass_principals = coalesce(var.break_glass_principals, ["${local.arn}:iam::${local.account}:root"])
  # The database's master credentials: RDS names the secret it manages rds!<id>.
  master_secret_arn = "${local.arn}:secretsmanager:${local.region}:${local.account}:secret:rds!*"
}

# The union of what the stack's workloads need (modules/ecs, modules/guard, modules/network,
# modules/stack), on the stack's resources: a ceiling, not a grant.
data "aws_iam_policy_document" "workload_boundary" {
  statement {
    sid     = "WriteTheStacksLogs"
    actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:GetLogEvents", "logs:PutRetentionPolicy"]
    resources = [
      "${local.arn}:logs:${local.region}:${local.account}:log-group:/switchyard/${var.name}/*",
      "${local.arn}:logs:${local.region}:${local.account}:log-group:/aws/lambda/${var.name}-guard:*",
      "${local.arn}:logs:${local.region}:${local.account}:log-group:/aws/lambda/${var.name}-migration-runner:*",
      "${local.arn}:logs:${local.region}:${local.account}:log-group:RDSOSMetrics:*", # enhanced monitoring
    ]
  }
  statement {
    sid       = "PullTheImage"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    resources = [var.ecr_repository_arn]
  }
  statement {
    sid       = "ReadTheDatabaseSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [local.master_secret_arn, local.runtime_secret_arn]
  }
  statement {
    sid       = "SetTheServicesPassword"
    actions   = ["secretsmanager:PutSecretValue"]
    resources = [local.runtime_secret_arn]
  }
  statement {
    sid    = "OnlyTheMigrationRoleReadsTheMasterSecret"
    effect = "Deny"
    # Any other bounded role (one the infrastructure role makes, or a task definition naming the
    # secret for the execution role to fetch) is refused the master credentials.
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [local.master_secret_arn]
    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = ["${local.arn}:iam::${local.account}:role/${var.name}-migration"]
    }
  }
  statement {
    sid = "CopyTheMigrationTaskDefinition"
    # The migration runner (modules/ecs, migration.tf): RegisterTaskDefinition takes no ARN.
    actions   = ["ecs:RegisterTaskDefinition"]
    resources = ["*"]
  }
  statement {
    sid       = "RunTheMigration"
    actions   = ["ecs:RunTask"]
    resources = ["${local.arn}:ecs:${local.region}:${local.account}:task-definition/${var.name}-migration:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = ["${local.arn}:ecs:${local.region}:${local.account}:cluster/${var.name}"]
    }
  }
  statement {
    sid       = "PassTheMigrationRoles"
    actions   = ["iam:PassRole"]
    resources = ["${local.arn}:iam::${local.account}:role/${var.name}-migration", "${local.arn}:iam::${local.account}:role/${var.name}-task-execution"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
  statement {
    sid    = "OnlyTheRunnerStartsMigrations"
    effect = "Deny"
    # Whatever policy a bounded role is given, only the runner may pass the migration's roles or
    # run a task: no other workload can start code with the migration's credentials.
    actions   = ["iam:PassRole", "ecs:RunTask"]
    resources = ["*"]
    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = ["${local.arn}:iam::${local.account}:role/${var.name}-migration-runner"]
    }
  }
  statement {
    sid       = "UseTheStackKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"]
    resources = ["${local.arn}:kms:${local.region}:${local.account}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [local.environment_tag_value]
    }
  }
  statement {
    sid = "ReadTheAttestations"
    # The migration runner, where only attested images run (build.tf writes none of them).
    actions   = ["ssm:GetParameter"]
    resources = ["${local.arn}:ssm:${local.region}:${local.account}:parameter/switchyard/attestations/${local.repository_name}/*"]
  }
  statement {
    sid       = "ReadTheContract"
    actions   = ["ssm:GetParameter"]
    resources = [local.deployment_parameter_arn]
  }
  statement {
    sid       = "TakeTheLease"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [local.lease_table_arn]
  }
  statement {
    sid     = "SwitchTheListeners"
    actions = ["elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyRule"]
    resources = [
      "${local.arn}:elasticloadbalancing:${local.region}:${local.account}:listener/app/${var.name}/*",
      "${local.arn}:elasticloadbalancing:${local.region}:${local.account}:listener-rule/app/${var.name}/*",
    ]
  }
  statement {
    sid       = "ReadTheServices"
    actions   = ["ecs:DescribeServices"]
    resources = ["${local.arn}:ecs:${local.region}:${local.account}:service/${var.name}/*"]
  }
  statement {
    sid       = "ReportTheGuardsFailures"
    actions   = ["sqs:SendMessage", "sns:Publish"]
    resources = [local.guard_dead_letter_queue_arn, local.guard_failure_topic_arn]
  }
  statement {
    sid = "UnscopableReads"
    # These take no resource ARN; reads only (and ECR's login token, which grants nothing by itself).
    actions = [
      "ecr:GetAuthorizationToken", "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules",
      "elasticloadbalancing:DescribeTargetHealth", "ecs:DescribeTaskDefinition",
    ]
    resources = ["*"]
  }
  statement {
    sid       = "DenyDestroyingData"
    effect    = "Deny"
    actions   = local.data_destroying_actions
    resources = local.data_resources
  }
}

resource "aws_iam_policy" "workload_boundary" {
  name        = local.workload_boundary_name
  description = "Permissions boundary of every role ${var.name}'s Terraform creates"
  policy      = data.aws_iam_policy_document.workload_boundary.json
  tags        = var.tags
}

# Break glass: people, with MFA, for what no pipeline may do (modify or delete the database, its
# snapshots and backups, the key's policy or deletion, the records). docs: README, "Trust model".
data "aws_iam_policy_document" "break_glass_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = local.break_glass_principals
    }
    condition {
      test     = "Bool"
      variable = "aws:MultiFactorAuthPresent"
      values   = ["true"]
    }
  }
}

resource "aws_iam_role" "break_glass" {
  name                 = "${var.name}-break-glass"
  assume_role_policy   = data.aws_iam_policy_document.break_glass_assume.json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "break_glass" {
  statement {
    sid       = "DestroyOrWeakenData"
    actions   = local.data_destroying_actions
    resources = local.data_resources
  }
  statement {
    sid       = "ReadTheData"
    actions   = ["rds:DescribeDBInstances", "rds:DescribeDBSnapshots", "kms:DescribeKey"]
    resources = local.data_resources
  }
  statement {
    sid       = "UnscopableReads"
    actions   = ["kms:ListAliases", "logs:DescribeLogGroups"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "break_glass" {
  name   = "break-glass"
  role   = aws_iam_role.break_glass.id
  policy = data.aws_iam_policy_document.break_glass.json
}
