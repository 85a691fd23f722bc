# A release's migration, with no way in: the migration task definition (its fixed command, the
# migration role that alone reads the schema owner's credentials) and the runner, a small Lambda
# function (plugins/module_utils/migration_runner.py) that starts a copy of it with only the image
# changed, and only to an image of the stack's repository. The release role may invoke the runner;
# it can neither pass the migration role nor run a task, so it cannot run a command of its own
# with the migration's credentials.

locals {
  runner_name = "${var.name}-migration-runner"
  # Where the attestations of the repository's images live (scripts/image_record.py).
  attestations_arn = "arn:${data.aws_partition.current.partition}:ssm:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:parameter/switchyard/attestations/${regex("^[^/]+/(.+)$", var.image_repository_url)[0]}/${var.migration_provenance}/*"
  runner_handler   = "ansible_collections/switchyard/bluegreen/plugins/module_utils/migration_runner.lambda_handler"
}

# The template the runner copies; Terraform's revision is the only one it reads (by ARN), so a
# revision someone else registers in the family is never run. It names no task role: only the
# runner's copies carry the migration role (Terraform itself may not pass it: deploy_access).
resource "aws_ecs_task_definition" "migration" {
  family                   = "${var.name}-migration"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  container_definitions = jsonencode([{
    name                   = "app"
    image                  = var.bootstrap_image
    essential              = true
    readonlyRootFilesystem = true
    command                = var.migration_command
    # The service's settings, and where the migration reads the schema owner's credentials and
    # keeps the service's (ARNs: the task role reads the secrets, nothing is in the definition).
    environment = [for k, v in merge(var.environment_variables, {
      DB_MIGRATION_SECRET_ARN = var.migration_secret_arn
      DB_RUNTIME_SECRET_ARN   = var.runtime_secret_arn
    }) : { name = k, value = v }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.service.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "migration"
      }
    }
  }])
  tags = var.tags
  # Revisions are never deregistered (the deploy roles may not): a new template adds one.
  skip_destroy = true
}

resource "aws_cloudwatch_log_group" "runner" {
  #checkov:skip=CKV_AWS_338:staging and production keep the runner's logs 365 days; only the disposable sandbox keeps them a week
  name              = "/aws/lambda/${local.runner_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "runner" {
  #checkov:skip=CKV_AWS_115:reserving concurrency fails on new accounts (a quota of 10 leaves nothing to reserve); the deployment lease serialises migrations anyway
  #checkov:skip=CKV_AWS_116:invoked synchronously by the deployment, which sees every failure; there is no event to keep
  #checkov:skip=CKV_AWS_117:the runner calls the ECS API only; inside the VPC it would need NAT or an interface endpoint
  #checkov:skip=CKV_AWS_272:the package is built from this repository's reviewed source by the provision role; there is no signing profile to check it against
  function_name    = local.runner_name
  description      = "${var.name}: starts a release's migration task (fixed command, migration role) for an image of the stack's repository."
  role             = aws_iam_role.runner.arn
  runtime          = "python3.12"
  handler          = local.runner_handler
  filename         = var.package.path
  source_code_hash = var.package.sha256
  timeout          = 30
  memory_size      = 256
  kms_key_arn      = var.kms_key_arn

  environment {
    variables = {
      CLUSTER          = aws_ecs_cluster.this.name
      TASK_DEFINITION  = aws_ecs_task_definition.migration.arn
      MIGRATION_ROLE   = aws_iam_role.migration.arn
      SUBNETS          = join(",", var.private_subnet_ids)
      SECURITY_GROUPS  = var.security_group_id
      ASSIGN_PUBLIC_IP = "DISABLED"
      REPOSITORY       = var.image_repository_url
      IMAGE_POLICY     = var.migration_image_policy
      PROVENANCE       = var.migration_provenance
    }
  }

  tracing_config {
    mode = "PassThrough"
  }

  tags       = var.tags
  depends_on = [aws_cloudwatch_log_group.runner, aws_iam_role_policy.runner]
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "runner" {
  name                 = local.runner_name
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume.json
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

data "aws_iam_policy_document" "runner" {
  statement {
    sid = "RegisterMigrationRevisions"
    # Neither RegisterTaskDefinition nor DescribeTaskDefinition can be scoped to a family.
    actions   = ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"]
    resources = ["*"]
  }
  statement {
    sid       = "RunMigrationTasks"
    actions   = ["ecs:RunTask"]
    resources = ["arn:${data.aws_partition.current.partition}:ecs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:task-definition/${var.name}-migration:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [aws_ecs_cluster.this.arn]
    }
  }
  statement {
    sid       = "PassTheMigrationRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.migration.arn, aws_iam_role.execution.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
  dynamic "statement" {
    # Where only attested images run, the runner reads the attestation (only the attest role writes it).
    for_each = var.migration_provenance == "" ? [] : [1]
    content {
      sid       = "ReadTheAttestations"
      actions   = ["ssm:GetParameter"]
      resources = [local.attestations_arn]
    }
  }
  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.runner.arn}:*"]
  }
}

resource "aws_iam_role_policy" "runner" {
  name   = "start-migrations"
  role   = aws_iam_role.runner.id
  policy = data.aws_iam_policy_document.runner.json
}
