# Placeholders for account-specific values. No secrets belong here.
region             = "eu-west-1"
availability_zones = ["eu-west-1a", "eu-west-1b"]
# ACM certificate for the service's domain (must be issued in the region above).
certificate_arn = "arn:aws:acm:eu-west-1:111111111111:certificate/REPLACE-ME"
# Public IPs of the CI runners / VPN that run deployments and smoke-check the test listener.
runner_cidrs = ["192.0.2.0/24"]
# First image, before any release (a public placeholder is fine).
bootstrap_image  = "public.ecr.aws/nginx/nginx:1.27-alpine"
alarm_topic_arns = []
# The GitHub repository whose deploy workflows may assume the deploy role (OIDC).
github_repository = "REPLACE-owner/switchyard"
# Same bucket as backend.hcl.
state_bucket = "REPLACE-with-your-terraform-state-bucket"
