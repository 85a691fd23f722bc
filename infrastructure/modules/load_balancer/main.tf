locals {
  https = var.certificate_arn != null
  # The colours are fixed: two target groups, one live and one idle at any time.
  colours = toset(["blue", "green"])
}

resource "aws_lb" "this" {
  #checkov:skip=CKV_AWS_150:deletion protection is on in staging and production (asserted by their terraform tests); the sandbox must stay disposable
  #checkov:skip=CKV2_AWS_28:the web ACL is account policy, associated by Firewall Manager outside this service's stack
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = false
  security_groups            = [var.security_group_id]
  subnets                    = var.public_subnet_ids
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  access_logs {
    bucket  = var.access_logs_bucket
    prefix  = var.name
    enabled = true
  }
  tags = var.tags
}

resource "aws_lb_target_group" "colour" {
  for_each             = local.colours
  name                 = "${var.name}-${each.key}"
  target_type          = "ip"
  port                 = var.container_port
  protocol             = "HTTP"
  vpc_id               = var.vpc_id
  deregistration_delay = var.deregistration_delay
  health_check {
    path                = var.health_check_path
    matcher             = "200-299"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
  tags = merge(var.tags, { Colour = each.key })
}

# Ansible owns where the listeners forward (the blue/green switch); Terraform only
# creates them pointing at blue (production) and green (test) and never moves them back.
resource "aws_lb_listener" "production" {
  load_balancer_arn = aws_lb.this.arn
  port              = local.https ? 443 : 80
  protocol          = local.https ? "HTTPS" : "HTTP"
  ssl_policy        = local.https ? "ELBSecurityPolicy-TLS13-1-2-2021-06" : null
  certificate_arn   = var.certificate_arn
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.colour["blue"].arn
  }
  lifecycle {
    ignore_changes = [default_action]
  }
  tags = merge(var.tags, { Role = "production" })
}

resource "aws_lb_listener" "test" {
  load_balancer_arn = aws_lb.this.arn
  port              = var.test_listener_port
  protocol          = local.https ? "HTTPS" : "HTTP"
  ssl_policy        = local.https ? "ELBSecurityPolicy-TLS13-1-2-2021-06" : null
  certificate_arn   = var.certificate_arn
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.colour["green"].arn
  }
  lifecycle {
    ignore_changes = [default_action]
  }
  tags = merge(var.tags, { Role = "test" })
}

resource "aws_lb_listener" "http_redirect" {
  count             = local.https ? 1 : 0
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"
  default_action {
    type = "redirect"
    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
  tags = var.tags
}
