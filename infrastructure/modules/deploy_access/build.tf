# The build role: the only one that may push images to the repository (its policy, in the roots,
# denies everyone else) and write the images' build records, which production's preflight reads.
#
# - deploy.yml's build job (its own GitHub environment, on workflow_branch) pushes the image and
#   records its digest with the commit and ref that built it: /switchyard/images/<repository>/<hex>.
# - deploy.yml's production job (on the default branch, in a status reader environment) attests,
#   after checking that the build's commit is on that branch, by adding it to the record: an image
#   built on a branch that never reached main has no attestation, and production refuses it.

locals {
  repository_name      = regex("repository/(.+)$", var.ecr_repository_arn)[0]
  image_records_prefix = "/switchyard/images/${local.repository_name}/"
  image_records_arn    = "${local.arn}:ssm:${local.region}:${local.account}:parameter${local.image_records_prefix}*"
  build_trusts = {
    build  = { environments = [var.build_environment], workflow = "deploy.yml@refs/heads/${var.workflow_branch}" }
    attest = { environments = var.status_reader_environments, workflow = "deploy.yml@refs/heads/${var.default_branch}" }
  }
}

data "aws_iam_policy_document" "build_assume" {
  count = var.image_push ? 1 : 0
  dynamic "statement" {
    for_each = { for k, v in local.build_trusts : k => v if length(v.environments) > 0 }
    content {
      sid     = statement.key == "build" ? "TheBuildJob" : "TheProductionJobAttests"
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
        values   = [for environment in statement.value.environments : "repo:${var.github_repository}:environment:${environment}"]
      }
      condition {
        test     = "StringEquals"
        variable = "${local.oidc_url}:repository_id"
        values   = [var.github_repository_id]
      }
      condition {
        test     = "StringEquals"
        variable = "${local.oidc_url}:job_workflow_ref"
        values   = ["${var.github_repository}/.github/workflows/${statement.value.workflow}"]
      }
    }
  }
}

resource "aws_iam_role" "build" {
  count                = var.image_push ? 1 : 0
  name                 = "${var.name}-build"
  assume_role_policy   = data.aws_iam_policy_document.build_assume[0].json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "build" {
  statement {
    sid = "PushImages"
    actions = [
      "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
      "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage", "ecr:DescribeImages",
    ]
    resources = [var.ecr_repository_arn]
  }
  statement {
    sid       = "WriteBuildRecords"
    actions   = ["ssm:GetParameter", "ssm:PutParameter"]
    resources = [local.image_records_arn]
  }
  statement {
    sid = "UnscopableReads"
    # The registry's login token takes no resource; it grants nothing by itself.
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "build" {
  count  = var.image_push ? 1 : 0
  name   = "build"
  role   = aws_iam_role.build[0].id
  policy = data.aws_iam_policy_document.build.json
}
