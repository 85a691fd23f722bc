# The service's whole AWS home, composed from the shared modules. Each environment root
# calls this once with its own sizes and protections.

locals {
  name = "${var.service_name}-${var.environment}"
  tags = merge(var.tags, {
    Service     = var.service_name
    Environment = var.environment
    ManagedBy   = "terraform"
  })
  https          = var.certificate_arn != null
  listener_ports = local.https ? [80, 443] : [80]
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_elb_service_account" "current" {}
data "aws_partition" "current" {}

module "network" {
  source                  = "../network"
  permissions_boundary    = var.permissions_boundary
  name                    = local.name
  cidr_block              = var.vpc_cidr
  availability_zones      = var.availability_zones
  nat_gateway             = var.nat_gateway
  flow_log_retention_days = var.log_retention_days
  kms_key_arn             = aws_kms_key.this.arn
  tags                    = local.tags
}

module "security" {
  source              = "../security"
  name                = local.name
  vpc_id              = module.network.vpc_id
  listener_ports      = local.listener_ports
  test_listener_port  = var.test_listener_port
  test_listener_cidrs = var.test_listener_cidrs
  container_port      = var.container_port
  tags                = local.tags
}

module "load_balancer" {
  source               = "../load_balancer"
  name                 = local.name
  vpc_id               = module.network.vpc_id
  public_subnet_ids    = module.network.public_subnet_ids
  security_group_id    = module.security.alb_security_group_id
  certificate_arn      = var.certificate_arn
  test_listener_port   = var.test_listener_port
  container_port       = var.container_port
  health_check_path    = var.health_check_path
  deregistration_delay = var.deregistration_delay
  deletion_protection  = var.deletion_protection
  access_logs_bucket   = aws_s3_bucket_policy.access_logs.bucket
  tags                 = local.tags
}

module "database" {
  source                       = "../database"
  name                         = local.name
  private_subnet_ids           = module.network.private_subnet_ids
  security_group_id            = module.security.database_security_group_id
  instance_class               = var.db_instance_class
  allocated_storage            = var.db_allocated_storage
  multi_az                     = var.db_multi_az
  deletion_protection          = var.deletion_protection
  backup_retention_days        = var.db_backup_retention_days
  kms_key_arn                  = aws_kms_key.this.arn
  monitoring_role_arn          = aws_iam_role.rds_monitoring.arn
  performance_insights_enabled = var.performance_insights_enabled
  tags                         = local.tags
}

module "ecs" {
  source               = "../ecs"
  permissions_boundary = var.permissions_boundary
  name                 = local.name
  private_subnet_ids   = module.network.private_subnet_ids
  security_group_id    = module.security.tasks_security_group_id
  target_group_arns    = module.load_balancer.target_group_arns
  bootstrap_image      = var.bootstrap_image
  container_port       = var.container_port
  # The migration runner (modules/ecs, migration.tf): the repository it accepts images of, and how.
  image_repository_url              = var.image_repository_url
  migration_image_policy            = var.migration_image_policy
  migration_provenance              = var.image_provenance
  package                           = var.guard_package
  cpu                               = var.task_cpu
  memory                            = var.task_memory
  live_desired_count                = var.live_desired_count
  health_check_grace_period_seconds = var.health_check_grace_period_seconds
  log_retention_days                = var.log_retention_days
  kms_key_arn                       = aws_kms_key.this.arn
  environment_variables = {
    DB_HOST = module.database.address
    DB_PORT = tostring(module.database.port)
    DB_NAME = module.database.database_name
    # TLS, with the server's name and certificate verified against RDS's CA bundle (in the image).
    DB_SSLMODE    = "verify-full"
    PGSSLROOTCERT = "/etc/ssl/certs/rds-global-bundle.pem"
  }
  # The service connects as its own role (rows only); the master's credentials reach only a
  # release's migration task, through its own task role.
  secrets = {
    DB_USER     = "${module.database.runtime_secret_arn}:username::"
    DB_PASSWORD = "${module.database.runtime_secret_arn}:password::"
  }
  secret_arns          = [module.database.runtime_secret_arn]
  migration_secret_arn = module.database.master_secret_arn
  runtime_secret_arn   = module.database.runtime_secret_arn
  tags                 = local.tags

  # Services may only attach to target groups that a listener already uses.
  depends_on = [module.load_balancer]
}

module "alarms" {
  source                       = "../alarms"
  name                         = local.name
  load_balancer_arn_suffix     = module.load_balancer.load_balancer_arn_suffix
  target_group_arn_suffixes    = module.load_balancer.target_group_arn_suffixes
  error_rate_threshold_percent = var.error_rate_alarm_percent
  alarm_actions                = var.alarm_actions
  tags                         = local.tags
}

# The rollback that lives in AWS (modules/guard): alarms -> EventBridge -> Lambda.
module "guard" {
  source                    = "../guard"
  permissions_boundary      = var.permissions_boundary
  name                      = local.name
  package                   = var.guard_package
  deployment_parameter_name = local.deployment_parameter_name
  deployment_parameter_arn  = "arn:${data.aws_partition.current.partition}:ssm:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:parameter${local.deployment_parameter_name}"
  lease_table_arn           = aws_dynamodb_table.lease.arn
  record_log_group_arn      = aws_cloudwatch_log_group.deployments.arn
  production_listener_arn   = module.load_balancer.production_listener_arn
  test_listener_arn         = module.load_balancer.test_listener_arn
  load_balancer_arn_suffix  = module.load_balancer.load_balancer_arn_suffix
  target_group_arn_suffixes = module.load_balancer.target_group_arn_suffixes
  service_arns              = module.ecs.service_arns
  kms_key_arn               = aws_kms_key.this.arn
  period_seconds            = var.guard_period_seconds
  error_threshold_percent   = var.error_rate_alarm_percent
  min_requests_per_period   = var.guard_min_requests
  alarm_actions             = var.alarm_actions
  log_retention_days        = var.log_retention_days
  # The sandbox only: its emulator keeps no function DeadLetterConfig (modules/guard).
  function_dead_letter_queue = var.guard_function_dead_letter_queue
  tags                       = local.tags
}
