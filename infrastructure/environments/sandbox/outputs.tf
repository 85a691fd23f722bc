output "deployment" {
  description = "What the blue/green roles read: listeners, target groups, cluster, services."
  value       = module.stack.deployment
}

output "database" {
  description = "Database endpoint and the ARN of its credentials secret."
  value       = module.stack.database
}

output "posture" {
  description = "Protections this environment runs with."
  value       = module.stack.posture
}

output "deployment_parameter" {
  description = "SSM parameter that holds the deployment contract (the deployment output) as JSON."
  value       = module.stack.deployment_parameter
}

output "guard_failures" {
  description = "Where the guard's failures go: its dead-letter queue, the SNS topic of failed invocations, and the alarms on both."
  value       = module.stack.guard_failures
}
