locals {
  colours = toset(["blue", "green"])
  # Blue starts live and green idle; after creation the deployment owns the counts.
  initial_count = { blue = var.live_desired_count, green = 0 }
}

data "aws_region" "current" {}
data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

resource "aws_ecs_cluster" "this" {
  name = var.name
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
  tags = var.tags
}

resource "aws_cloudwatch_log_group" "service" {
  #checkov:skip=CKV_AWS_338:staging and production keep logs 365 days; only the disposable sandbox keeps them a week
  name              = "/switchyard/${var.name}/service"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# Execution role: what ECS itself needs to start a task (pull the image, write logs, read secrets).
resource "aws_iam_role" "execution" {
  name                 = "${var.name}-task-execution"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_assume.json
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "read_secrets" {
  count = length(var.secret_arns) > 0 ? 1 : 0
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = var.secret_arns
  }
  statement {
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "read_secrets" {
  count  = length(var.secret_arns) > 0 ? 1 : 0
  name   = "read-service-secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.read_secrets[0].json
}

# Migration role: the task role of a release's one-off migration task (RunTask overrides the
# task role with it), which alone may read the database's master credentials, and store the
# password it draws for the service's own role in the service's secret.
resource "aws_iam_role" "migration" {
  name                 = "${var.name}-migration"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_assume.json
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

data "aws_iam_policy_document" "migration" {
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.migration_secret_arn, var.runtime_secret_arn]
  }
  statement {
    actions   = ["secretsmanager:PutSecretValue"]
    resources = [var.runtime_secret_arn]
  }
  statement {
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "migration" {
  name   = "migrate-the-database"
  role   = aws_iam_role.migration.id
  policy = data.aws_iam_policy_document.migration.json
}

# Task role: what the service's code may do in AWS. Nothing yet; grant per need.
resource "aws_iam_role" "task" {
  name                 = "${var.name}-task"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_assume.json
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

# The first revision only. Every release registers a new revision of the same family
# from Ansible; revisions are never deregistered, so cold rollbacks always have one.
resource "aws_ecs_task_definition" "bootstrap" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions = jsonencode([{
    name                   = "app"
    image                  = var.bootstrap_image
    essential              = true
    readonlyRootFilesystem = true
    portMappings           = [{ containerPort = var.container_port, protocol = "tcp" }]
    environment            = [for k, v in var.environment_variables : { name = k, value = v }]
    secrets                = [for k, v in var.secrets : { name = k, valueFrom = v }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.service.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "app"
      }
    }
  }])
  tags = var.tags
  lifecycle {
    # A release changes the container definitions by registering a new revision, not here.
    ignore_changes = [container_definitions]
  }
}

resource "aws_ecs_service" "colour" {
  for_each                          = local.colours
  name                              = "${var.name}-${each.key}"
  cluster                           = aws_ecs_cluster.this.id
  task_definition                   = aws_ecs_task_definition.bootstrap.arn
  desired_count                     = local.initial_count[each.key]
  launch_type                       = "FARGATE"
  platform_version                  = "LATEST"
  health_check_grace_period_seconds = var.health_check_grace_period_seconds
  propagate_tags                    = "SERVICE"
  wait_for_steady_state             = false

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [var.security_group_id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = var.target_group_arns[each.key]
    container_name   = "app"
    container_port   = var.container_port
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  tags = merge(var.tags, { Colour = each.key })

  lifecycle {
    # The ownership line: every release sets the task definition and the desired count
    # of each colour from Ansible; Terraform must never undo that.
    # availability_zone_rebalancing: the sandbox's emulator never returns it, so every
    # sandbox plan would show a change; it is left at the AWS default everywhere.
    ignore_changes = [task_definition, desired_count, availability_zone_rebalancing]
  }
}
