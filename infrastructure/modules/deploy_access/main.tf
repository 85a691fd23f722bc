# GitHub Actions reaches AWS through OIDC (no long-lived keys) and assumes, per environment, the
# release role (release.tf: promote, rollback), the finalize role (finalize.tf) or the
# infrastructure role (here: Terraform applies, provision.yml). Each may act on this stack's resources (named "<name>-...")
# only. The infrastructure role runs under a permissions boundary and may never change its own
# access, the release role's, the guard's, the migration's or the boundaries; every role it creates
# carries the workload boundary (boundaries.tf). Neither role may destroy data: the database, its
# snapshots and backups, the stack's key and the deployment records are the break-glass role's.
# Describe/List/Get calls and a few creates that AWS cannot scope to a resource ARN are grouped,
# with the reason, at the end of each policy.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition
  arn       = "arn:${local.partition}"
  oidc_url  = "token.actions.githubusercontent.com"
  # The deployment contract that modules/stack publishes, by the same naming convention.
  deployment_parameter_arn = "${local.arn}:ssm:${local.region}:${local.account}:parameter/switchyard/${var.name}/deployment"
  # The deployment lease table of modules/stack (lease.tf), by the same convention.
  lease_table_arn = "${local.arn}:dynamodb:${local.region}:${local.account}:table/${var.name}-deployment-lease"
  # The guard's dead-letter queue and failures topic (modules/guard, failures.tf), by the same convention.
  guard_dead_letter_queue_arn = "${local.arn}:sqs:${local.region}:${local.account}:${var.name}-guard-dead-letters"
  guard_failure_topic_arn     = "${local.arn}:sns:${local.region}:${local.account}:${var.name}-guard-failures"
  # The service's own database credentials of modules/database (name_prefix: a suffix follows).
  runtime_secret_arn = "${local.arn}:secretsmanager:${local.region}:${local.account}:secret:${var.name}-database-runtime-*"
  # This module's own roles and the infrastructure role's boundary, by name (no cycle through ARNs).
  own_role_arns = ["${local.arn}:iam::${local.account}:role/${var.name}-infrastructure", "${local.arn}:iam::${local.account}:role/${var.name}-release", "${local.arn}:iam::${local.account}:role/${var.name}-finalize", "${local.arn}:iam::${local.account}:role/${var.name}-status", "${local.arn}:iam::${local.account}:role/${var.name}-build", "${local.arn}:iam::${local.account}:role/${var.name}-attest"]
  # Roles the infrastructure role may never change, besides its own: the guard's switches
  # production's traffic, the migration's reads the database's master credentials (the runner's
  # passes it), the break-glass role may destroy data (an administrator's apply changes them).
  protected_role_arns = concat(local.own_role_arns, [
    "${local.arn}:iam::${local.account}:role/${var.name}-guard",
    "${local.arn}:iam::${local.account}:role/${var.name}-migration",
    "${local.arn}:iam::${local.account}:role/${var.name}-migration-runner",
    "${local.arn}:iam::${local.account}:role/${var.name}-break-glass",
  ])
  boundary_name          = "${var.name}-infrastructure-boundary"
  boundary_arn           = "${local.arn}:iam::${local.account}:policy/${local.boundary_name}"
  workload_boundary_name = "${var.name}-workload-boundary"
  workload_boundary_arn  = "${local.arn}:iam::${local.account}:policy/${local.workload_boundary_name}"
  # The only managed policies a stack role may carry (ECS's task execution, RDS's monitoring).
  attachable_policy_arns = [
    "${local.arn}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    "${local.arn}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
  ]
  environment_tag_value = split("-", var.name)[length(split("-", var.name)) - 1]

  # Reads of what AWS cannot scope to a resource ARN (both roles).
  unscopable_reads = [
    "ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeRouteTables",
    "ec2:DescribeInternetGateways", "ec2:DescribeNatGateways", "ec2:DescribeAddresses",
    "ec2:DescribeAddressesAttribute", "ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules",
    "ec2:DescribeFlowLogs", "ec2:DescribeAvailabilityZones", "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeAccountAttributes", "ec2:DescribeTags",
    "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerAttributes",
    "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeTags",
    "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions",
    "logs:DescribeLogGroups", "cloudwatch:GetMetricStatistics", "cloudwatch:GetMetricData",
    "kms:ListAliases", "ecr:GetAuthorizationToken", "sts:GetCallerIdentity",
    "iam:ListOpenIDConnectProviders", # the account's provider, when another root created it
    "ssm:DescribeParameters",
  ]
  # What a Terraform plan reads of the stack's resources besides those (the release role, for a
  # production promote's plan gate), on the stack's ARNs below.
  stack_reads = [
    "ecs:DescribeClusters",
    "iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole", "iam:GetOpenIDConnectProvider", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyTags",
    "rds:DescribeDBInstances", "rds:DescribeDBSubnetGroups", "rds:ListTagsForResource",
    "secretsmanager:DescribeSecret",
    "logs:ListTagsForResource",
    "cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource",
    "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:ListVersionsByFunction",
    "lambda:GetFunctionCodeSigningConfig", "lambda:GetPolicy", "lambda:ListTags",
    "events:DescribeRule", "events:ListTargetsByRule", "events:ListTagsForResource",
    "lambda:GetFunctionEventInvokeConfig", "sqs:GetQueueAttributes", "sqs:ListQueueTags",
    "sns:GetTopicAttributes", "sns:ListTagsForResource",
    "s3:GetBucketPolicy", "s3:GetBucketPublicAccessBlock", "s3:GetBucketVersioning", "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration", "s3:GetBucketTagging", "s3:GetBucketAcl", "s3:GetBucketCORS",
    "s3:GetBucketWebsite", "s3:GetBucketLogging", "s3:GetAccelerateConfiguration", "s3:GetBucketRequestPayment",
    "s3:GetReplicationConfiguration", "s3:GetBucketObjectLockConfiguration", "s3:GetBucketOwnershipControls",
    "s3:GetBucketLocation",
    "ecr:DescribeRepositories", "ecr:ListTagsForResource", "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy",
  ]
  stack_read_resources = [
    "${local.arn}:ecs:${local.region}:${local.account}:cluster/${var.name}",
    "${local.arn}:iam::${local.account}:role/${var.name}-*",
    "${local.arn}:iam::${local.account}:oidc-provider/${local.oidc_url}",
    local.boundary_arn,
    local.workload_boundary_arn,
    "${local.arn}:rds:${local.region}:${local.account}:db:${var.name}",
    "${local.arn}:rds:${local.region}:${local.account}:subgrp:${var.name}",
    "${local.arn}:secretsmanager:${local.region}:${local.account}:secret:rds!*",
    "${local.arn}:logs:${local.region}:${local.account}:log-group:/switchyard/${var.name}/*",
    "${local.arn}:logs:${local.region}:${local.account}:log-group:/aws/lambda/${var.name}-guard",
    "${local.arn}:logs:${local.region}:${local.account}:log-group:/aws/lambda/${var.name}-migration-runner",
    "${local.arn}:cloudwatch:${local.region}:${local.account}:alarm:${var.name}-*",
    "${local.arn}:lambda:${local.region}:${local.account}:function:${var.name}-guard",
    "${local.arn}:lambda:${local.region}:${local.account}:function:${var.name}-migration-runner",
    "${local.arn}:events:${local.region}:${local.account}:rule/${var.name}-guard",
    local.guard_dead_letter_queue_arn,
    local.guard_failure_topic_arn,
    "${local.arn}:s3:::${var.name}-alb-logs-*",
    var.ecr_repository_arn,
  ]
}

