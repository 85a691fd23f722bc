output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the ECS cluster."
  value       = aws_ecs_cluster.this.arn
}

output "service_names" {
  description = "ECS service per colour."
  value       = { for colour, svc in aws_ecs_service.colour : colour => svc.name }
}

output "service_arns" {
  description = "ARN of the ECS service per colour."
  value       = { for colour, svc in aws_ecs_service.colour : colour => svc.id }
}

output "task_family" {
  description = "Task definition family that every release registers a revision of."
  value       = aws_ecs_task_definition.bootstrap.family
}

output "bootstrap_task_definition_arn" {
  description = "The first revision, created by Terraform."
  value       = aws_ecs_task_definition.bootstrap.arn
}

output "log_group_name" {
  description = "Log group of the containers."
  value       = aws_cloudwatch_log_group.service.name
}

output "execution_role_arn" {
  description = "Role ECS uses to start tasks."
  value       = aws_iam_role.execution.arn
}

output "task_role_arn" {
  description = "Role the service's code runs as."
  value       = aws_iam_role.task.arn
}

output "initial_desired_counts" {
  description = "Task counts each colour was created with (the deployment owns them afterwards)."
  value       = local.initial_count
}

output "migration_role_arn" {
  description = "Task role of a release's migration task, which alone may read the master credentials."
  value       = aws_iam_role.migration.arn
}

output "migration_runner" {
  description = "The migration runner's function name: the only way a deployment starts a migration (migration.tf)."
  value       = aws_lambda_function.runner.function_name
}

output "migration_runner_arn" {
  description = "The migration runner's function ARN (the release role may invoke it)."
  value       = aws_lambda_function.runner.arn
}

output "migration_task_family" {
  description = "The migration task definition family; only the runner registers and runs its revisions."
  value       = aws_ecs_task_definition.migration.family
}
