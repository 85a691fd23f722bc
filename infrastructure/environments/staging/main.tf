provider "aws" {
  region = var.region
  default_tags {
    tags = { Repository = "switchyard" }
  }
}

module "stack" {
  source = "../../modules/stack"

  service_name        = "switchyard"
  environment         = "staging"
  vpc_cidr            = "10.20.0.0/16"
  availability_zones  = var.availability_zones
  nat_gateway         = "single"
  certificate_arn     = var.certificate_arn
  test_listener_cidrs = var.runner_cidrs
  bootstrap_image     = var.bootstrap_image
  alarm_actions       = var.alarm_topic_arns

  # Staging: small and cheap, but protected like production so that a promote
  # rehearses the same steps.
  live_desired_count       = 1
  task_cpu                 = 256
  task_memory              = 512
  db_instance_class        = "db.t4g.micro"
  db_multi_az              = false
  db_backup_retention_days = 3
  deletion_protection      = true
  log_retention_days       = 365
}

# GitHub Actions' way in: OIDC and a deploy role limited to this stack (modules/deploy_access).
module "deploy_access" {
  source               = "../../modules/deploy_access"
  name                 = "switchyard-staging"
  github_repository    = var.github_repository
  github_environment   = "staging"
  create_oidc_provider = var.create_oidc_provider
  state_bucket         = var.state_bucket
  state_key            = "switchyard/staging/terraform.tfstate"
  ecr_repository_arn   = aws_ecr_repository.app.arn
}

# The one image repository: built once on develop, deployed by digest to staging, then production.
resource "aws_ecr_repository" "app" {
  name                 = "switchyard/app"
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS"
  }
}
