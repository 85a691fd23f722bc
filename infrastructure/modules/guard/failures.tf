# The guard's failures: an alarm event it never handled is kept, and someone hears of it.
#
#   EventBridge could not invoke the function   -> the rule's target: dead-letter queue
#   an invocation failed every attempt, or aged -> the function: dead-letter queue (the event)
#                                                  and the failures topic (the event and the error)
#   either                                      -> alarms on the queue's depth and the function's
#                                                  errors, to alarm_actions (people)
#
# One queue keeps the events of both paths for 14 days, encrypted with the stack's key; whoever
# reads one decides by hand (playbooks/rollback.yml) what the guard did not.

locals {
  dead_letter_queue_name = "${local.function_name}-dead-letters"
  failure_alarms = {
    "dead-letters" = {
      what        = "Alarm events the guard never handled (EventBridge could not invoke it, or every attempt failed) wait in ${local.dead_letter_queue_name}: read them and decide by hand (playbooks/rollback.yml)."
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesVisible"
      statistic   = "Maximum"
      period      = 300 # SQS publishes its metrics every 5 minutes
      dimensions  = { QueueName = local.dead_letter_queue_name }
    }
    "errors" = {
      what        = "An invocation of the guard failed (Lambda retries it; the last failure reaches the dead-letter queue and the failures topic): see the log group /aws/lambda/${local.function_name}."
      namespace   = "AWS/Lambda"
      metric_name = "Errors"
      statistic   = "Sum"
      period      = 60
      dimensions  = { FunctionName = local.function_name }
    }
  }
}

resource "aws_sqs_queue" "dead_letters" {
  name                              = local.dead_letter_queue_name
  message_retention_seconds         = 14 * 24 * 3600 # 14 days, SQS's longest: time enough to read what the guard never handled
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = var.tags
}

# Who may send: EventBridge for the guard's rule only (the stack's key policy lets the same rule
# use the key). The function's own dead letters are sent as its role (ReportFailures).
data "aws_iam_policy_document" "dead_letters" {
  statement {
    sid       = "GuardRuleDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.guard.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "dead_letters" {
  queue_url = aws_sqs_queue.dead_letters.url
  policy    = data.aws_iam_policy_document.dead_letters.json
}

# The failures topic: Lambda publishes the record of an invocation that failed every attempt (the
# alarm event, the error and the attempts) here. Subscribe people or a chat channel to it (the
# module's output failure_topic_arn); SNS topics cannot subscribe to one another.
resource "aws_sns_topic" "failures" {
  name              = "${local.function_name}-failures"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function_event_invoke_config" "guard" {
  function_name = aws_lambda_function.guard.function_name
  # Retries are worth it: an attempt that died holding the lease (past TIMEOUT_SECONDS) is finished
  # by the next one, which core.guard's judge reads as the guard's own dead attempt. 2 is Lambda's
  # most; they come about 1 and 2 minutes after a failure.
  maximum_retry_attempts = 2
  # Both retries fit in 10 minutes with room for throttling. An older event is stale: the handler
  # judges the lease and the listener as they are, not whether the alarm still fires, so it goes to
  # the failure destinations for a person instead.
  maximum_event_age_in_seconds = 600

  destination_config {
    on_failure {
      destination = aws_sns_topic.failures.arn
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "failures" {
  for_each            = local.failure_alarms
  alarm_name          = "${local.function_name}-${each.key}"
  alarm_description   = each.value.what
  namespace           = each.value.namespace
  metric_name         = each.value.metric_name
  statistic           = each.value.statistic
  period              = each.value.period
  dimensions          = each.value.dimensions
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching" # no errors, no messages: no data
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
