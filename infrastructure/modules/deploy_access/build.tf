# Who decides what production runs: the build role, the only one that may push images (the
# repository's policy, in the roots, denies everyone else) and write their build records, and the
# attest role, the only one that may attest that a commit on the default branch built an image.
# Production's preflight and its migration runner accept only an attested image.
#
# - deploy.yml's build job (its own GitHub environment, on workflow_branch) pushes the image and
#   records its digest with the commit and ref that built it: /switchyard/images/<repository>/<hex>.
# - deploy.yml's production job (on the default branch, in a status reader environment) checks that
#   the build's commit is on that branch, then attests it, once and for good:
#   /switchyard/attestations/<repository>/<branch>/<hex>. A job on develop cannot write it.

locals {
  repository_name      = regex("repository/(.+)$", var.ecr_repository_arn)[0]
  image_records_prefix = "/switchyard/images/${local.repository_name}/"
  image_records_arn    = "${local.arn}:ssm:${local.region}:${local.account}:parameter${local.image_records_prefix}*"
  attestations_prefix  = "/switchyard/attestations/${local.repository_name}/${var.default_branch}/"
  attestations_arn     = "${local.arn}:ssm:${local.region}:${local.account}:parameter${local.attestations_prefix}*"
  provenance_trusts = {
    build  = { environments = [var.build_environment], workflow = "deploy.yml@refs/heads/${var.workflow_branch}" }
    attest = { environments = var.status_reader_environments, workflow = "deploy.yml@refs/heads/${var.default_branch}" }
  }
  provenance_roles = { for k, v in local.provenance_trusts : k => v if var.image_push && length(v.environments) > 0 }
}

data "aws_iam_policy_document" "provenance_assume" {
  for_each = local.provenance_roles
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
      values   = [for environment in each.value.environments : "repo:${var.github_repository}:environment:${environment}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_url}:repository_id"
      values   = [var.github_repository_id]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_url}:job_workflow_ref"
      values   = ["${var.github_repository}/.github/workflows/${each.value.workflow}"]
    }
  }
}

resource "aws_iam_role" "provenance" {
  for_each             = local.provenance_roles
  name                 = "${var.name}-${each.key}"
  assume_role_policy   = data.aws_iam_policy_document.provenance_assume[each.key].json
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

data "aws_iam_policy_document" "attest" {
  statement {
    sid       = "ReadBuildRecords"
    actions   = ["ssm:GetParameter"]
    resources = [local.image_records_arn, local.attestations_arn]
  }
  statement {
    sid = "Attest"
    # scripts/image_record.py writes an attestation once (no overwrite) and never deletes one.
    actions   = ["ssm:PutParameter"]
    resources = [local.attestations_arn]
  }
}

resource "aws_iam_role_policy" "provenance" {
  for_each = local.provenance_roles
  name     = each.key
  role     = aws_iam_role.provenance[each.key].id
  policy   = each.key == "build" ? data.aws_iam_policy_document.build.json : data.aws_iam_policy_document.attest.json
}
