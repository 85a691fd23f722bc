# The release role: what promote.yml and rollback.yml need, and no IAM write (only passing the
# stack's task roles to ECS). The deploy and rollback jobs assume it; finalize has its own role
# (finalize.tf), Terraform applies go through the infrastructure role (main.tf).

resource "aws_iam_role" "release" {
  name                 = "${var.name}-release"
  assume_role_policy   = data.aws_iam_policy_document.assume["deploy"].json
  max_session_duration = 7200
  tags                 = var.tags
}

data "aws_iam_policy_document" "release" {
  # --- never: destroy or weaken data (boundaries.tf) ----------------------------------------------
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

  # --- every playbook: the deployment contract ---------------------------------------------------
  statement {
    sid       = "ReadDeploymentContract"
    actions   = ["ssm:GetParameter"]
    resources = [local.deployment_parameter_arn]
  }

  # --- promote / rollback / finalize: the deployment lease (one item per environment) ------------
  statement {
    sid = "DeploymentLease"
    # Conditional writes on the one lease table; no Scan, Query or batch calls, no other table.
    actions = [
      "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
      "dynamodb:DescribeTable",
    ]
    resources = [local.lease_table_arn]
  }

  # --- promote / rollback / finalize: the release-owned settings ---------------------------------
  statement {
    sid     = "SwitchListeners"
    actions = ["elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyRule"]
    resources = [
      "${local.arn}:elasticloadbalancing:${local.region}:${local.account}:listener/app/${var.name}/*",
      "${local.arn}:elasticloadbalancing:${local.region}:${local.account}:listener-rule/app/${var.name}/*",
    ]
  }
  statement {
    sid       = "DeployServices"
    actions   = ["ecs:UpdateService", "ecs:DescribeServices"]
    resources = ["${local.arn}:ecs:${local.region}:${local.account}:service/${var.name}/${var.name}-*"]
  }
  statement {
    sid = "TagNewRevisions"
    # A revision registered with tags (the family's, kept) needs ecs:TagResource on it.
    actions   = ["ecs:TagResource"]
    resources = ["${local.arn}:ecs:${local.region}:${local.account}:task-definition/${var.name}:*"]
    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RegisterTaskDefinition"]
    }
  }
  statement {
    sid     = "PassTaskRoles"
    actions = ["iam:PassRole"]
    resources = [
      "${local.arn}:iam::${local.account}:role/${var.name}-task",
      "${local.arn}:iam::${local.account}:role/${var.name}-task-execution",
    ]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
  # A release's migration: only through the runner Terraform owns (modules/ecs, migration.tf),
  # which starts the migration task definition's fixed command with the release's image; this
  # role may neither pass the migration role nor run a task (nor override its command or role).
  # It watches the task to its exit and reads its output from the service's log group.
  statement {
    sid       = "InvokeTheMigrationRunner"
    actions   = ["lambda:InvokeFunction"]
    resources = ["${local.arn}:lambda:${local.region}:${local.account}:function:${var.name}-migration-runner"]
  }
  statement {
    sid       = "WatchMigrationTasks"
    actions   = ["ecs:DescribeTasks"]
    resources = ["${local.arn}:ecs:${local.region}:${local.account}:task/${var.name}/*"]
  }
  statement {
    sid       = "ReadMigrationLogs"
    actions   = ["logs:GetLogEvents"]
    resources = ["${local.arn}:logs:${local.region}:${local.account}:log-group:/switchyard/${var.name}/service:*"]
  }
  statement {
    sid       = "DeploymentRecords"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:GetLogEvents"]
    resources = ["${local.arn}:logs:${local.region}:${local.account}:log-group:/switchyard/${var.name}/deployments:*"]
  }
  statement {
    sid       = "ReadImages"
    actions   = ["ecr:BatchGetImage", "ecr:DescribeImages", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer"]
    resources = [var.ecr_repository_arn]
  }
  statement {
    sid = "ReadImageRecords"
    # Production's preflight reads an image's build record and attestation (build.tf); only the
    # build and attest roles write them.
    actions   = ["ssm:GetParameter"]
    resources = [local.image_records_arn, local.attestations_arn]
  }

  # --- promote in plan mode (production): Terraform reads the state and the stack, and writes only its lock
  statement {
    sid       = "PlanStateRead"
    actions   = ["s3:GetObject"]
    resources = ["${local.arn}:s3:::${var.state_bucket}/${var.state_key}"]
  }
  statement {
    sid       = "PlanStateLock"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.arn}:s3:::${var.state_bucket}/${var.state_key}.tflock"]
  }
  statement {
    sid       = "PlanStateBucket"
    actions   = ["s3:ListBucket"]
    resources = ["${local.arn}:s3:::${var.state_bucket}"]
  }
  statement {
    sid       = "PlanReadStack"
    actions   = local.stack_reads
    resources = local.stack_read_resources
  }
  statement {
    sid = "PlanReadRuntimeSecret"
    # A plan refreshes the service's secret (GetSecretValue of the version Terraform wrote, without
    # a password); IAM cannot pin a version, so this role may read the current one, the service's
    # own rows-only credentials, which the revisions it registers receive anyway. Never the
    # master's (rds!...), which only the migration task's role reads.
    actions   = ["secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy", "secretsmanager:GetSecretValue"]
    resources = [local.runtime_secret_arn]
  }
  statement {
    sid       = "PlanReadRuntimeSecretKey"
    actions   = ["kms:Decrypt"]
    resources = ["${local.arn}:kms:${local.region}:${local.account}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [local.environment_tag_value]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }
  statement {
    sid       = "PlanReadLeaseTable"
    actions   = ["dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource"]
    resources = [local.lease_table_arn]
  }
  statement {
    sid       = "PlanReadContractTags"
    actions   = ["ssm:ListTagsForResource"]
    resources = [local.deployment_parameter_arn]
  }
  statement {
    sid       = "PlanReadKey"
    actions   = ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"]
    resources = ["${local.arn}:kms:${local.region}:${local.account}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [local.environment_tag_value]
    }
  }

  # --- what AWS cannot scope to a resource ARN ------------------------------------------------------
  statement {
    sid       = "UnscopableReads"
    actions   = local.unscopable_reads
    resources = ["*"]
  }
  statement {
    sid = "UnscopableWrites"
    # RegisterTaskDefinition takes no resource ARN. Revisions are never deregistered (cold
    # rollbacks need them), so DeregisterTaskDefinition is not granted.
    actions   = ["ecs:RegisterTaskDefinition"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "release" {
  name   = "promote-rollback-finalize"
  role   = aws_iam_role.release.id
  policy = data.aws_iam_policy_document.release.json
}
