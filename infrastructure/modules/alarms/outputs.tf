output "alarm_names" {
  description = "5xx-rate alarm per colour."
  value       = { for colour, alarm in aws_cloudwatch_metric_alarm.error_rate : colour => alarm.alarm_name }
}
