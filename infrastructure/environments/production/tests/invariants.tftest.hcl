# Invariants of the production root, planned against a mock provider (no AWS account needed).
mock_provider "aws" {
  # Policy documents are rendered by the provider; the mock must return valid JSON.
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
}

variables {
  region             = "eu-west-1"
  availability_zones = ["eu-west-1a", "eu-west-1b"]
  certificate_arn    = "arn:aws:acm:eu-west-1:111111111111:certificate/test"
  runner_cidrs       = ["192.0.2.0/24"]
  bootstrap_image    = "public.ecr.aws/nginx/nginx:1.27-alpine"
  github_repository  = "acme/switchyard"
  state_bucket       = "acme-terraform-state"
  ecr_repository_arn = "arn:aws:ecr:eu-west-1:111111111111:repository/switchyard/app"
}

run "database_is_private_encrypted_and_protected" {
  command = plan
  assert {
    condition     = output.posture.database_publicly_accessible == false
    error_message = "The database must not be publicly accessible."
  }
  assert {
    condition     = output.posture.database_storage_encrypted && output.posture.database_password_managed
    error_message = "The database must be encrypted, its master password kept by RDS in Secrets Manager."
  }
  assert {
    condition     = output.posture.database_multi_az && output.posture.database_backup_days >= 7
    error_message = "Production's database must be Multi-AZ with at least a week of backups."
  }
  assert {
    condition     = output.posture.deletion_protection
    error_message = "Production's load balancer and database must have deletion protection."
  }
}

run "both_colours_behind_https" {
  command = plan
  assert {
    condition     = toset(output.posture.colours) == toset(["blue", "green"]) && toset(values(output.posture.target_types)) == toset(["ip"])
    error_message = "Both target groups, blue and green, must exist, of type ip (Fargate)."
  }
  assert {
    condition     = output.posture.https
    error_message = "Production serves HTTPS only."
  }
  assert {
    condition     = output.posture.idle_colour_initial_count == 0
    error_message = "The idle colour (green) starts with no tasks."
  }
}

run "refuses_a_certificate_that_is_not_an_acm_arn" {
  command = plan
  variables {
    certificate_arn = "not-an-arn"
  }
  expect_failures = [var.certificate_arn]
}
