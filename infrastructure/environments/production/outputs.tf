output "deployment" {
  description = "The deployment contract: what the blue/green roles read (listeners, target groups, cluster, services)."
  value       = module.stack.deployment
}

output "deployment_parameter" {
  description = "SSM parameter that holds the deployment contract as JSON, for machines without Terraform state."
  value       = module.stack.deployment_parameter
}

output "database" {
  description = "Database endpoint and the ARN of its credentials secret."
  value       = module.stack.database
}

output "posture" {
  description = "Protections this environment runs with."
  value       = module.stack.posture
}

output "guard_failures" {
  description = "Where the guard's failures go: its dead-letter queue (URL, ARN), the SNS topic of failed invocations (subscribe people to it), and the alarms on both, which notify alarm_topic_arns."
  value       = module.stack.guard_failures
}

output "release_role_arn" {
  description = "Set as the AWS_RELEASE_ROLE_ARN variable of the GitHub environment (promote, rollback, finalize)."
  value       = module.deploy_access.release_role_arn
}

output "infrastructure_role_arn" {
  description = "Set as the AWS_INFRASTRUCTURE_ROLE_ARN variable of the GitHub environment (Terraform applies)."
  value       = module.deploy_access.infrastructure_role_arn
}

output "ecr_repository_url" {
  description = "Set as the ECR_REPOSITORY_URL variable of the GitHub environments."
  value       = local.ecr_repository_url
}

output "status_role_arn" {
  description = "The read-only status role for other environments' deploy jobs (staging: set as the AWS_STAGING_STATUS_ROLE_ARN variable of the production environment), or null."
  value       = module.deploy_access.status_role_arn
}

output "break_glass_role_arn" {
  description = "The role people assume, with MFA, to modify or delete the database, its snapshots and backups, the key or the records (no pipeline can)."
  value       = module.deploy_access.break_glass_role_arn
}

output "finalize_role_arn" {
  description = "Set as the AWS_FINALIZE_ROLE_ARN variable of the <environment>-finalize GitHub environment (the scheduled finalize)."
  value       = module.deploy_access.finalize_role_arn
}

output "build_role_arn" {
  description = "The build role (AWS_BUILD_ROLE_ARN on the GitHub environment \"build\", and the production job's attestation): the only one that pushes images. Null where the root does not own the repository."
  value       = module.deploy_access.build_role_arn
}

output "attest_role_arn" {
  description = "The attest role (AWS_ATTEST_ROLE_ARN on the GitHub environment \"production\"): the only one that attests a commit on main built an image. Null where the root does not own the repository."
  value       = module.deploy_access.attest_role_arn
}
