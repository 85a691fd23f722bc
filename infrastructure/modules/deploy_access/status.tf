# A read-only role for status.yml from another environment's jobs: production's deploy job reads
# the digest live in staging (scripts/live_image.py) before it promotes that digest. It may read
# this stack's contract, live state, lease and records, and change nothing.

locals {
  status_readers = length(var.status_reader_environments) > 0
}

data "aws_iam_policy_document" "status_assume" {
  count = local.status_readers ? 1 : 0
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
      values   = [for environment in var.status_reader_environments : "repo:${var.github_repository}:environment:${environment}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_url}:repository_id"
      values   = [var.github_repository_id]
    }
    # Only the deploy workflow as it is on the default branch reads across environments.
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_url}:job_workflow_ref"
      values   = ["${var.github_repository}/.github/workflows/deploy.yml@refs/heads/${var.default_branch}"]
    }
  }
}

resource "aws_iam_role" "status" {
  count              = local.status_readers ? 1 : 0
  name               = "${var.name}-status"
  assume_role_policy = data.aws_iam_policy_document.status_assume[0].json
  tags               = var.tags
}

data "aws_iam_policy_document" "status" {
  statement {
    sid       = "ReadDeploymentContract"
    actions   = ["ssm:GetParameter"]
    resources = [local.deployment_parameter_arn]
  }
  statement {
    sid       = "ReadDeploymentLease"
    actions   = ["dynamodb:GetItem"]
    resources = [local.lease_table_arn]
  }
  statement {
    sid       = "ReadDeploymentRecords"
    actions   = ["logs:GetLogEvents"]
    resources = ["${local.arn}:logs:${local.region}:${local.account}:log-group:/switchyard/${var.name}/deployments:*"]
  }
  statement {
    sid       = "ReadServices"
    actions   = ["ecs:DescribeServices"]
    resources = ["${local.arn}:ecs:${local.region}:${local.account}:service/${var.name}/*"]
  }
  statement {
    sid = "UnscopableReads"
    # These describes take no resource ARN; reads only.
    actions = [
      "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules",
      "elasticloadbalancing:DescribeTargetHealth", "ecs:DescribeTaskDefinition",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "status" {
  count  = local.status_readers ? 1 : 0
  name   = "read-status"
  role   = aws_iam_role.status[0].id
  policy = data.aws_iam_policy_document.status.json
}
