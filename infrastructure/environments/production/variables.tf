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

variable "github_repository" {
  description = "owner/name of the GitHub repository whose deploy workflows may assume the deploy role."
  type        = string
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

variable "ecr_repository_arn" {
  description = "The image repository, created by the staging root: production deploys the digests staging ran."
  type        = string
}
