# For people (pager, dashboard). The deployment computes its own 5xx rate while it bakes
# and does not depend on these alarms.
resource "aws_cloudwatch_metric_alarm" "error_rate" {
  for_each            = var.target_group_arn_suffixes
  alarm_name          = "${var.name}-${each.key}-5xx-rate"
  alarm_description   = "5xx share of ${each.key}'s requests above ${var.error_rate_threshold_percent}% for 3 of 5 minutes."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.error_rate_threshold_percent
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  metric_query {
    id          = "rate"
    expression  = "IF(requests > 0, 100 * errors / requests, 0)"
    label       = "5xx rate (%)"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      period      = 60
      stat        = "Sum"
      dimensions = {
        LoadBalancer = var.load_balancer_arn_suffix
        TargetGroup  = each.value
      }
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      period      = 60
      stat        = "Sum"
      dimensions = {
        LoadBalancer = var.load_balancer_arn_suffix
        TargetGroup  = each.value
      }
    }
  }

  tags = merge(var.tags, { Colour = each.key })
}
