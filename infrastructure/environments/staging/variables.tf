# What one real environment is. Every value comes from terraform.tfvars in this directory;
# the account-specific ones there are documented placeholders.

# --- which environment ---------------------------------------------------------------------------

variable "environment" {
  description = "The environment this root provisions; names its stack (switchyard-<environment>) and the GitHub environment whose jobs may deploy it."
  type        = string
  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production (the sandbox has its own root)."
  }
}

variable "region" {
  description = "AWS region of the environment."
  type        = string
}

variable "availability_zones" {
  description = "Two availability zones of the region."
  type        = list(string)
}

# --- network and edge ----------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "IPv4 range of the environment's VPC; distinct per environment so that they can be peered."
  type        = string
}

variable "nat_gateway" {
  description = "NAT of the private subnets: \"single\" (one, cheaper) or \"per_az\" (one per zone, survives a zone outage)."
  type        = string
  validation {
    condition     = contains(["single", "per_az"], var.nat_gateway)
    error_message = "nat_gateway must be single or per_az: tasks in a real account need a way to AWS and the registry."
  }
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

variable "alarm_topic_arns" {
  description = "SNS topics that the alarms notify: the 5xx-rate alarms, the guard's, and those on the guard's own failures (alarm events in its dead-letter queue, errors of its function)."
  type        = list(string)
  validation {
    condition     = length(var.alarm_topic_arns) > 0
    error_message = "Set alarm_topic_arns in terraform.tfvars to at least one SNS topic (e.g. your on-call's): staging and production require it, because the 5xx alarms, the guard's alarms and the alarms on the guard's own failures notify there. Without one, an alarm the guard could not act on, or a guard that failed, tells no one."
  }
  validation {
    condition     = alltrue([for arn in var.alarm_topic_arns : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", arn))])
    error_message = "alarm_topic_arns must be SNS topic ARNs (arn:aws:sns:<region>:<account>:<topic name>)."
  }
}

# --- sizes ---------------------------------------------------------------------------------------

variable "bootstrap_image" {
  description = "Image of the first task definition revision; releases replace it through promote.yml."
  type        = string
}

variable "live_desired_count" {
  description = "Tasks of the colour that starts live; afterwards the deployment owns the counts."
  type        = number
}

variable "task_cpu" {
  description = "Fargate CPU units per task."
  type        = number
}

variable "task_memory" {
  description = "Memory (MiB) per task."
  type        = number
}

variable "db_instance_class" {
  description = "RDS instance class of the database."
  type        = string
}

variable "db_allocated_storage" {
  description = "Database storage in GiB."
  type        = number
}

variable "db_multi_az" {
  description = "Keep a database standby in a second zone."
  type        = bool
}

variable "db_backup_retention_days" {
  description = "Days of automated database backups (the point-in-time recovery window)."
  type        = number
}

# --- delivery: GitHub, Terraform state, images ---------------------------------------------------

variable "github_repository" {
  description = "owner/name of the GitHub repository whose deploy workflows may assume the deploy role."
  type        = string
}

variable "github_repository_id" {
  description = "The repository's numeric id (gh api repos/OWNER/NAME --jq .id): the roles' trust checks it, so a renamed or re-created repository gets no role."
  type        = string
}

variable "workflow_branch" {
  description = "The branch whose deploy.yml deploys this environment (staging: develop, production: main); rollback.yml and finalize.yml are trusted from the default branch, main."
  type        = string
}

variable "status_reader_environments" {
  description = "GitHub environments whose deploy.yml jobs on main may read this environment's status through a read-only role (staging: [\"production\"], for the digest production promotes)."
  type        = list(string)
  default     = []
}

variable "create_oidc_provider" {
  description = "Create GitHub's OIDC provider (once per AWS account; false in the second environment of a shared account)."
  type        = bool
  default     = true
}

variable "state_bucket" {
  description = "S3 bucket of the Terraform state (the same as in backend.hcl)."
  type        = string
}

variable "state_key" {
  description = "Key of this environment's state in the bucket (the same as in backend.hcl); the deploy role may write only this one."
  type        = string
}

variable "ecr_repository_arn" {
  description = "The image repository to deploy from. null: this root creates it (staging); otherwise the ARN of the one staging created (production deploys the digests staging ran)."
  type        = string
  default     = null
  validation {
    condition     = var.ecr_repository_arn == null || can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", var.ecr_repository_arn))
    error_message = "ecr_repository_arn must be null or an ECR repository ARN (arn:aws:ecr:<region>:<account>:repository/<name>)."
  }
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

variable "image_provenance" {
  description = "The branch whose attested builds alone may run here: production \"main\" (deploy.yml attests them), staging \"\" (develop's builds)."
  type        = string
  default     = ""
}
