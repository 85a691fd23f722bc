# Account-specific values; terraform.tfvars in this directory carries documented placeholders.

variable "region" {
  description = "AWS region of the environment."
  type        = string
}

variable "availability_zones" {
  description = "Two availability zones of the region."
  type        = list(string)
}

variable "certificate_arn" {
  description = "ACM certificate for the listeners' HTTPS."
  type        = string
  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN: this environment serves HTTPS only."
  }
}

variable "runner_cidrs" {
  description = "Where deployments run from (CI runners, VPN): the only sources that may reach the test listener."
  type        = list(string)
}

variable "bootstrap_image" {
  description = "Image of the first task definition revision; releases replace it through promote.yml."
  type        = string
}

variable "alarm_topic_arns" {
  description = "SNS topics that the 5xx-rate alarms notify."
  type        = list(string)
  default     = []
}
