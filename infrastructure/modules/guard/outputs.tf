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

output "dead_letter_queue_url" {
  description = "The queue that keeps, 14 days, the alarm events the guard never handled (EventBridge could not invoke it, or every attempt failed)."
  value       = aws_sqs_queue.dead_letters.url
}

output "dead_letter_queue_arn" {
  description = "ARN of that queue."
  value       = aws_sqs_queue.dead_letters.arn
}

output "failure_topic_arn" {
  description = "The SNS topic Lambda publishes the record of a failed invocation to (event, error, attempts): subscribe people or a chat channel."
  value       = aws_sns_topic.failures.arn
}

output "failure_alarm_names" {
  description = "The alarms on the guard's own failures (dead letters waiting, the function's errors), which notify alarm_actions; they never trigger the guard."
  value       = [for a in aws_cloudwatch_metric_alarm.failures : a.alarm_name]
}
