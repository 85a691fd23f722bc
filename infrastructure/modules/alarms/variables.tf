variable "name" {
  description = "Prefix for every alarm name."
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

variable "error_rate_threshold_percent" {
  description = "5xx share of requests, in percent, that raises the alarm."
  type        = number
  default     = 1
  validation {
    condition     = var.error_rate_threshold_percent > 0 && var.error_rate_threshold_percent <= 100
    error_message = "error_rate_threshold_percent must be above 0 and at most 100."
  }
}

variable "alarm_actions" {
  description = "SNS topics (or other actions) to notify."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
