# One root for the real environments. staging/ and production/ hold byte-identical copies of this
# file, variables.tf, outputs.tf, versions.tf and tests/ (tests/infrastructure/test_environment_roots.py
# keeps them so); what makes an environment itself lives in its terraform.tfvars and backend.hcl.
provider "aws" {
  region = var.region
  default_tags {
    tags = { Repository = "switchyard" }
  }
}

locals {
  service_name = "switchyard"
  name         = "${local.service_name}-${var.environment}"

  # The one image repository: built once on develop, deployed by digest to staging, then
  # production. The root without ecr_repository_arn (staging) creates it; the other uses it.
  create_ecr_repository = var.ecr_repository_arn == null
  ecr_repository_arn    = local.create_ecr_repository ? aws_ecr_repository.app[0].arn : var.ecr_repository_arn
  ecr_repository_parts  = local.create_ecr_repository ? null : regex("^arn:aws[a-z-]*:ecr:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):repository/(?P<name>.+)$", var.ecr_repository_arn)
  ecr_repository_url    = local.create_ecr_repository ? aws_ecr_repository.app[0].repository_url : "${local.ecr_repository_parts.account}.dkr.ecr.${local.ecr_repository_parts.region}.amazonaws.com/${local.ecr_repository_parts.name}"
}

module "stack" {
  source = "../../modules/stack"

  service_name        = local.service_name
  environment         = var.environment
  vpc_cidr            = var.vpc_cidr
  availability_zones  = var.availability_zones
  nat_gateway         = var.nat_gateway
  certificate_arn     = var.certificate_arn
  test_listener_cidrs = var.runner_cidrs
  bootstrap_image     = var.bootstrap_image
  alarm_actions       = var.alarm_topic_arns
  # The migration runner runs only this repository's images, by digest (modules/ecs, migration.tf).
  image_repository_url     = local.ecr_repository_url
  image_provenance         = var.image_provenance
  guard_package            = var.guard_package
  error_rate_alarm_percent = var.alarm_rule.error_threshold_percent
  guard_min_requests       = var.alarm_rule.min_requests
  # Every role the stack creates carries the workload boundary: the infrastructure role may
  # create none without it (modules/deploy_access, boundaries.tf).
  permissions_boundary = module.deploy_access.workload_boundary_arn

  live_desired_count       = var.live_desired_count
  task_cpu                 = var.task_cpu
  task_memory              = var.task_memory
  db_instance_class        = var.db_instance_class
  db_allocated_storage     = var.db_allocated_storage
  db_multi_az              = var.db_multi_az
  db_backup_retention_days = var.db_backup_retention_days

  # The same protections in every real environment, so that a promote on staging rehearses
  # exactly what production does: not variables on purpose.
  deletion_protection = true
  log_retention_days  = 365
}

# GitHub Actions' way in: OIDC, a release role and a bounded infrastructure role, limited to this
# stack (modules/deploy_access).
module "deploy_access" {
  source                     = "../../modules/deploy_access"
  name                       = local.name
  github_repository          = var.github_repository
  github_repository_id       = var.github_repository_id
  github_environment         = var.environment
  workflow_branch            = var.workflow_branch
  status_reader_environments = var.status_reader_environments
  create_oidc_provider       = var.create_oidc_provider
  state_bucket               = var.state_bucket
  state_key                  = var.state_key
  ecr_repository_arn         = local.ecr_repository_arn
  image_push                 = local.create_ecr_repository # the environment that owns the repository builds into it
}

resource "aws_ecr_repository" "app" {
  count                = local.create_ecr_repository ? 1 : 0
  name                 = "${local.service_name}/app"
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS"
  }
}

# Only the build role pushes (modules/deploy_access, build.tf): not a release role, not Terraform.
# An administrator's apply sets this policy; the infrastructure role may not change it.
data "aws_iam_policy_document" "repository" {
  count = local.create_ecr_repository ? 1 : 0
  statement {
    sid    = "OnlyTheBuildRolePushes"
    effect = "Deny"
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    actions = ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"]
    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = [module.deploy_access.build_role_arn]
    }
  }
}

resource "aws_ecr_repository_policy" "app" {
  count      = local.create_ecr_repository ? 1 : 0
  repository = aws_ecr_repository.app[0].name
  policy     = data.aws_iam_policy_document.repository[0].json
}

# The repository was a single resource before both roots shared this file.
moved {
  from = aws_ecr_repository.app
  to   = aws_ecr_repository.app[0]
}
