# The sandbox: the same stack as staging and production, applied to an AWS API emulator.
# Nothing here reaches AWS; the credentials are the emulator's dummies.
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "sandbox"
  secret_key                  = "sandbox"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true

  endpoints {
    cloudwatch     = var.aws_endpoint
    ec2            = var.aws_endpoint
    dynamodb       = var.aws_endpoint
    ecs            = var.aws_endpoint
    elbv2          = var.aws_endpoint
    events         = var.aws_endpoint
    iam            = var.aws_endpoint
    kms            = var.aws_endpoint
    lambda         = var.aws_endpoint
    logs           = var.aws_endpoint
    rds            = var.aws_endpoint
    s3             = var.aws_endpoint
    secretsmanager = var.aws_endpoint
    sns            = var.aws_endpoint
    sqs            = var.aws_endpoint
    ssm            = var.aws_endpoint
    sts            = var.aws_endpoint
  }
}

module "stack" {
  source = "../../modules/stack"

  service_name        = "switchyard"
  environment         = var.environment
  vpc_cidr            = "10.90.0.0/16"
  availability_zones  = ["us-east-1a", "us-east-1b"]
  nat_gateway         = "none"
  certificate_arn     = null # plain HTTP: the emulator has no certificates to serve
  test_listener_cidrs = ["10.0.0.0/8"]
  test_listener_port  = 8080
  bootstrap_image     = var.bootstrap_image
  # The emulator has no registry: its releases are tags of a made-up repository, which the
  # migration runner accepts by tag too. Real environments accept digests only.
  image_repository_url     = "registry.sandbox.local/switchyard/app"
  migration_image_policy   = "tag_or_digest"
  guard_package            = var.guard_package
  error_rate_alarm_percent = var.alarm_rule.error_threshold_percent
  guard_min_requests       = var.alarm_rule.min_requests
  # The harness publishes metrics per second in its fast mode: 10 s alarms settle between tests.
  guard_period_seconds = 10

  live_desired_count        = 2
  db_backup_retention_days  = 1
  deletion_protection       = false # the sandbox is torn down and rebuilt at will
  log_retention_days        = 7
  access_log_retention_days = 1

  # The emulator (moto) does not model these two settings: it reports Performance Insights as
  # off and the grace period as 0 whatever was asked, so any other value would show as a change
  # in every plan. Real environments keep the module's defaults.
  performance_insights_enabled      = false
  health_check_grace_period_seconds = 0
  # Nor does it keep a Lambda function's DeadLetterConfig (it drops it on create): the guard's
  # dead-letter queue, its EventBridge dead letters and its failures topic are still here, only
  # the function does not name the queue itself.
  guard_function_dead_letter_queue = false
}
