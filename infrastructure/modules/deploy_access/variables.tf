variable "name" {
  description = "Stack name prefix (service-environment), e.g. \"switchyard-production\": every resource the role may change carries it."
  type        = string
}

variable "github_repository" {
  description = "owner/name of the GitHub repository whose workflows may assume the role."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name, e.g. acme/switchyard."
  }
}

variable "github_environment" {
  description = "GitHub environment whose jobs may assume the role (production needs approval there)."
  type        = string
}

variable "github_repository_id" {
  description = "The repository's immutable numeric id (gh api repos/OWNER/NAME --jq .id): the trust checks it, so a repository renamed or re-created under the same name gets no role."
  type        = string
  validation {
    condition     = can(regex("^[0-9]+$", var.github_repository_id))
    error_message = "github_repository_id is the repository's numeric id, e.g. 123456789 (gh api repos/OWNER/NAME --jq .id)."
  }
}

variable "workflow_branch" {
  description = "The branch whose deploy.yml deploys this environment (staging: develop, production: main): only that file on that branch may assume the deploy roles."
  type        = string
  validation {
    condition     = length(var.workflow_branch) > 0
    error_message = "workflow_branch names the branch this environment deploys from, e.g. main."
  }
}

variable "default_branch" {
  description = "The repository's default branch: rollback.yml (dispatched) and finalize.yml (scheduled) run from it, and only from it may they assume their roles."
  type        = string
  default     = "main"
}

variable "status_reader_environments" {
  description = "GitHub environments of the same repository whose deploy.yml jobs (on main) may read this stack's status through a read-only <name>-status role; staging: [\"production\"]. Empty: no such role."
  type        = list(string)
  default     = []
}

variable "create_oidc_provider" {
  description = "Create GitHub's OIDC provider in this account; false when another stack already did (one per account)."
  type        = bool
  default     = true
}

variable "state_bucket" {
  description = "S3 bucket of the Terraform state."
  type        = string
}

variable "state_key" {
  description = "Key of this environment's state in the bucket."
  type        = string
}

variable "ecr_repository_arn" {
  description = "ECR repository the pipeline pushes images to."
  type        = string
}

variable "image_push" {
  description = "Whether this environment owns ecr_repository_arn (staging): it then has the build role (build.tf), the only one that may push images and write their build records."
  type        = bool
  default     = false
}

variable "build_environment" {
  description = "GitHub environment of deploy.yml's build job, which alone may assume the build role on workflow_branch (limit it to that branch in the repository's settings)."
  type        = string
  default     = "build"
}

variable "break_glass_principals" {
  description = "IAM principals (ARNs) that may assume <name>-break-glass, with MFA, to modify or delete the database, its snapshots and backups, the stack's key or the deployment records. null: the account, whose own IAM policies then say who."
  type        = list(string)
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
