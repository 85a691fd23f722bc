# Staging: what makes it staging. main.tf, variables.tf, outputs.tf, versions.tf and tests/ are
# the same files as production's; only this file and backend.hcl differ.
environment = "staging"

# --- placeholders for account-specific values (no secrets belong here) ---
region             = "eu-west-1"
availability_zones = ["eu-west-1a", "eu-west-1b"]
# ACM certificate for the service's domain (must be issued in the region above).
certificate_arn = "arn:aws:acm:eu-west-1:111111111111:certificate/REPLACE-ME"
# Public IPs of the CI runners / VPN that run deployments and smoke-check the test listener.
runner_cidrs = ["192.0.2.0/24"]
# First image, before any release (a public placeholder is fine).
bootstrap_image = "public.ecr.aws/nginx/nginx:1.27-alpine"
# Required: SNS topic(s) in the region above that the alarms and the guard's failures notify (your on-call's).
alarm_topic_arns = ["arn:aws:sns:eu-west-1:111111111111:REPLACE-with-your-alarm-topic"]
# The GitHub repository whose deploy workflows may assume the deploy role (OIDC).
github_repository = "REPLACE-owner/switchyard"
# Its numeric id: the trust checks it, not only the name.
github_repository_id = "000000000" # REPLACE-with: gh api repos/OWNER/NAME --jq .id
# Environments whose deploy job reads this one's live digest through a read-only role.
status_reader_environments = ["production"]
# The branch whose deploy.yml deploys here (rollback.yml and finalize.yml: from main).
workflow_branch = "develop"
# GitHub's OIDC provider: staging creates it (one per account).
create_oidc_provider = true
# Same bucket and key as backend.hcl.
state_bucket = "REPLACE-with-your-terraform-state-bucket"
state_key    = "switchyard/staging/terraform.tfstate"
# null: staging creates the one image repository (production uses it; see its terraform.tfvars).
ecr_repository_arn = null

# --- shape: small and cheap, but protected like production so that a promote rehearses the same steps ---
vpc_cidr                 = "10.20.0.0/16"
nat_gateway              = "single"
live_desired_count       = 1
task_cpu                 = 256
task_memory              = 512
db_instance_class        = "db.t4g.micro"
db_allocated_storage     = 20
db_multi_az              = false
db_backup_retention_days = 3

# The branch whose attested builds alone may run here (the migration runner refuses others).
image_provenance = ""
