# Three groups, one per tier, and only the paths the service needs:
# internet -> ALB on the listener ports, ALB -> tasks on the container port,
# tasks -> database on 5432. Tasks may call out on 443 (ECR, Secrets Manager, logs).

resource "aws_security_group" "alb" {
  #checkov:skip=CKV2_AWS_5:attached in another module (load balancer, ECS services, database); checkov does not follow module outputs
  name        = "${var.name}-alb"
  description = "Load balancer: listener ports from the internet, container port to tasks"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-alb" })
}

resource "aws_security_group" "tasks" {
  #checkov:skip=CKV2_AWS_5:attached in another module (load balancer, ECS services, database); checkov does not follow module outputs
  name        = "${var.name}-tasks"
  description = "Service tasks: container port from the load balancer only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-tasks" })
}

resource "aws_security_group" "database" {
  #checkov:skip=CKV2_AWS_5:attached in another module (load balancer, ECS services, database); checkov does not follow module outputs
  name        = "${var.name}-database"
  description = "PostgreSQL: 5432 from the service tasks only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-database" })
}

resource "aws_security_group_rule" "alb_listener" {
  for_each          = toset([for p in var.listener_ports : tostring(p)])
  type              = "ingress"
  security_group_id = aws_security_group.alb.id
  description       = "Listener port ${each.value} from the internet"
  cidr_blocks       = ["0.0.0.0/0"]
  from_port         = tonumber(each.value)
  to_port           = tonumber(each.value)
  protocol          = "tcp"
}

resource "aws_security_group_rule" "alb_test_listener" {
  for_each          = toset(var.test_listener_cidrs)
  type              = "ingress"
  security_group_id = aws_security_group.alb.id
  description       = "Test listener from the deployment runners"
  cidr_blocks       = [each.value]
  from_port         = var.test_listener_port
  to_port           = var.test_listener_port
  protocol          = "tcp"
}

resource "aws_security_group_rule" "alb_to_tasks" {
  type                     = "egress"
  security_group_id        = aws_security_group.alb.id
  description              = "Container port to the service tasks"
  source_security_group_id = aws_security_group.tasks.id
  from_port                = var.container_port
  to_port                  = var.container_port
  protocol                 = "tcp"
}

resource "aws_security_group_rule" "tasks_from_alb" {
  type                     = "ingress"
  security_group_id        = aws_security_group.tasks.id
  description              = "Container port from the load balancer"
  source_security_group_id = aws_security_group.alb.id
  from_port                = var.container_port
  to_port                  = var.container_port
  protocol                 = "tcp"
}

resource "aws_security_group_rule" "tasks_to_database" {
  type                     = "egress"
  security_group_id        = aws_security_group.tasks.id
  description              = "PostgreSQL"
  source_security_group_id = aws_security_group.database.id
  from_port                = 5432
  to_port                  = 5432
  protocol                 = "tcp"
}

resource "aws_security_group_rule" "tasks_https" {
  type              = "egress"
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to AWS APIs (image pulls, secrets, logs)"
  cidr_blocks       = ["0.0.0.0/0"]
  from_port         = 443
  to_port           = 443
  protocol          = "tcp"
}

resource "aws_security_group_rule" "database_from_tasks" {
  type                     = "ingress"
  security_group_id        = aws_security_group.database.id
  description              = "PostgreSQL from the service tasks"
  source_security_group_id = aws_security_group.tasks.id
  from_port                = 5432
  to_port                  = 5432
  protocol                 = "tcp"
}