resource "aws_iam_openid_connect_provider" "github" {
  count          = var.create_oidc_provider ? 1 : 0
  url            = "https://${local.oidc_url}"
  client_id_list = ["sts.amazonaws.com"]
  tags           = var.tags
  # Every role's trust names it: create_oidc_provider turned false by mistake must not delete it.
  lifecycle {
    prevent_destroy = true
  }
}

data "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 0 : 1
  url   = "https://${local.oidc_url}"
}

locals {
  # The account's GitHub OIDC provider: created here, or the one another stack created.
  oidc_provider_arn = var.create_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : data.aws_iam_openid_connect_provider.github[0].arn
}

locals {
  # Who may assume each role: a job of this repository (by its immutable id, which a renamed or
  # re-created repository does not keep), in one GitHub environment, running one of the named
  # workflow files as it is on one branch (job_workflow_ref): a workflow edited on another branch
  # cannot assume it. Deploys come from the environment's branch; a rollback is dispatched, and
  # finalize is scheduled, from the default branch. finalize has its own environment (no
  # reviewers to click through every 15 minutes) and role (finalize.tf).
  trusts = {
    deploy = {
      environment = var.github_environment
      workflows   = distinct(["deploy.yml@refs/heads/${var.workflow_branch}", "rollback.yml@refs/heads/${var.default_branch}"])
    }
    # Terraform applies: only deploy.yml provisions.
    infrastructure = {
      environment = var.github_environment
      workflows   = ["deploy.yml@refs/heads/${var.workflow_branch}"]
    }
    finalize = {
      environment = "${var.github_environment}-finalize"
      workflows   = ["finalize.yml@refs/heads/${var.default_branch}"]
    }
  }
}

