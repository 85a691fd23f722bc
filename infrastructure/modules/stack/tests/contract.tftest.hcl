# The deployment contract as the stack publishes it, and the lease table it names: applied against
# a mock provider (offline), so the parameter's value is known and can be read back the way a
# deployment reads it.
mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  # The provider checks that these attributes are ARNs before it applies anything that uses them.
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111111111111:role/switchyard-staging-mock" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:111111111111:log-group:/switchyard/switchyard-staging/mock" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:111111111111:function:switchyard-staging-guard" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:111111111111:rule/switchyard-staging-guard" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:111111111111:switchyard-staging-guard-dead-letters"
      url = "https://sqs.eu-west-1.amazonaws.com/111111111111/switchyard-staging-guard-dead-letters"
    }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:111111111111:switchyard-staging-guard-failures" }
  }
  mock_resource "aws_lb" {
    defaults = {
      arn        = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/switchyard-staging/0123456789abcdef"
      arn_suffix = "app/switchyard-staging/0123456789abcdef"
    }
  }
  mock_resource "aws_lb_target_group" {
    defaults = { arn = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/switchyard-staging-mock/0123456789abcdef" }
  }
  mock_resource "aws_db_instance" {
    defaults = {
      master_user_secret = [{
        secret_arn    = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:rds!db-mock"
        kms_key_id    = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000"
        secret_status = "active"
      }]
    }
  }
}

# The database refuses to be destroyed (prevent_destroy), which an applied test's teardown would
# do: it is stood in for here, and its own settings are planned in the environment roots' tests.
override_module {
  target = module.database
  outputs = {
    endpoint              = "switchyard-staging.mock.eu-west-1.rds.amazonaws.com:5432"
    address               = "switchyard-staging.mock.eu-west-1.rds.amazonaws.com"
    port                  = 5432
    database_name         = "app"
    master_secret_arn     = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:rds!db-mock"
    runtime_secret_arn    = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:switchyard-staging-database-runtime-mock"
    publicly_accessible   = false
    storage_encrypted     = true
    password_managed      = true
    multi_az              = false
    backup_retention_days = 7
    final_snapshot        = true
    engine_version        = "16"
  }
}

