variable "name" {
  description = "Prefix for every resource name; the DB instance identifier."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets of the database, one per zone."
  type        = list(string)
  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "RDS needs subnets in at least two availability zones."
  }
}

variable "security_group_id" {
  description = "Security group of the database."
  type        = string
}

variable "engine_version" {
  description = "PostgreSQL major version. A major only: AWS applies minor upgrades (auto_minor_version_upgrade) and a plan stays clean, where a pinned minor would ask to downgrade after each."
  type        = string
  default     = "16"
  validation {
    condition     = can(regex("^1[3-7]$", var.engine_version))
    error_message = "engine_version must be a PostgreSQL major version from 13 to 17, such as 16 (not a minor such as 16.4: AWS upgrades minors itself)."
  }
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.micro"
  validation {
    condition     = startswith(var.instance_class, "db.")
    error_message = "instance_class must be an RDS class such as db.t4g.micro."
  }
}

variable "allocated_storage" {
  description = "Storage in GiB."
  type        = number
  default     = 20
  validation {
    condition     = var.allocated_storage >= 20 && var.allocated_storage <= 65536
    error_message = "allocated_storage must be between 20 and 65536 GiB."
  }
}

variable "database_name" {
  description = "Database created at launch."
  type        = string
  default     = "app"
  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.database_name))
    error_message = "database_name must be lowercase letters, digits or underscores, starting with a letter."
  }
}

variable "master_username" {
  description = "Master user; its password is generated and kept by RDS in Secrets Manager."
  type        = string
  default     = "switchyard"
}

variable "multi_az" {
  description = "Standby in a second zone (production)."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Refuse deletion through the API."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number
  default     = 7
  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35: backups are never off."
  }
}

variable "performance_insights_enabled" {
  description = "Performance Insights (query-level load). Off only where the platform cannot provide it (the sandbox's emulator)."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "KMS key for storage, Performance Insights and the master secret."
  type        = string
}

variable "monitoring_role_arn" {
  description = "Role for enhanced monitoring."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "runtime_username" {
  description = "The service's database role: the migrations grant it rows only (no DDL)."
  type        = string
  default     = "app_runtime"
}