data "aws_iam_policy_document" "assume" {
  for_each = local.trusts
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_url}:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_url}:sub"
      values   = ["repo:${var.github_repository}:environment:${each.value.environment}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_url}:repository_id"
      values   = [var.github_repository_id]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_url}:environment"
      values   = [each.value.environment]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_url}:job_workflow_ref"
      values   = [for workflow in each.value.workflows : "${var.github_repository}/.github/workflows/${workflow}"]
    }
  }
}

resource "aws_iam_role" "infrastructure" {
  name                 = "${var.name}-infrastructure"
  assume_role_policy   = data.aws_iam_policy_document.assume["infrastructure"].json
  max_session_duration = 7200
  permissions_boundary = aws_iam_policy.infrastructure_boundary.arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "infrastructure" {
  # --- never its own access: no change to this module's roles or to the boundary -----------------
  statement {
    sid    = "DenyChangingDeployAccess"
    effect = "Deny"
    actions = [
      "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
      "iam:UpdateAssumeRolePolicy", "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
      "iam:DeleteRole", "iam:UpdateRole", "iam:TagRole", "iam:UntagRole",
    ]
    resources = local.protected_role_arns
  }
  statement {
    sid       = "DenyChangingTheBoundary"
    effect    = "Deny"
    actions   = ["iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"]
    resources = [local.boundary_arn, local.workload_boundary_arn]
  }
  statement {
    sid       = "DenyRemovingBoundaries"
    effect    = "Deny"
    actions   = ["iam:DeleteRolePermissionsBoundary"]
    resources = ["${local.arn}:iam::${local.account}:role/*"]
  }
  statement {
    sid    = "DenyRolesWithoutTheWorkloadBoundary"
    effect = "Deny"
    # A role it creates or gives permissions to carries the workload boundary, whatever its policies
    # say: no role it makes can hold more than a workload needs (no IAM, no data destruction).
    actions = [
      "iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
      "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary",
    ]
    resources = ["${local.arn}:iam::${local.account}:role/*"]
    condition {
      test     = "StringNotEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.workload_boundary_arn]
    }
  }
  statement {
    sid       = "DenyAttachingOtherPolicies"
    effect    = "Deny"
    actions   = ["iam:AttachRolePolicy"]
    resources = ["${local.arn}:iam::${local.account}:role/*"]
    condition {
      test     = "ArnNotEquals"
      variable = "iam:PolicyARN"
      values   = local.attachable_policy_arns
    }
  }
  statement {
    sid    = "DenyPassingTheMigrationRole"
    effect = "Deny"
    # Terraform never hands it to a service; only the migration runner's copies of the migration
    # task definition name it (modules/ecs, migration.tf).
    actions   = ["iam:PassRole"]
    resources = ["${local.arn}:iam::${local.account}:role/${var.name}-migration", "${local.arn}:iam::${local.account}:role/${var.name}-break-glass"]
  }
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
    sid    = "DenyDecidingWhatProductionRuns"
    effect = "Deny"
    # Images and their build records are the build role's (build.tf); the repository's policy,
    # which says so, is an administrator's.
    actions = [
      "ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
      "ecr:SetRepositoryPolicy", "ecr:DeleteRepositoryPolicy", "ecr:BatchDeleteImage", "ecr:DeleteRepository",
      "ssm:PutParameter", "ssm:DeleteParameter", "ssm:DeleteParameters",
    ]
    resources = [var.ecr_repository_arn, local.image_records_arn, local.attestations_arn]
  }

  # --- the deployment contract and records (Terraform creates them; provision reads them) ---------
  statement {
    sid       = "ReadDeploymentContract"
    actions   = ["ssm:GetParameter"]
    resources = [local.deployment_parameter_arn]
  }

  # --- provision: Terraform state ------------------------------------------------------------------
  statement {
    sid       = "StateObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.arn}:s3:::${var.state_bucket}/${var.state_key}", "${local.arn}:s3:::${var.state_bucket}/${var.state_key}.tflock"]
  }
  statement {
    sid       = "StateBucket"
    actions   = ["s3:ListBucket"]
    resources = ["${local.arn}:s3:::${var.state_bucket}"]
  }

  # --- provision: the stack's own resources, by name -----------------------------------------------
  statement {
    sid = "StackLoadBalancing"
    actions = [
      "elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:DeleteLoadBalancer",
      "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetSecurityGroups",
      "elasticloadbalancing:SetSubnets", "elasticloadbalancing:CreateTargetGroup",
      "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:ModifyTargetGroup",
      "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:CreateListener",
      "elasticloadbalancing:DeleteListener", "elasticloadbalancing:ModifyListener",
      "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
    ]
    resources = [
      "${local.arn}:elasticloadbalancing:${local.region}:${local.account}:loadbalancer/app/${var.name}/*",
      "${local.arn}:elasticloadbalancing:${local.region}:${local.account}:targetgroup/${var.name}-*/*",
      "${local.arn}:elasticloadbalancing:${local.region}:${local.account}:listener/app/${var.name}/*",
    ]
  }
  statement {
    sid = "StackEcs"
    actions = [
      "ecs:CreateCluster", "ecs:DeleteCluster", "ecs:UpdateClusterSettings", "ecs:CreateService",
      "ecs:UpdateService", "ecs:DescribeServices", "ecs:DeleteService", "ecs:TagResource", "ecs:UntagResource",
      "ecs:DescribeClusters",
    ]
    resources = [
      "${local.arn}:ecs:${local.region}:${local.account}:cluster/${var.name}",
      "${local.arn}:ecs:${local.region}:${local.account}:service/${var.name}/${var.name}-*",
      "${local.arn}:ecs:${local.region}:${local.account}:task-definition/${var.name}:*",
      "${local.arn}:ecs:${local.region}:${local.account}:task-definition/${var.name}-migration:*",
    ]
  }
  statement {
    sid = "StackIam"
    actions = [
      "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:TagRole", "iam:UntagRole",
      "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
      "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:GetRolePolicy",
      "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
    ]
    resources = ["${local.arn}:iam::${local.account}:role/${var.name}-*"]
  }
  statement {
    sid = "ReadDeployAccess"
    # What an apply refreshes of this module's own boundaries and the account's OIDC provider; it
    # changes none of them (an administrator's apply does).
    actions   = ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyTags", "iam:GetOpenIDConnectProvider"]
    resources = [local.boundary_arn, local.workload_boundary_arn, "${local.arn}:iam::${local.account}:oidc-provider/${local.oidc_url}"]
  }
  # Each stack role goes only to the service that runs as it.
  statement {
    sid       = "StackIamPassToEcs"
    actions   = ["iam:PassRole"]
    resources = ["${local.arn}:iam::${local.account}:role/${var.name}-task", "${local.arn}:iam::${local.account}:role/${var.name}-task-execution"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
  statement {
    sid       = "StackIamPassToTheGuard"
    actions   = ["iam:PassRole"]
    resources = ["${local.arn}:iam::${local.account}:role/${var.name}-guard"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com"]
    }
  }
  statement {
    sid       = "StackIamPassToTheMigrationRunner"
    actions   = ["iam:PassRole"]
    resources = ["${local.arn}:iam::${local.account}:role/${var.name}-migration-runner"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com"]
    }
  }
  statement {
    sid       = "StackIamPassToFlowLogs"
    actions   = ["iam:PassRole"]
    resources = ["${local.arn}:iam::${local.account}:role/${var.name}-vpc-flow-logs"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["vpc-flow-logs.amazonaws.com"]
    }
  }
  statement {
    sid       = "StackIamPassToDatabaseMonitoring"
    actions   = ["iam:PassRole"]
    resources = ["${local.arn}:iam::${local.account}:role/${var.name}-rds-monitoring"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["monitoring.rds.amazonaws.com"]
    }
  }
  statement {
    sid = "StackDatabase"
    actions = [
      # Never modify or delete the instance (DenyDestroyingData): its deletion protection, backups
      # and final snapshot are the break-glass role's.
      "rds:CreateDBInstance", "rds:CreateDBSubnetGroup",
      "rds:ModifyDBSubnetGroup", "rds:DeleteDBSubnetGroup", "rds:AddTagsToResource",
      "rds:RemoveTagsFromResource", "rds:ListTagsForResource", "rds:DescribeDBInstances",
      "rds:DescribeDBSubnetGroups",
    ]
    resources = [
      "${local.arn}:rds:${local.region}:${local.account}:db:${var.name}",
      "${local.arn}:rds:${local.region}:${local.account}:subgrp:${var.name}",
      "${local.arn}:rds:${local.region}:${local.account}:og:*",
      "${local.arn}:rds:${local.region}:${local.account}:pg:*",
      "${local.arn}:rds:${local.region}:${local.account}:secgrp:*",
    ]
  }
  statement {
    sid = "StackDatabaseManagedSecret"
    # manage_master_user_password: RDS creates the secret in the caller's name, always named rds!...
    actions   = ["secretsmanager:CreateSecret", "secretsmanager:TagResource", "secretsmanager:DescribeSecret"]
    resources = ["${local.arn}:secretsmanager:${local.region}:${local.account}:secret:rds!*"]
  }
  statement {
    sid = "StackDatabaseRuntimeSecret"
    # The service's own credentials: Terraform writes the secret without its password (the first
    # migration adds it) and reads that first version back on refresh.
    actions = [
      "secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:DescribeSecret",
      "secretsmanager:UpdateSecret", "secretsmanager:PutSecretValue", "secretsmanager:GetSecretValue",
      "secretsmanager:GetResourcePolicy", "secretsmanager:TagResource", "secretsmanager:UntagResource",
    ]
    resources = [local.runtime_secret_arn]
  }
  statement {
    sid = "StackLogs"
    actions = [
      "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:AssociateKmsKey",
      "logs:TagResource", "logs:UntagResource", "logs:ListTagsForResource",
    ]
    resources = ["${local.arn}:logs:${local.region}:${local.account}:log-group:/switchyard/${var.name}/*"]
  }
  statement {
    sid = "StackAlarms"
    actions = [
      "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource",
      "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource", "cloudwatch:DescribeAlarms",
    ]
    resources = ["${local.arn}:cloudwatch:${local.region}:${local.account}:alarm:${var.name}-*"]
  }
  statement {
    sid = "StackGuard"
    # The guard (modules/guard): its function (and its asynchronous invocation settings), the
    # EventBridge rule that invokes it, its log group, and where its failures go (dead-letter queue,
    # failures topic); the migration runner's function and log group (modules/ecs, migration.tf).
    actions = [
      "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration",
      "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:ListVersionsByFunction",
      "lambda:GetFunctionCodeSigningConfig", "lambda:AddPermission", "lambda:RemovePermission", "lambda:GetPolicy",
      "lambda:TagResource", "lambda:UntagResource", "lambda:ListTags",
      "lambda:PutFunctionEventInvokeConfig", "lambda:UpdateFunctionEventInvokeConfig",
      "lambda:GetFunctionEventInvokeConfig", "lambda:DeleteFunctionEventInvokeConfig",
      "events:PutRule", "events:DeleteRule", "events:DescribeRule", "events:PutTargets", "events:RemoveTargets",
      "events:ListTargetsByRule", "events:TagResource", "events:UntagResource", "events:ListTagsForResource",
      "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:AssociateKmsKey",
      "logs:TagResource", "logs:UntagResource", "logs:ListTagsForResource",
      "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes",
      "sqs:ListQueueTags", "sqs:TagQueue", "sqs:UntagQueue",
      "sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
      "sns:ListTagsForResource", "sns:TagResource", "sns:UntagResource",
    ]
    resources = [
      "${local.arn}:lambda:${local.region}:${local.account}:function:${var.name}-guard",
      "${local.arn}:events:${local.region}:${local.account}:rule/${var.name}-guard",
      "${local.arn}:logs:${local.region}:${local.account}:log-group:/aws/lambda/${var.name}-guard",
      local.guard_dead_letter_queue_arn,
      local.guard_failure_topic_arn,
      "${local.arn}:lambda:${local.region}:${local.account}:function:${var.name}-migration-runner",
      "${local.arn}:logs:${local.region}:${local.account}:log-group:/aws/lambda/${var.name}-migration-runner",
    ]
  }
  statement {
    sid = "StackDeploymentContract"
    # Terraform writes the contract; nothing else in Parameter Store is this role's to change.
    actions = [
      "ssm:PutParameter", "ssm:DeleteParameter", "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource",
      "ssm:ListTagsForResource",
    ]
    resources = [local.deployment_parameter_arn]
  }
  statement {
    sid = "StackLeaseTable"
    # Terraform creates and reads the lease table (TTL, point-in-time recovery, tags); it is
    # encrypted with the stack's key, whose use StackKey grants (kms:CreateGrant, kms:DescribeKey).
    actions = [
      "dynamodb:CreateTable", "dynamodb:UpdateTable", "dynamodb:DescribeTable",
      "dynamodb:DescribeContinuousBackups", "dynamodb:UpdateContinuousBackups",
      "dynamodb:DescribeTimeToLive", "dynamodb:UpdateTimeToLive",
      "dynamodb:ListTagsOfResource", "dynamodb:TagResource", "dynamodb:UntagResource",
    ]
    resources = [local.lease_table_arn]
  }
  statement {
    sid = "StackLogBucket"
    actions = [
      "s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy",
      "s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock", "s3:PutBucketVersioning",
      "s3:GetBucketVersioning", "s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration",
      "s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration", "s3:PutBucketTagging", "s3:GetBucketTagging",
      "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketWebsite", "s3:GetBucketLogging", "s3:GetAccelerateConfiguration",
      "s3:GetBucketRequestPayment", "s3:GetReplicationConfiguration", "s3:GetBucketObjectLockConfiguration",
      "s3:GetBucketOwnershipControls", "s3:GetBucketLocation",
    ]
    resources = ["${local.arn}:s3:::${var.name}-alb-logs-*"]
  }
  statement {
    sid = "StackKey"
    actions = [
      # Not its policy nor its deletion (DenyDestroyingData): those are the break-glass role's.
      "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
      "kms:EnableKeyRotation", "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource",
      "kms:CreateGrant", "kms:Decrypt", "kms:GenerateDataKey",
    ]
    resources = ["${local.arn}:kms:${local.region}:${local.account}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [local.environment_tag_value]
    }
  }
  statement {
    sid       = "StackKeyAlias"
    actions   = ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"]
    resources = ["${local.arn}:kms:${local.region}:${local.account}:alias/${var.name}", "${local.arn}:kms:${local.region}:${local.account}:key/*"]
  }
  statement {
    sid = "StackNetworkTagged"
    # EC2 network resources have generated IDs; they are scoped by the stack's tag instead.
    actions = [
      "ec2:DeleteVpc", "ec2:ModifyVpcAttribute", "ec2:DescribeVpcAttribute", "ec2:DeleteSubnet", "ec2:DeleteRouteTable",
      "ec2:CreateRoute", "ec2:DeleteRoute", "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable",
      "ec2:DeleteInternetGateway", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway",
      "ec2:DeleteNatGateway", "ec2:ReleaseAddress", "ec2:DeleteSecurityGroup",
      "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress",
      "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress", "ec2:DeleteFlowLogs",
    ]
    resources = ["${local.arn}:ec2:${local.region}:${local.account}:*/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Service"
      values   = [split("-", var.name)[0]]
    }
    # The service's other environments carry the same Service tag: the Environment tag tells them apart.
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [local.environment_tag_value]
    }
  }
  statement {
    sid = "StackNetworkCreateTagged"
    # Creates are allowed only when the request tags the new resource with the stack's Service tag.
    actions = [
      "ec2:CreateVpc", "ec2:CreateSubnet", "ec2:CreateRouteTable", "ec2:CreateInternetGateway",
      "ec2:CreateNatGateway", "ec2:AllocateAddress", "ec2:CreateSecurityGroup", "ec2:CreateFlowLogs",
    ]
    resources = ["${local.arn}:ec2:${local.region}:${local.account}:*/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Service"
      values   = [split("-", var.name)[0]]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Environment"
      values   = [local.environment_tag_value]
    }
  }
  statement {
    sid       = "StackNetworkTagOnCreate"
    actions   = ["ec2:CreateTags"]
    resources = ["${local.arn}:ec2:${local.region}:${local.account}:*/*"]
    condition {
      test     = "StringEquals"
      variable = "ec2:CreateAction"
      values   = ["CreateVpc", "CreateSubnet", "CreateRouteTable", "CreateInternetGateway", "CreateNatGateway", "AllocateAddress", "CreateSecurityGroup", "CreateFlowLogs"]
    }
  }

  # --- what AWS cannot scope to a resource ARN ------------------------------------------------------
  statement {
    sid = "UnscopableReads"
    # Describe/List/Get of these services take no resource ARN; reads only.
    actions   = local.unscopable_reads
    resources = ["*"]
  }
  statement {
    sid = "StackImageRepository"
    # The root that owns the image repository (staging) creates it; both read it. Its policy (only
    # the build role pushes) is an administrator's apply, as the boundaries are.
    actions = [
      "ecr:CreateRepository", "ecr:DescribeRepositories", "ecr:PutImageScanningConfiguration",
      "ecr:PutImageTagMutability", "ecr:TagResource", "ecr:UntagResource", "ecr:ListTagsForResource",
      "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy",
    ]
    resources = [var.ecr_repository_arn]
  }
  statement {
    sid = "UnscopableWrites"
    # RegisterTaskDefinition (the bootstrap revision) takes no resource ARN; CreateKey has no key yet.
    # Revisions are never deregistered (cold rollbacks need them).
    actions   = ["ecs:RegisterTaskDefinition", "kms:CreateKey"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "infrastructure" {
  name   = "provision"
  role   = aws_iam_role.infrastructure.id
  policy = data.aws_iam_policy_document.infrastructure.json
}

# The ceiling of the infrastructure role: whatever its own policy comes to say, it can never hold
# more than this, and it may not change this policy, its own or the release role's access.
resource "aws_iam_policy" "infrastructure_boundary" {
  name        = local.boundary_name
  description = "Permissions boundary of ${var.name}-infrastructure"
  policy      = data.aws_iam_policy_document.infrastructure.json
  tags        = var.tags
}
