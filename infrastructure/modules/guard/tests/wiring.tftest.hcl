# The guard's wiring, applied against a mock provider (offline): every guard alarm going to ALARM
# reaches the function through one EventBridge rule, which alone may invoke it, the function may
# change the two listeners and nothing else of the load balancer, and its failures are kept (a
# dead-letter queue) and told (a failures topic, alarms to alarm_actions).
mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111111111111" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111111111111:role/switchyard-staging-guard" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/lambda/switchyard-staging-guard" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:111111111111:function:switchyard-staging-guard" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:111111111111:rule/switchyard-staging-guard" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:111111111111:switchyard-staging-guard-dead-letters"
      url = "https://sqs.eu-west-1.amazonaws.com/111111111111/switchyard-staging-guard-dead-letters"
    }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:111111111111:switchyard-staging-guard-failures" }
  }
}

variables {
  name                      = "switchyard-staging"
  package                   = { path = "switchyard-guard.zip", sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
  deployment_parameter_name = "/switchyard/switchyard-staging/deployment"
  deployment_parameter_arn  = "arn:aws:ssm:eu-west-1:111111111111:parameter/switchyard/switchyard-staging/deployment"
  lease_table_arn           = "arn:aws:dynamodb:eu-west-1:111111111111:table/switchyard-staging-deployment-lease"
  record_log_group_arn      = "arn:aws:logs:eu-west-1:111111111111:log-group:/switchyard/switchyard-staging/deployments"
  production_listener_arn   = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/switchyard-staging/0123/prod"
  test_listener_arn         = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/switchyard-staging/0123/test"
  load_balancer_arn_suffix  = "app/switchyard-staging/0123"
  target_group_arn_suffixes = { blue = "targetgroup/switchyard-staging-blue/aaaa", green = "targetgroup/switchyard-staging-green/bbbb" }
  service_arns = {
    blue  = "arn:aws:ecs:eu-west-1:111111111111:service/switchyard-staging/switchyard-staging-blue"
    green = "arn:aws:ecs:eu-west-1:111111111111:service/switchyard-staging/switchyard-staging-green"
  }
  kms_key_arn   = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000"
  alarm_actions = ["arn:aws:sns:eu-west-1:111111111111:on-call"]
}

run "every_guard_alarm_reaches_the_function_through_one_rule" {
  command = apply
  assert {
    condition     = toset(jsondecode(aws_cloudwatch_event_rule.guard.event_pattern).resources) == toset([for a in aws_cloudwatch_metric_alarm.guard : a.arn])
    error_message = "The rule must match exactly the guard's alarms (per colour and per load balancer)."
  }
  assert {
    condition = (
      jsondecode(aws_cloudwatch_event_rule.guard.event_pattern).source == ["aws.cloudwatch"]
      && jsondecode(aws_cloudwatch_event_rule.guard.event_pattern)["detail-type"] == ["CloudWatch Alarm State Change"]
      && jsondecode(aws_cloudwatch_event_rule.guard.event_pattern).detail.state.value == ["ALARM"]
    )
    error_message = "The rule must match CloudWatch alarm state changes to ALARM only (an OK must never move traffic)."
  }
  assert {
    condition     = aws_cloudwatch_event_target.guard.rule == aws_cloudwatch_event_rule.guard.name && aws_cloudwatch_event_target.guard.arn == aws_lambda_function.guard.arn
    error_message = "The rule's target must be the guard's function."
  }
  assert {
    condition = (
      aws_lambda_permission.events.principal == "events.amazonaws.com"
      && aws_lambda_permission.events.source_arn == aws_cloudwatch_event_rule.guard.arn
      && aws_lambda_permission.events.action == "lambda:InvokeFunction"
      && aws_lambda_permission.events.function_name == aws_lambda_function.guard.function_name
    )
    error_message = "Only the guard's rule may invoke the function."
  }
}

run "alarms_cover_target_5xx_the_load_balancers_own_5xx_and_unhealthy_hosts" {
  command = apply
  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.guard)) == toset(["blue-target-5xx", "blue-unhealthy", "green-target-5xx", "green-unhealthy", "elb-5xx"])
    error_message = "Each colour needs a target 5xx and an unhealthy hosts alarm, and the load balancer one on its own 5xx."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.guard["green-unhealthy"].metric_name == "UnHealthyHostCount" && aws_cloudwatch_metric_alarm.guard["green-unhealthy"].dimensions.TargetGroup == var.target_group_arn_suffixes.green
    error_message = "A colour's unhealthy hosts alarm must watch that colour's target group."
  }
  assert {
    condition = alltrue([
      for q in aws_cloudwatch_metric_alarm.guard["elb-5xx"].metric_query : toset(keys(q.metric[0].dimensions)) == toset(["LoadBalancer"]) if length(q.metric) > 0
    ]) && contains([for q in aws_cloudwatch_metric_alarm.guard["elb-5xx"].metric_query : one(q.metric[*].metric_name) if length(q.metric) > 0], "HTTPCode_ELB_5XX_Count")
    error_message = "The load balancer's own 5xx exist per load balancer only: the alarm must read them, and its requests, with no TargetGroup dimension."
  }
  assert {
    condition = toset(flatten([
      for q in aws_cloudwatch_metric_alarm.guard["green-target-5xx"].metric_query : [for m in q.metric : "${m.metric_name} ${m.dimensions.TargetGroup}"]
    ])) == toset(["HTTPCode_Target_5XX_Count ${var.target_group_arn_suffixes.green}", "RequestCount ${var.target_group_arn_suffixes.green}"])
    error_message = "A colour's 5xx alarm must divide that colour's target 5xx by that colour's requests."
  }
  assert {
    condition = alltrue([
      for key in ["blue-target-5xx", "green-target-5xx", "elb-5xx"] :
      aws_cloudwatch_metric_alarm.guard[key].threshold == 1 && aws_cloudwatch_metric_alarm.guard[key].comparison_operator == "GreaterThanThreshold"
      && length([for q in aws_cloudwatch_metric_alarm.guard[key].metric_query : q if(q.expression == null ? false : q.return_data && strcontains(q.expression, ">= 20"))]) == 1
    ])
    error_message = "A 5xx alarm breaches as the bake does: a share above error_threshold_percent (1) once min_requests_per_period (20) requests flowed, not a count."
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.guard : a.treat_missing_data == "notBreaching"])
    error_message = "ALB metrics exist only while requests flow: missing data must not fire the guard."
  }
}

