variable "name" {
  description = "Prefix of every name (the stack's <service>-<environment>)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,40}$", var.name))
    error_message = "name must be lower-case letters, digits and hyphens (at most 41 characters), starting with a letter."
  }
}

variable "package" {
  description = "The handler's zip package and its base64 SHA-256 (the provision role builds it with the lambda_package module)."
  type = object({
    path   = string
    sha256 = string
  })
  validation {
    condition     = endswith(var.package.path, ".zip") && length(var.package.sha256) == 44
    error_message = "package.path must name a .zip file and package.sha256 be its base64 SHA-256 (44 characters)."
  }
}

variable "deployment_parameter_name" {
  description = "SSM parameter that holds the deployment contract, which the handler reads."
  type        = string
}

variable "deployment_parameter_arn" {
  description = "ARN of that parameter (the handler may read it, nothing else in SSM)."
  type        = string
}

variable "lease_table_arn" {
  description = "ARN of the deployment lease table (the guard takes the lease over, as a rollback does)."
  type        = string
}

variable "record_log_group_arn" {
  description = "ARN of the deployment records' log group (the guard writes a record of what it did)."
  type        = string
}

variable "production_listener_arn" {
  description = "The listener whose forward the guard sends back (and its rules)."
  type        = string
}

variable "test_listener_arn" {
  description = "The test listener, pointed at the colour the guard leaves, as rollback.yml does."
  type        = string
}

variable "load_balancer_arn_suffix" {
  description = "LoadBalancer dimension of the ALB's metrics."
  type        = string
}

variable "target_group_arn_suffixes" {
  description = "TargetGroup dimension per colour."
  type        = map(string)
}

variable "service_arns" {
  description = "The ECS services per colour (the guard reads whether the old colour is warm)."
  type        = map(string)
}

variable "kms_key_arn" {
  description = "The stack's key: the lease table, the records and the handler's own logs and environment."
  type        = string
}

variable "period_seconds" {
  description = "Period of the guard's alarms. ALB metrics arrive per minute, so 60 is the real floor."
  type        = number
  default     = 60
  validation {
    condition     = contains([10, 20, 30], var.period_seconds) || (var.period_seconds >= 60 && var.period_seconds % 60 == 0)
    error_message = "period_seconds must be 10, 20, 30 (high-resolution metrics only: the sandbox's) or a multiple of 60 (CloudWatch's alarm periods; ALB metrics need 60 or more)."
  }
}

variable "evaluation_periods" {
  description = "Consecutive breaching periods that fire an alarm: 2 ignores a one-minute blip and leaves the bake's own watch (seconds, through probes) the first word."
  type        = number
  default     = 2
  validation {
    condition     = var.evaluation_periods >= 1 && var.evaluation_periods <= 5
    error_message = "evaluation_periods must be from 1 to 5."
  }
}

variable "error_threshold_percent" {
  description = "5xx share of a colour's (or the load balancer's) requests in one period above which the alarm breaches: the bake's threshold (switchyard_error_threshold_percent), so a busy release is judged by its share of errors, not their number."
  type        = number
  default     = 1
  validation {
    condition     = var.error_threshold_percent >= 0 && var.error_threshold_percent < 100
    error_message = "error_threshold_percent must be from 0 to below 100."
  }
}

variable "min_requests_per_period" {
  description = "Requests in one period before its 5xx share counts: a handful proves nothing, but a period is short (a minute on AWS), so far fewer than the bake's switchyard_min_requests over its whole window."
  type        = number
  default     = 20
  validation {
    condition     = var.min_requests_per_period >= 1
    error_message = "min_requests_per_period must be at least 1."
  }
}

variable "alarm_actions" {
  description = "SNS topics (or other actions) the guard's alarms notify besides the guard, and the alarms on its own failures (dead letters, errors) notify."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Retention of the handler's own log group."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "function_dead_letter_queue" {
  description = "Whether the function itself sends the event of an invocation that failed every attempt to the dead-letter queue (its dead_letter_config); the failures topic and EventBridge's dead letters do not depend on it. Keep it on: only the sandbox turns it off, whose emulator (moto) does not keep a function's DeadLetterConfig, so every plan would show it as a change."
  type        = bool
  default     = true
}

variable "permissions_boundary" {
  description = "ARN of the permissions boundary every role of the guard carries (deploy_access's workload boundary); null: none (the sandbox)."
  type        = string
  default     = null
}
