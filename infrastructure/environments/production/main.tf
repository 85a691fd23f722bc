provider "aws" {
  region = var.region
  default_tags {
    tags = { Repository = "switchyard" }
  }
}

module "stack" {
  source = "../../modules/stack"

  service_name        = "switchyard"
  environment         = "production"
  vpc_cidr            = "10.30.0.0/16"
  availability_zones  = var.availability_zones
  nat_gateway         = "per_az"
  certificate_arn     = var.certificate_arn
  test_listener_cidrs = var.runner_cidrs
  bootstrap_image     = var.bootstrap_image
  alarm_actions       = var.alarm_topic_arns

  # Production: survives a zone outage, keeps two weeks of backups, cannot be deleted by accident.
  live_desired_count       = 3
  task_cpu                 = 512
  task_memory              = 1024
  db_instance_class        = "db.t4g.medium"
  db_allocated_storage     = 50
  db_multi_az              = true
  db_backup_retention_days = 14
  deletion_protection      = true
  log_retention_days       = 365
}

# GitHub Actions' way in: OIDC and a deploy role limited to this stack (modules/deploy_access).
module "deploy_access" {
  source               = "../../modules/deploy_access"
  name                 = "switchyard-production"
  github_repository    = var.github_repository
  github_environment   = "production"
  create_oidc_provider = var.create_oidc_provider
  state_bucket         = var.state_bucket
  state_key            = "switchyard/production/terraform.tfstate"
  ecr_repository_arn   = var.ecr_repository_arn
}
