# The guard: a rollback that lives in AWS. Alarms on the colours go through EventBridge to a
# small Lambda function (plugins/module_utils/guard.py) that sends production back to the colour
# the last promote started from, while that colour is warm: during the bake, even if the runner
# died, and through the standby window. Once finalize has scaled the old colour down (or a
# rollback or finalize holds the lease), the handler changes nothing and the alarms only alert.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  # The function's timeout, which the handler also reads (TIMEOUT_SECONDS).
  timeout_seconds = 60
  function_name   = "${var.name}-guard"
  # One alarm per colour and signal, and the load balancer's own 5xx, which exist only per load
  # balancer (the guard lays them on the colour the last promote moved to). The 5xx alarms judge a
  # share of the requests by the bake's threshold (more than error_threshold_percent, once
  # min_requests_per_period requests flowed in the period), so a busy release is judged by its
  # share of errors, not their number. ALB metrics exist only when non-zero: FILL makes them 0.
  lb_dimensions = { LoadBalancer = var.load_balancer_arn_suffix }
  errors        = "FILL(errors, 0)"
  requests      = "FILL(requests, 0)"
  alarms = merge(
    merge([
      for colour, suffix in var.target_group_arn_suffixes : {
        "${colour}-target-5xx" = {
          what       = "5xx share of ${colour}'s requests answered by its targets"
          errors     = "HTTPCode_Target_5XX_Count"
          dimensions = merge(local.lb_dimensions, { TargetGroup = suffix })
          expression = "IF(${local.requests} >= ${var.min_requests_per_period}, 100 * ${local.errors} / ${local.requests}, 0)"
        }
        "${colour}-unhealthy" = {
          what       = "Unhealthy targets of ${colour}"
          errors     = null
          dimensions = merge(local.lb_dimensions, { TargetGroup = suffix })
          expression = null
        }
      }
    ]...),
    {
      # The load balancer's 502/503/504 (a colour crashed or hangs). A 503 with no target chosen
      # is not in RequestCount, a 502 from a chosen target is in both: the share of both is
      # understated (a colour that fails everything shows 50 %), still far above the threshold.
      "elb-5xx" = {
        what       = "5xx share of the load balancer's requests it answered itself (502/503/504: a colour crashed or hangs)"
        errors     = "HTTPCode_ELB_5XX_Count"
        dimensions = local.lb_dimensions
        expression = "IF(${local.requests} + ${local.errors} >= ${var.min_requests_per_period}, 100 * ${local.errors} / (${local.requests} + ${local.errors}), 0)"
      }
    },
  )
  # ModifyRule takes rule ARNs: listener-rule/app/<lb>/<id>/<listener id>/<rule id>.
  listener_rule_arns = [for arn in [var.production_listener_arn, var.test_listener_arn] : "${replace(arn, ":listener/", ":listener-rule/")}/*"]
}

resource "aws_cloudwatch_metric_alarm" "guard" {
  for_each            = local.alarms
  alarm_name          = "${var.name}-guard-${each.key}"
  alarm_description   = "${each.value.what}: ${each.value.expression == null ? "1 or more" : "above ${var.error_threshold_percent} %"} in each of ${var.evaluation_periods} periods of ${var.period_seconds} s. The guard sends production back while the previous colour is warm."
  evaluation_periods  = var.evaluation_periods
  datapoints_to_alarm = var.evaluation_periods
  treat_missing_data  = "notBreaching" # ALB metrics exist only while requests flow
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags

  # Unhealthy hosts: one metric, its maximum.
  namespace           = each.value.expression == null ? "AWS/ApplicationELB" : null
  metric_name         = each.value.expression == null ? "UnHealthyHostCount" : null
  statistic           = each.value.expression == null ? "Maximum" : null
  period              = each.value.expression == null ? var.period_seconds : null
  dimensions          = each.value.expression == null ? each.value.dimensions : null
  threshold           = each.value.expression == null ? 1 : var.error_threshold_percent
  comparison_operator = each.value.expression == null ? "GreaterThanOrEqualToThreshold" : "GreaterThanThreshold"

  # 5xx: a share, by metric math.
  dynamic "metric_query" {
    for_each = each.value.expression == null ? [] : ["rate"]
    content {
      id          = "rate"
      expression  = each.value.expression
      label       = "5xx share (%)"
      return_data = true
    }
  }
  dynamic "metric_query" {
    for_each = each.value.expression == null ? {} : { errors = each.value.errors, requests = "RequestCount" }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/ApplicationELB"
        metric_name = metric_query.value
        period      = var.period_seconds
        stat        = "Sum"
        dimensions  = each.value.dimensions
      }
    }
  }
}

