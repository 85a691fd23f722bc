# The deployment contract: one object that tells a deployment where everything is. Terraform
# outputs it (output "deployment") and publishes the same object in SSM Parameter Store, so any
# machine with the deploy role can read it without Terraform state. Roles read these keys by
# name: add keys freely, but rename or remove one only with a new contract_version.

locals {
  deployment = {
    contract_version          = 1
    layer                     = "alb" # the traffic seam that drives this environment (development uses HAProxy)
    environment               = var.environment
    name                      = local.name
    region                    = data.aws_region.current.name
    load_balancer_arn         = module.load_balancer.load_balancer_arn
    load_balancer_arn_suffix  = module.load_balancer.load_balancer_arn_suffix
    load_balancer_dns_name    = module.load_balancer.dns_name
    production_listener_arn   = module.load_balancer.production_listener_arn
    production_listener_port  = module.load_balancer.production_listener_port
    test_listener_arn         = module.load_balancer.test_listener_arn
    test_listener_port        = module.load_balancer.test_listener_port
    target_group_arns         = module.load_balancer.target_group_arns
    target_group_arn_suffixes = module.load_balancer.target_group_arn_suffixes
    cluster_name              = module.ecs.cluster_name
    service_names             = module.ecs.service_names
    task_family               = module.ecs.task_family
    log_group_name            = module.ecs.log_group_name
    deployment_log_group      = aws_cloudwatch_log_group.deployments.name
    alarm_names               = module.alarms.alarm_names
    guard_function            = module.guard.function_name    # the rollback that lives in AWS (modules/guard)
    lease_table               = aws_dynamodb_table.lease.name # one item per environment: who may deploy now (lease.tf)
    # A release's migration: only through the runner (modules/ecs, migration.tf), which starts the
    # migration task definition's fixed command with the release's image.
    migration = {
      runner      = module.ecs.migration_runner
      task_family = module.ecs.migration_task_family
    }
  }
  # modules/deploy_access grants ssm:GetParameter on exactly this name (by the same convention).
  deployment_parameter_name = "/switchyard/${local.name}/deployment"
}

resource "aws_ssm_parameter" "deployment" {
  #checkov:skip=CKV2_AWS_34:the contract holds resource names and ARNs only, no secrets; a plain String is readable without kms:Decrypt
  name        = local.deployment_parameter_name
  description = "${local.name}: the deployment contract (JSON), written by Terraform, read by the deployment"
  type        = "String"
  tier        = "Standard"
  value       = jsonencode(local.deployment)
  tags        = local.tags

  lifecycle {
    precondition {
      condition     = length(jsonencode(local.deployment)) <= 4096
      error_message = "The deployment contract has outgrown a Standard SSM parameter (4 KB); shorten it or move to the Advanced tier."
    }
  }
}