run "the_function_reads_the_contract_and_may_change_only_the_two_listeners" {
  command = apply
  assert {
    condition     = aws_lambda_function.guard.environment[0].variables.DEPLOYMENT_PARAMETER == var.deployment_parameter_name
    error_message = "The guard finds everything through the deployment contract's parameter."
  }
  assert {
    condition     = aws_lambda_function.guard.handler == "ansible_collections/switchyard/bluegreen/plugins/module_utils/guard.lambda_handler" && aws_lambda_function.guard.source_code_hash == var.package.sha256
    error_message = "The function runs module_utils/guard.py's lambda_handler from the package provision.yml built."
  }
  assert {
    condition = toset(one([for s in data.aws_iam_policy_document.guard.statement : s.resources if s.sid == "SwitchTheListeners"])) == toset([
      var.production_listener_arn, var.test_listener_arn,
      "arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener-rule/app/switchyard-staging/0123/prod/*",
      "arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener-rule/app/switchyard-staging/0123/test/*",
    ])
    error_message = "The guard may modify the production and test listeners (and their rules) only."
  }
  assert {
    condition     = toset(one([for s in data.aws_iam_policy_document.guard.statement : s.resources if s.sid == "TakeTheLease"])) == toset([var.lease_table_arn])
    error_message = "The guard may use the lease table and no other."
  }
}

run "refuses_a_package_that_is_not_a_zip_with_its_hash" {
  command = plan
  variables {
    package = { path = "guard.py", sha256 = "nope" }
  }
  expect_failures = [var.package]
}

run "the_5xx_alarms_take_the_bakes_rule" {
  command = apply
  variables {
    error_threshold_percent = 2.5
    min_requests_per_period = 500
  }
  assert {
    condition = alltrue([
      for key in ["blue-target-5xx", "elb-5xx"] :
      aws_cloudwatch_metric_alarm.guard[key].threshold == 2.5
      && length([for q in aws_cloudwatch_metric_alarm.guard[key].metric_query : q if(q.expression == null ? false : q.return_data && strcontains(q.expression, ">= 500"))]) == 1
    ])
    error_message = "error_threshold_percent and min_requests_per_period must reach the 5xx alarms."
  }
}

