output "function_name" {
  description = "The guard's Lambda function."
  value       = aws_lambda_function.guard.function_name
}

output "rule_name" {
  description = "The EventBridge rule that sends the guard's alarms to the function."
  value       = aws_cloudwatch_event_rule.guard.name
}

output "alarm_names" {
  description = "The alarms that trigger the guard: per colour (target 5xx, unhealthy hosts) and per load balancer (its own 5xx)."
  value       = [for a in aws_cloudwatch_metric_alarm.guard : a.alarm_name]
}

output "role_arn" {
  description = "The role the function runs as."
  value       = aws_iam_role.guard.arn
}
