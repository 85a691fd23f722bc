# The deployment contract as the stack publishes it: applied against a mock provider (offline),
# so the parameter's value is known and can be read back the way a deployment reads it.
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

variables {
  service_name        = "switchyard"
  environment         = "staging"
  vpc_cidr            = "10.20.0.0/16"
  availability_zones  = ["eu-west-1a", "eu-west-1b"]
  certificate_arn     = "arn:aws:acm:eu-west-1:111111111111:certificate/test"
  test_listener_cidrs = ["192.0.2.0/24"]
  bootstrap_image     = "public.ecr.aws/nginx/nginx:1.27-alpine"
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
      "log_group_name", "deployment_log_group", "alarm_names",
    ] : contains(keys(jsondecode(aws_ssm_parameter.deployment.value)), key)])
    error_message = "The published contract lost a key that the roles read."
  }
}

run "refuses_a_grace_period_that_is_not_whole_seconds_up_to_30_minutes" {
  command = plan
  variables {
    health_check_grace_period_seconds = 3600
  }
  expect_failures = [var.health_check_grace_period_seconds]
}