run "failures_are_kept_in_the_dead_letter_queue_and_told" {
  command = apply
  assert {
    condition = (
      aws_sqs_queue.dead_letters.name == "switchyard-staging-guard-dead-letters"
      && aws_sqs_queue.dead_letters.message_retention_seconds == 1209600
      && aws_sqs_queue.dead_letters.kms_master_key_id == var.kms_key_arn
    )
    error_message = "The dead-letter queue keeps what the guard never handled 14 days, encrypted with the stack's key."
  }
  assert {
    condition     = one(aws_lambda_function.guard.dead_letter_config[*].target_arn) == aws_sqs_queue.dead_letters.arn
    error_message = "An invocation that failed every attempt must leave its event in the dead-letter queue."
  }
  assert {
    condition = (
      aws_lambda_function_event_invoke_config.guard.function_name == aws_lambda_function.guard.function_name
      && one(aws_lambda_function_event_invoke_config.guard.destination_config[0].on_failure[*].destination) == aws_sns_topic.failures.arn
      && aws_sns_topic.failures.kms_master_key_id == var.kms_key_arn
    )
    error_message = "The guard's failed invocations must go to its failures topic (encrypted with the stack's key)."
  }
  assert {
    condition = (
      aws_lambda_function_event_invoke_config.guard.maximum_retry_attempts == 2
      && aws_lambda_function_event_invoke_config.guard.maximum_event_age_in_seconds <= 900
    )
    error_message = "Lambda retries the guard twice (a retry finishes an attempt that died holding the lease), and not with a stale alarm."
  }
  assert {
    condition = (
      one(aws_cloudwatch_event_target.guard.dead_letter_config[*].arn) == aws_sqs_queue.dead_letters.arn
      && one(aws_cloudwatch_event_target.guard.retry_policy[*].maximum_event_age_in_seconds) <= 900
    )
    error_message = "An alarm event EventBridge could not deliver to the guard must reach the dead-letter queue while still news."
  }
  assert {
    condition = (
      aws_sqs_queue_policy.dead_letters.queue_url == aws_sqs_queue.dead_letters.url
      && length(data.aws_iam_policy_document.dead_letters.statement) == 1
      && toset(data.aws_iam_policy_document.dead_letters.statement[0].actions) == toset(["sqs:SendMessage"])
      && toset(data.aws_iam_policy_document.dead_letters.statement[0].resources) == toset([aws_sqs_queue.dead_letters.arn])
      && [for p in data.aws_iam_policy_document.dead_letters.statement[0].principals : toset(p.identifiers)] == [toset(["events.amazonaws.com"])]
      && [for c in data.aws_iam_policy_document.dead_letters.statement[0].condition : toset(c.values) if c.variable == "aws:SourceArn"] == [toset([aws_cloudwatch_event_rule.guard.arn])]
    )
    error_message = "Only EventBridge, for the guard's rule (aws:SourceArn), may send to the dead-letter queue."
  }
  assert {
    condition = (
      toset(one([for s in data.aws_iam_policy_document.guard.statement : s.resources if s.sid == "SendDeadLetters"])) == toset([aws_sqs_queue.dead_letters.arn])
      && toset(one([for s in data.aws_iam_policy_document.guard.statement : s.actions if s.sid == "SendDeadLetters"])) == toset(["sqs:SendMessage"])
      && toset(one([for s in data.aws_iam_policy_document.guard.statement : s.resources if s.sid == "PublishFailures"])) == toset([aws_sns_topic.failures.arn])
      && toset(one([for s in data.aws_iam_policy_document.guard.statement : s.actions if s.sid == "PublishFailures"])) == toset(["sns:Publish"])
    )
    error_message = "The function's role may send to its own dead-letter queue and publish to its own failures topic, nothing more."
  }
  assert {
    condition = (
      toset(keys(aws_cloudwatch_metric_alarm.failures)) == toset(["dead-letters", "errors"])
      && aws_cloudwatch_metric_alarm.failures["dead-letters"].metric_name == "ApproximateNumberOfMessagesVisible"
      && aws_cloudwatch_metric_alarm.failures["dead-letters"].dimensions.QueueName == aws_sqs_queue.dead_letters.name
      && aws_cloudwatch_metric_alarm.failures["errors"].metric_name == "Errors"
      && aws_cloudwatch_metric_alarm.failures["errors"].dimensions.FunctionName == aws_lambda_function.guard.function_name
      && alltrue([for a in aws_cloudwatch_metric_alarm.failures : a.threshold == 0 && a.comparison_operator == "GreaterThanThreshold" && a.alarm_actions == toset(var.alarm_actions)])
    )
    error_message = "A dead letter waiting and any error of the function must notify alarm_actions."
  }
  assert {
    condition     = length(setintersection(toset(jsondecode(aws_cloudwatch_event_rule.guard.event_pattern).resources), toset([for a in aws_cloudwatch_metric_alarm.failures : a.arn]))) == 0
    error_message = "The alarms on the guard's own failures must never trigger the guard."
  }
}

run "the_sandbox_may_leave_the_functions_own_dead_letter_queue_out" {
  command = apply
  variables {
    function_dead_letter_queue = false
  }
  assert {
    condition     = length(aws_lambda_function.guard.dead_letter_config) == 0
    error_message = "function_dead_letter_queue = false must leave the function's dead_letter_config out (the emulator does not keep it)."
  }
  assert {
    condition = (
      one(aws_cloudwatch_event_target.guard.dead_letter_config[*].arn) == aws_sqs_queue.dead_letters.arn
      && one(aws_lambda_function_event_invoke_config.guard.destination_config[0].on_failure[*].destination) == aws_sns_topic.failures.arn
    )
    error_message = "Without the function's own dead_letter_config, EventBridge's dead letters and the failures topic stay."
  }
}