variables {
  service_name         = "switchyard"
  environment          = "staging"
  vpc_cidr             = "10.20.0.0/16"
  availability_zones   = ["eu-west-1a", "eu-west-1b"]
  certificate_arn      = "arn:aws:acm:eu-west-1:111111111111:certificate/test"
  test_listener_cidrs  = ["192.0.2.0/24"]
  bootstrap_image      = "public.ecr.aws/nginx/nginx:1.27-alpine"
  guard_package        = { path = "switchyard-guard.zip", sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
  image_repository_url = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/switchyard/app"
}

run "publishes_the_deployment_contract_in_ssm" {
  command = apply
  assert {
    condition     = aws_ssm_parameter.deployment.name == "/switchyard/switchyard-staging/deployment" && output.deployment_parameter == aws_ssm_parameter.deployment.name
    error_message = "The contract must be published as /switchyard/<service>-<environment>/deployment, the name the deploy role may read."
  }
  assert {
    condition     = aws_ssm_parameter.deployment.type == "String" && aws_ssm_parameter.deployment.tier == "Standard"
    error_message = "The contract is a plain String parameter of the Standard tier (no secrets in it, readable without KMS)."
  }
  assert {
    condition     = jsondecode(aws_ssm_parameter.deployment.value).layer == "alb" && jsondecode(aws_ssm_parameter.deployment.value).contract_version == 1
    error_message = "The published contract must say layer \"alb\" and contract_version 1."
  }
  assert {
    condition     = aws_ssm_parameter.deployment.value == jsonencode(output.deployment)
    error_message = "The parameter must hold exactly the deployment output, so Terraform state and SSM never disagree."
  }
  assert {
    condition = alltrue([for key in [
      "environment", "name", "region", "load_balancer_arn", "load_balancer_arn_suffix", "load_balancer_dns_name",
      "production_listener_arn", "production_listener_port", "test_listener_arn", "test_listener_port",
      "target_group_arns", "target_group_arn_suffixes", "cluster_name", "service_names", "task_family",
      "log_group_name", "deployment_log_group", "alarm_names", "lease_table",
    ] : contains(keys(jsondecode(aws_ssm_parameter.deployment.value)), key)])
    error_message = "The published contract lost a key that the roles read."
  }
}

run "lease_table_is_on_demand_expiring_recoverable_and_encrypted" {
  command = apply
  assert {
    condition     = jsondecode(aws_ssm_parameter.deployment.value).lease_table == "switchyard-staging-deployment-lease" && aws_dynamodb_table.lease.name == output.deployment.lease_table
    error_message = "The contract's lease_table must name the stack's lease table, <service>-<environment>-deployment-lease (the table the deploy role may write)."
  }
  assert {
    condition     = aws_dynamodb_table.lease.billing_mode == "PAY_PER_REQUEST"
    error_message = "The lease table is on-demand: a few writes per deployment, no capacity to plan or throttle on."
  }
  assert {
    condition     = aws_dynamodb_table.lease.hash_key == "environment" && one([for a in aws_dynamodb_table.lease.attribute : a.type if a.name == "environment"]) == "S" && length(aws_dynamodb_table.lease.attribute) == 1
    error_message = "The lease table holds one item per environment: hash key environment (string), no other key."
  }
  assert {
    condition     = aws_dynamodb_table.lease.ttl[0].enabled && aws_dynamodb_table.lease.ttl[0].attribute_name == "ttl"
    error_message = "An abandoned lease must expire: TTL enabled on the attribute ttl, the one the deployment_lease module writes."
  }
  assert {
    condition     = aws_dynamodb_table.lease.point_in_time_recovery[0].enabled
    error_message = "The lease table must have point-in-time recovery."
  }
  assert {
    condition     = aws_dynamodb_table.lease.server_side_encryption[0].enabled && aws_dynamodb_table.lease.server_side_encryption[0].kms_key_arn == aws_kms_key.this.arn
    error_message = "The lease table must be encrypted with the stack's own KMS key."
  }
  assert {
    condition     = aws_dynamodb_table.lease.deletion_protection_enabled
    error_message = "The lease table follows deletion_protection (true by default)."
  }
  assert {
    condition     = output.posture.lease_table == { billing_mode = "PAY_PER_REQUEST", hash_key = "environment", ttl_attribute = "ttl", point_in_time_recovery = true, encrypted = true, deletion_protection = true }
    error_message = "The posture output must report the lease table's protections as configured."
  }
}

run "lease_table_follows_deletion_protection" {
  command = plan
  variables {
    deletion_protection = false
  }
  assert {
    condition     = aws_dynamodb_table.lease.deletion_protection_enabled == false
    error_message = "Without deletion_protection (the sandbox) the lease table must be deletable like the rest of the stack."
  }
}

run "refuses_a_grace_period_that_is_not_whole_seconds_up_to_30_minutes" {
  command = plan
  variables {
    health_check_grace_period_seconds = 3600
  }
  expect_failures = [var.health_check_grace_period_seconds]
}

run "the_guards_failures_are_kept_and_told_where_alarms_go" {
  command = apply
  variables {
    alarm_actions = ["arn:aws:sns:eu-west-1:111111111111:on-call"]
  }
  assert {
    condition = (
      output.guard_failures.dead_letter_queue_arn == module.guard.dead_letter_queue_arn
      && output.guard_failures.failure_topic_arn == module.guard.failure_topic_arn
      && toset(output.guard_failures.alarm_names) == toset(["switchyard-staging-guard-dead-letters", "switchyard-staging-guard-errors"])
      && output.guard_failures.alarm_actions == var.alarm_actions
    )
    error_message = "The guard_failures output must name the dead-letter queue, the failures topic and the alarms on both, which notify alarm_actions."
  }
  assert {
    # The mock's region and account are random: the rule is told by its name.
    condition = alltrue([
      for s in data.aws_iam_policy_document.kms.statement : (
        toset(s.actions) == toset(["kms:Decrypt", "kms:GenerateDataKey"])
        && [for p in s.principals : toset(p.identifiers)] == [toset(["events.amazonaws.com"])]
        && length([for c in s.condition : c if c.variable == "aws:SourceArn" && length(c.values) == 1 && alltrue([for v in c.values : can(regex(":events:.*:rule/switchyard-staging-guard$", v))])]) == 1
      ) if s.sid == "GuardRuleDeadLetters"
    ]) && length([for s in data.aws_iam_policy_document.kms.statement : s if s.sid == "GuardRuleDeadLetters"]) == 1
    error_message = "The stack's key must let the guard's EventBridge rule, and only it, encrypt what it puts in the guard's dead-letter queue."
  }
  assert {
    condition     = !contains(keys(output.deployment), "guard_failures") && !contains(keys(output.deployment), "dead_letter_queue_url")
    error_message = "The guard's failure destinations are outputs of their own, not keys of the deployment contract."
  }
}
