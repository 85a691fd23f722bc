output "load_balancer_arn" {
  description = "ARN of the load balancer."
  value       = aws_lb.this.arn
}

output "load_balancer_arn_suffix" {
  description = "The LoadBalancer dimension of its CloudWatch metrics."
  value       = aws_lb.this.arn_suffix
}

output "dns_name" {
  description = "Public DNS name of the load balancer."
  value       = aws_lb.this.dns_name
}

output "production_listener_arn" {
  description = "Listener that carries production traffic; its forward action says which colour is live."
  value       = aws_lb_listener.production.arn
}

output "production_listener_port" {
  description = "Port of the production listener."
  value       = aws_lb_listener.production.port
}

output "test_listener_arn" {
  description = "Listener that always forwards to the idle colour, for smoke checks before a switch."
  value       = aws_lb_listener.test.arn
}

output "test_listener_port" {
  description = "Port of the test listener."
  value       = aws_lb_listener.test.port
}

output "target_group_arns" {
  description = "Target group ARN per colour."
  value       = { for colour, tg in aws_lb_target_group.colour : colour => tg.arn }
}

output "target_group_arn_suffixes" {
  description = "The TargetGroup dimension of CloudWatch metrics, per colour."
  value       = { for colour, tg in aws_lb_target_group.colour : colour => tg.arn_suffix }
}

output "target_types" {
  description = "Target type per colour (ip: Fargate tasks register by address)."
  value       = { for colour, tg in aws_lb_target_group.colour : colour => tg.target_type }
}
