variable "name" {
  description = "Prefix for every resource name; also the task definition family."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets the tasks run in."
  type        = list(string)
}

variable "security_group_id" {
  description = "Security group of the tasks."
  type        = string
}

variable "target_group_arns" {
  description = "Target group per colour: { blue = arn, green = arn }."
  type        = map(string)
  validation {
    condition     = toset(keys(var.target_group_arns)) == toset(["blue", "green"])
    error_message = "target_group_arns must have exactly the keys blue and green."
  }
}

variable "bootstrap_image" {
  description = "Image of the first task definition revision. Later revisions are registered by the deployment (Ansible), never by Terraform."
  type        = string
}

variable "container_port" {
  description = "Port the container listens on."
  type        = number
  validation {
    condition     = var.container_port > 0 && var.container_port < 65536
    error_message = "container_port must be between 1 and 65535."
  }
}

variable "cpu" {
  description = "Fargate CPU units per task."
  type        = number
  default     = 256
  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.cpu)
    error_message = "cpu must be a Fargate size: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "memory" {
  description = "Memory (MiB) per task; must suit the CPU size."
  type        = number
  default     = 512
  validation {
    condition     = var.memory >= 512 && var.memory <= 122880
    error_message = "memory must be between 512 and 122880 MiB."
  }
}

variable "live_desired_count" {
  description = "Tasks of the colour that starts live (blue). The idle colour (green) starts at zero. After creation the deployment owns both counts."
  type        = number
  default     = 2
  validation {
    condition     = var.live_desired_count >= 1 && var.live_desired_count <= 100
    error_message = "live_desired_count must be between 1 and 100."
  }
}

variable "health_check_grace_period_seconds" {
  description = "Seconds ECS ignores failing load balancer health checks of a new task while it starts."
  type        = number
  default     = 30
  validation {
    condition     = var.health_check_grace_period_seconds >= 0 && var.health_check_grace_period_seconds <= 2147483647
    error_message = "health_check_grace_period_seconds must be zero or more seconds."
  }
}

variable "environment_variables" {
  description = "Plain environment of the container (no secrets here)."
  type        = map(string)
  default     = {}
}

variable "secrets" {
  description = "Container environment taken from Secrets Manager at start: { NAME = \"<secret arn>:<json key>::\" }."
  type        = map(string)
  default     = {}
}

variable "secret_arns" {
  description = "Secrets the execution role may read (for var.secrets)."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Days to keep the container logs."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the log group."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "migration_secret_arn" {
  description = "The secret a release's migration task reads the schema owner's credentials from (the database's master secret)."
  type        = string
}

variable "runtime_secret_arn" {
  description = "The service's own credentials: the migration task stores there the password it draws for the service's role."
  type        = string
}

variable "permissions_boundary" {
  description = "ARN of the permissions boundary every role of the service carries (deploy_access's workload boundary); null: none (the sandbox)."
  type        = string
  default     = null
}

variable "migration_command" {
  description = "The release's migration command (its image's), to which the runner appends --release <image> and one --keep=<image> per release that can still run."
  type        = list(string)
  default     = ["python", "-m", "switchyard_app.migrate", "apply"]
}

variable "image_repository_url" {
  description = "The image repository whose images the migration runner accepts (repository URL, without tag or digest)."
  type        = string
}

variable "migration_image_policy" {
  description = "Which images of the repository the runner accepts: digest (only <repository>@sha256:...), or tag_or_digest (the sandbox, which has no registry)."
  type        = string
  default     = "digest"
  validation {
    condition     = contains(["digest", "tag_or_digest"], var.migration_image_policy)
    error_message = "migration_image_policy is digest or tag_or_digest."
  }
}

variable "package" {
  description = "The stack's Lambda package {path, sha256} (the guard's and the migration runner's handlers), built by the provision role."
  type = object({
    path   = string
    sha256 = string
  })
}

variable "migration_provenance" {
  description = "The branch whose attested builds alone the runner migrates with (production: main; scripts/image_record.py); empty: any image the image policy accepts."
  type        = string
  default     = ""
}
