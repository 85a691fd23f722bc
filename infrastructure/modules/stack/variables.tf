variable "service_name" {
  description = "Short name of the service, e.g. \"switchyard\"."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.service_name))
    error_message = "service_name must be 2-16 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Environment this stack serves."
  type        = string
  validation {
    condition     = contains(["staging", "production", "sandbox"], var.environment)
    error_message = "environment must be one of staging, production, sandbox."
  }
}

variable "vpc_cidr" {
  description = "IPv4 range of the VPC."
  type        = string
}

variable "availability_zones" {
  description = "Exactly two availability zones."
  type        = list(string)
}

variable "nat_gateway" {
  description = "none, single or per_az (see the network module)."
  type        = string
  default     = "single"
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS listeners; null gives plain HTTP (sandbox only)."
  type        = string
  default     = null
}

variable "test_listener_port" {
  description = "Port of the test listener (idle colour)."
  type        = number
  default     = 8443
}

variable "test_listener_cidrs" {
  description = "Who may reach the test listener (deployment runners)."
  type        = list(string)
}

variable "container_port" {
  description = "Port the service listens on."
  type        = number
  default     = 8080
}

variable "health_check_path" {
  description = "Health check path of both target groups."
  type        = string
  default     = "/healthz"
}

variable "deregistration_delay" {
  description = "Seconds a draining target keeps in-flight requests."
  type        = number
  default     = 15
}

variable "bootstrap_image" {
  description = "Image of the first task definition revision (before any release)."
  type        = string
}

variable "task_cpu" {
  description = "Fargate CPU units per task."
  type        = number
  default     = 256
}

variable "task_memory" {
  description = "Memory (MiB) per task."
  type        = number
  default     = 512
}

variable "live_desired_count" {
  description = "Tasks of the colour that starts live."
  type        = number
  default     = 2
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.micro"
}

variable "db_allocated_storage" {
  description = "Database storage in GiB."
  type        = number
  default     = 20
}

variable "db_multi_az" {
  description = "Multi-AZ database."
  type        = bool
  default     = false
}

variable "db_backup_retention_days" {
  description = "Days of automated database backups."
  type        = number
  default     = 7
}

variable "deletion_protection" {
  description = "Deletion protection for the load balancer, the database and the deployment lease table."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Days to keep logs (containers, flow logs)."
  type        = number
  default     = 365
}

variable "access_log_retention_days" {
  description = "Days to keep load balancer access logs in S3."
  type        = number
  default     = 90
}

variable "error_rate_alarm_percent" {
  description = "5xx share that raises the per-colour alarm and the guard's: the bake's threshold (switchyard_error_threshold_percent)."
  type        = number
  default     = 1
}

variable "guard_min_requests" {
  description = "Requests in one of the guard's periods before its 5xx share counts (switchyard_guard_min_requests)."
  type        = number
  default     = 20
}

variable "alarm_actions" {
  description = "Where alarms notify (SNS topic ARNs): the 5xx-rate alarms, the guard's and those on the guard's own failures."
  type        = list(string)
  default     = []
}

variable "performance_insights_enabled" {
  description = "Performance Insights on the database (query-level load, encrypted with the stack's key). Keep it on; turn it off only where the platform cannot provide it."
  type        = bool
  default     = true
}

variable "health_check_grace_period_seconds" {
  description = "Seconds ECS ignores failing load balancer health checks of a newly started task. Long enough for the service to boot; every second of it is a second a broken release can hide from ECS."
  type        = number
  default     = 30
  validation {
    condition     = var.health_check_grace_period_seconds >= 0 && var.health_check_grace_period_seconds <= 1800 && floor(var.health_check_grace_period_seconds) == var.health_check_grace_period_seconds
    error_message = "health_check_grace_period_seconds must be a whole number of seconds from 0 to 1800 (30 minutes)."
  }
}

variable "guard_package" {
  description = "The stack's Lambda package (the guard's and the migration runner's handlers): {path, sha256 (base64)}, built by the provision role (module lambda_package)."
  type = object({
    path   = string
    sha256 = string
  })
}

variable "guard_period_seconds" {
  description = "Period of the guard's alarms: 60 for ALB metrics on AWS; the sandbox's harness may use less."
  type        = number
  default     = 60
}

variable "guard_function_dead_letter_queue" {
  description = "Whether the guard's function sends the event of an invocation that failed every attempt to its dead-letter queue (modules/guard). Keep it on; the sandbox turns it off, whose emulator does not keep a function's DeadLetterConfig."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

variable "permissions_boundary" {
  description = "ARN of the permissions boundary every role of the stack carries (deploy_access's workload boundary); null: none (the sandbox)."
  type        = string
  default     = null
}

variable "image_repository_url" {
  description = "The image repository the service's releases come from (URL, no tag or digest): the only one whose images the migration runner runs."
  type        = string
}

variable "migration_image_policy" {
  description = "Which of the repository's images the migration runner accepts: digest (staging, production) or tag_or_digest (the sandbox, which has no registry)."
  type        = string
  default     = "digest"
}

variable "image_provenance" {
  description = "The branch whose attested builds alone may run here (production: main): the migration runner refuses any other image, as production's preflight does. Empty: no attestation needed."
  type        = string
  default     = ""
}