# EventBridge: every guard alarm going to ALARM invokes the function (asynchronously; Lambda
# retries a failed invocation twice, failures.tf).
resource "aws_cloudwatch_event_rule" "guard" {
  name        = local.function_name
  description = "${var.name}: the guard's alarms going to ALARM invoke the guard."
  event_pattern = jsonencode({
    source        = ["aws.cloudwatch"]
    "detail-type" = ["CloudWatch Alarm State Change"]
    resources     = [for a in aws_cloudwatch_metric_alarm.guard : a.arn]
    detail        = { state = { value = ["ALARM"] } }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "guard" {
  rule = aws_cloudwatch_event_rule.guard.name
  arn  = aws_lambda_function.guard.arn

  # EventBridge retries only a delivery Lambda refused (throttled, a service error), with back-off.
  # Within 5 minutes the alarm is still news; after that the event waits in the dead-letter queue
  # (failures.tf) for a person, as one Lambda gave up on does.
  retry_policy {
    maximum_retry_attempts       = 10
    maximum_event_age_in_seconds = 300
  }
  dead_letter_config {
    arn = aws_sqs_queue.dead_letters.arn
  }
}

resource "aws_lambda_permission" "events" {
  statement_id  = "AllowGuardAlarms"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.guard.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.guard.arn
}

resource "aws_cloudwatch_log_group" "guard" {
  #checkov:skip=CKV_AWS_338:staging and production keep the guard's logs 365 days; only the disposable sandbox keeps them a week
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "guard" {
  #checkov:skip=CKV_AWS_115:reserving concurrency fails on new accounts (a quota of 10 leaves nothing to reserve); the lease serialises guards anyway
  #checkov:skip=CKV_AWS_117:the guard calls AWS APIs only; inside the VPC it would need NAT or five interface endpoints
  #checkov:skip=CKV_AWS_272:the package is built from this repository's reviewed source by the provision role; there is no signing profile to check it against
  function_name    = local.function_name
  description      = "${var.name}: sends production back to the warm previous colour when a guard alarm fires."
  role             = aws_iam_role.guard.arn
  runtime          = "python3.12"
  handler          = "ansible_collections/switchyard/bluegreen/plugins/module_utils/guard.lambda_handler"
  filename         = var.package.path
  source_code_hash = var.package.sha256
  timeout          = local.timeout_seconds
  memory_size      = 256
  kms_key_arn      = var.kms_key_arn

  # The event of an invocation that failed every attempt (failures.tf), sent as the function's role.
  dynamic "dead_letter_config" {
    for_each = var.function_dead_letter_queue ? [aws_sqs_queue.dead_letters.arn] : []
    content {
      target_arn = dead_letter_config.value
    }
  }

  environment {
    variables = {
      DEPLOYMENT_PARAMETER = var.deployment_parameter_name
      # A rollback of the guard's held longer than this is an attempt that died: its retry finishes it.
      TIMEOUT_SECONDS = local.timeout_seconds
    }
  }

  tracing_config {
    mode = "PassThrough"
  }

  tags       = var.tags
  depends_on = [aws_cloudwatch_log_group.guard, aws_iam_role_policy.guard]
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "guard" {
  name                 = local.function_name
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

# What a rollback's fast path needs, on this stack's resources only.
data "aws_iam_policy_document" "guard" {
  statement {
    sid       = "ReadDeploymentContract"
    actions   = ["ssm:GetParameter"]
    resources = [var.deployment_parameter_arn]
  }
  statement {
    sid       = "TakeTheLease"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [var.lease_table_arn]
  }
  # The revisions a promote keeps in the lease are what the next release copies: only the release
  # role writes them (the guard's own writes never name the attribute), so this role cannot make a
  # release run a task definition of its choosing.
  statement {
    sid       = "NeverWriteTheKeptRevisions"
    effect    = "Deny"
    actions   = ["dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [var.lease_table_arn]
    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "dynamodb:Attributes"
      values   = ["revisions"]
    }
  }
  statement {
    sid       = "UseTheStackKey"
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey", "kms:CreateGrant"]
    resources = [var.kms_key_arn]
  }
  statement {
    sid       = "SwitchTheListeners"
    actions   = ["elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyRule"]
    resources = concat([var.production_listener_arn, var.test_listener_arn], local.listener_rule_arns)
  }
  statement {
    sid       = "ReadTheServices"
    actions   = ["ecs:DescribeServices"]
    resources = values(var.service_arns)
  }
  statement {
    sid       = "WriteTheRecord"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${var.record_log_group_arn}:log-stream:*", "${aws_cloudwatch_log_group.guard.arn}:log-stream:*"]
  }
  statement {
    sid = "ReadRecords"
    # The schema rule of the one rollback decision (core.rollback) reads the deployment records.
    actions   = ["logs:GetLogEvents"]
    resources = ["${var.record_log_group_arn}:log-stream:*"]
  }
  # Lambda sends a failed invocation's event to the dead-letter queue and its record to the
  # failures topic as this role (failures.tf; both encrypted with the stack's key: UseTheStackKey).
  statement {
    sid       = "SendDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters.arn]
  }
  statement {
    sid       = "PublishFailures"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.failures.arn]
  }
  statement {
    sid = "UnscopableReads"
    # ELBv2 describes take no resource ARN; reads only.
    actions = [
      "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules",
      "elasticloadbalancing:DescribeTargetHealth",
      # What a colour runs (the schema rule's image): task definitions take no resource ARN here.
      "ecs:DescribeTaskDefinition",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "guard" {
  name   = "rollback"
  role   = aws_iam_role.guard.id
  policy = data.aws_iam_policy_document.guard.json
}
