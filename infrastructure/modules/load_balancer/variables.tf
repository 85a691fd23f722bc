variable "name" {
  description = "Prefix for every resource name (at most 28 characters, so target group names fit AWS's 32)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the target groups."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets of the load balancer, one per zone."
  type        = list(string)
}

variable "security_group_id" {
  description = "Security group of the load balancer."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS. When set, the production listener is HTTPS on 443 and port 80 redirects to it; when null, it is plain HTTP on 80 (sandbox only)."
  type        = string
  default     = null
  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN (arn:aws:acm:...) or null."
  }
}

variable "test_listener_port" {
  description = "Port of the test listener, which always forwards to the idle colour."
  type        = number
  default     = 8443
  validation {
    condition     = var.test_listener_port > 0 && var.test_listener_port < 65536 && !contains([80, 443], var.test_listener_port)
    error_message = "test_listener_port must be a port between 1 and 65535 other than 80 and 443."
  }
}

variable "container_port" {
  description = "Port the targets (tasks) listen on."
  type        = number
}

variable "health_check_path" {
  description = "Path the target groups probe; 2xx means healthy."
  type        = string
  default     = "/healthz"
  validation {
    condition     = startswith(var.health_check_path, "/")
    error_message = "health_check_path must start with /."
  }
}

variable "deregistration_delay" {
  description = "Seconds a draining target keeps its in-flight requests; short, because a switch moves whole target groups."
  type        = number
  default     = 15
  validation {
    condition     = var.deregistration_delay >= 0 && var.deregistration_delay <= 3600
    error_message = "deregistration_delay must be between 0 and 3600 seconds."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the load balancer through the API."
  type        = bool
  default     = true
}

variable "access_logs_bucket" {
  description = "S3 bucket for access logs."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
