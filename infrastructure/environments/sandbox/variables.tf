variable "aws_endpoint" {
  description = "URL of the AWS API emulator (moto server). provision.yml passes AWS_ENDPOINT_URL when it is set, otherwise the address make sandbox-up prints."
  type        = string
  default     = "http://127.0.0.1:4566"
  validation {
    condition     = can(regex("^https?://", var.aws_endpoint))
    error_message = "aws_endpoint must be an http(s) URL, e.g. http://127.0.0.1:4566."
  }
}

variable "environment" {
  description = "The environment the sandbox stack stands in for: sandbox, or staging or production for the offline runs of the workflows (tests/integration/test_workflow_runs.py), each in its own Terraform workspace."
  type        = string
  default     = "sandbox"
  validation {
    condition     = contains(["sandbox", "staging", "production"], var.environment)
    error_message = "environment must be sandbox, staging or production."
  }
}

variable "bootstrap_image" {
  description = "Image of the first task definition revision."
  type        = string
  default     = "registry.sandbox.local/switchyard/app:bootstrap"
}

variable "guard_package" {
  description = "The guard's Lambda package {path, sha256}: provision.yml builds it (module lambda_package) and passes it; run Terraform through provision.yml."
  type = object({
    path   = string
    sha256 = string
  })
}

variable "alarm_rule" {
  description = "When a 5xx share breaches, for the alarms and the guard: provision.yml passes the inventory's switchyard_error_threshold_percent (the bake's threshold) and switchyard_guard_min_requests (requests in one guard period before its share counts)."
  type = object({
    error_threshold_percent = number
    min_requests            = number
  })
  default = { error_threshold_percent = 1, min_requests = 20 }
}
