# GitHub Actions reaches AWS through OIDC (no long-lived keys) and assumes one role per
# environment. The role may do what provision.yml, promote.yml and rollback.yml need on this
# stack's resources (named "<name>-..."), and nothing else. Describe/List/Get calls and a few
# creates that AWS cannot scope to a resource ARN are grouped, with the reason, at the end.

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
}

resource "aws_iam_openid_connect_provider" "github" {
  count          = var.create_oidc_provider ? 1 : 0
  url            = "https://${local.oidc_url}"
  client_id_list = ["sts.amazonaws.com"]
  tags           = var.tags
}

data "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 0 : 1
  url   = "https://${local.oidc_url}"
}

locals {
  # The account's GitHub OIDC provider: created here, or the one another stack created.
  oidc_provider_arn = var.create_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : data.aws_iam_openid_connect_provider.github[0].arn
}

data "aws_iam_policy_document" "assume" {
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
    # Only jobs of this repository running in this GitHub environment.
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_url}:sub"
      values   = ["repo:${var.github_repository}:environment:${var.github_environment}"]
    }
    # And, where a branch is named (production: main), only this repository's own workflow files
    # as they are on that branch: a workflow edited on another branch cannot assume the role.
    dynamic "condition" {
      for_each = var.workflow_branch == null ? [] : [var.workflow_branch]
      content {
        test     = "StringEquals"
        variable = "${local.oidc_url}:job_workflow_ref"
        values   = [for file in var.workflow_files : "${var.github_repository}/.github/workflows/${file}@refs/heads/${condition.value}"]
      }
    }
  }
}

resource "aws_iam_role" "deploy" {
  name                 = "${var.name}-deploy"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = 7200
  tags                 = var.tags
}

data "aws_iam_policy_document" "deploy" {
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

  # --- promote / rollback: the release-owned settings -------------------------------------------
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
    sid       = "PassTaskRoles"
    actions   = ["iam:PassRole"]
    resources = ["${local.arn}:iam::${local.account}:role/${var.name}-task", "${local.arn}:iam::${local.account}:role/${var.name}-task-execution"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
  statement {
    sid       = "DeploymentRecords"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:GetLogEvents"]
    resources = ["${local.arn}:logs:${local.region}:${local.account}:log-group:/switchyard/${var.name}/deployments:*"]
  }
  statement {
    sid = "PushImages"
    actions = [
      "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
      "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage", "ecr:DescribeImages",
    ]
    resources = [var.ecr_repository_arn]
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
      "elasticloadbalancing:DeleteListener", "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
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
      "ecs:DeleteService", "ecs:TagResource", "ecs:UntagResource", "ecs:DescribeClusters",
    ]
    resources = [
      "${local.arn}:ecs:${local.region}:${local.account}:cluster/${var.name}",
      "${local.arn}:ecs:${local.region}:${local.account}:service/${var.name}/${var.name}-*",
      "${local.arn}:ecs:${local.region}:${local.account}:task-definition/${var.name}:*",
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
    sid       = "StackIamPassToServices"
    actions   = ["iam:PassRole"]
    resources = ["${local.arn}:iam::${local.account}:role/${var.name}-*"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com", "vpc-flow-logs.amazonaws.com", "monitoring.rds.amazonaws.com", "lambda.amazonaws.com"]
    }
  }
  statement {
    sid = "StackDatabase"
    actions = [
      "rds:CreateDBInstance", "rds:ModifyDBInstance", "rds:DeleteDBInstance", "rds:CreateDBSubnetGroup",
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
    # The guard (modules/guard): its function, the EventBridge rule that invokes it, and its log group.
    actions = [
      "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration",
      "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:ListVersionsByFunction",
      "lambda:GetFunctionCodeSigningConfig", "lambda:AddPermission", "lambda:RemovePermission", "lambda:GetPolicy",
      "lambda:TagResource", "lambda:UntagResource", "lambda:ListTags",
      "events:PutRule", "events:DeleteRule", "events:DescribeRule", "events:PutTargets", "events:RemoveTargets",
      "events:ListTargetsByRule", "events:TagResource", "events:UntagResource", "events:ListTagsForResource",
      "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:AssociateKmsKey",
      "logs:TagResource", "logs:UntagResource", "logs:ListTagsForResource",
    ]
    resources = [
      "${local.arn}:lambda:${local.region}:${local.account}:function:${var.name}-guard",
      "${local.arn}:events:${local.region}:${local.account}:rule/${var.name}-guard",
      "${local.arn}:logs:${local.region}:${local.account}:log-group:/aws/lambda/${var.name}-guard",
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
      "dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:DescribeTable",
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
      "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:GetKeyRotationStatus",
      "kms:EnableKeyRotation", "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource",
      "kms:ScheduleKeyDeletion", "kms:CreateGrant", "kms:Decrypt", "kms:GenerateDataKey",
    ]
    resources = ["${local.arn}:kms:${local.region}:${local.account}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [split("-", var.name)[length(split("-", var.name)) - 1]]
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
    actions = [
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
      "logs:DescribeLogGroups", "cloudwatch:GetMetricStatistics",
      "kms:ListAliases", "ecr:GetAuthorizationToken", "sts:GetCallerIdentity",
      "ssm:DescribeParameters",
    ]
    resources = ["*"]
  }
  statement {
    sid = "UnscopableWrites"
    # RegisterTaskDefinition takes no resource ARN; CreateKey has no key yet. Revisions are never
    # deregistered (cold rollbacks need them), so DeregisterTaskDefinition is not granted.
    actions   = ["ecs:RegisterTaskDefinition", "kms:CreateKey"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "deploy" {
  name   = "provision-promote-rollback"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
}
