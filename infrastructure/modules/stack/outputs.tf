output "deployment" {
  description = "The deployment contract: everything a blue/green deployment needs to find its way (listeners, target groups, services, metrics dimensions). The same object is published in SSM (deployment_parameter)."
  value       = local.deployment
}

output "deployment_parameter" {
  description = "Name of the SSM parameter that holds the deployment contract as JSON, readable by any machine without Terraform state."
  value       = aws_ssm_parameter.deployment.name
}

output "database" {
  description = "Where the database is and which secret holds its credentials (the ARN only, never the secret)."
  value = {
    endpoint          = module.database.endpoint
    address           = module.database.address
    port              = module.database.port
    name              = module.database.database_name
    master_secret_arn = module.database.master_secret_arn
  }
}

output "posture" {
  description = "The protections this environment runs with, as planned: for reviews, status and the invariant tests."
  value = {
    database_publicly_accessible = module.database.publicly_accessible
    database_storage_encrypted   = module.database.storage_encrypted
    database_password_managed    = module.database.password_managed
    database_multi_az            = module.database.multi_az
    database_backup_days         = module.database.backup_retention_days
    database_final_snapshot      = module.database.final_snapshot
    database_engine_version      = module.database.engine_version
    deletion_protection          = var.deletion_protection
    https                        = local.https
    colours                      = keys(module.load_balancer.target_group_arns)
    target_types                 = module.load_balancer.target_types
    idle_colour_initial_count    = module.ecs.initial_desired_counts["green"]
    lease_table = {
      billing_mode           = aws_dynamodb_table.lease.billing_mode
      hash_key               = aws_dynamodb_table.lease.hash_key
      ttl_attribute          = one([for t in aws_dynamodb_table.lease.ttl : t.attribute_name if t.enabled])
      point_in_time_recovery = one(aws_dynamodb_table.lease.point_in_time_recovery[*].enabled)
      encrypted              = one(aws_dynamodb_table.lease.server_side_encryption[*].enabled)
      deletion_protection    = aws_dynamodb_table.lease.deletion_protection_enabled
    }
  }
}

output "guard_failures" {
  description = "Where the guard's failures go: the dead-letter queue that keeps the alarm events it never handled (14 days), the SNS topic of failed invocations' records (subscribe people to it), and the alarms on both, which notify alarm_actions."
  value = {
    dead_letter_queue_url = module.guard.dead_letter_queue_url
    dead_letter_queue_arn = module.guard.dead_letter_queue_arn
    failure_topic_arn     = module.guard.failure_topic_arn
    alarm_names           = module.guard.failure_alarm_names
    alarm_actions         = var.alarm_actions
  }
}
