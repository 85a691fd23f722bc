# Invariants of a real environment (staging or production), planned against a mock provider (no
# AWS account needed) with the root's own terraform.tfvars. Identical in both roots: what depends
# on the environment says so in its condition.
mock_provider "aws" {
  # Policy documents are rendered by the provider; the mock must return valid JSON.
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
}

# provision.yml builds and passes the guard's package; a plan only needs its name and hash.
variables {
  guard_package = { path = "switchyard-guard.zip", sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
}

run "production_is_deployed_only_by_its_workflows_on_main" {
  command = plan
  assert {
    condition     = var.environment != "production" || var.workflow_branch == "main"
    error_message = "Production's deploy role must be bound to the repository's workflow files on main (workflow_branch = \"main\")."
  }
}

run "database_is_private_encrypted_and_protected" {
  command = plan
  assert {
    condition     = output.posture.database_publicly_accessible == false
    error_message = "The ${var.environment} database must not be publicly accessible."
  }
  assert {
    condition     = output.posture.database_storage_encrypted && output.posture.database_password_managed
    error_message = "The ${var.environment} database must be encrypted, its master password kept by RDS in Secrets Manager."
  }
  assert {
    condition     = output.posture.database_backup_days >= 1
    error_message = "The ${var.environment} database must be backed up."
  }
  assert {
    condition     = output.posture.database_final_snapshot
    error_message = "Destroying the ${var.environment} database must always take a final snapshot."
  }
  assert {
    condition     = can(regex("^[0-9]+$", output.posture.database_engine_version))
    error_message = "The ${var.environment} database must pin a major version only, so AWS's minor upgrades never dirty a plan."
  }
  assert {
    condition     = output.posture.deletion_protection
    error_message = "The ${var.environment} load balancer and database must have deletion protection."
  }
}

run "production_survives_a_zone_outage" {
  command = plan
  assert {
    condition     = var.environment != "production" || (output.posture.database_multi_az && output.posture.database_backup_days >= 7)
    error_message = "Production's database must be Multi-AZ with at least a week of backups."
  }
  assert {
    condition     = var.environment != "production" || var.nat_gateway == "per_az"
    error_message = "Production needs a NAT gateway per zone, so that one zone's outage does not cut the other's tasks off."
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
    error_message = "${var.environment} serves HTTPS only."
  }
  assert {
    condition     = output.posture.idle_colour_initial_count == 0
    error_message = "The idle colour (green) starts with no tasks."
  }
}

run "deployment_contract_is_published" {
  command = plan
  assert {
    condition     = output.deployment_parameter == "/switchyard/switchyard-${var.environment}/deployment"
    error_message = "The contract must be published as /switchyard/switchyard-${var.environment}/deployment (the name the deploy role may read), not ${output.deployment_parameter}."
  }
  assert {
    condition     = output.deployment.layer == "alb" && output.deployment.contract_version == 1 && output.deployment.environment == var.environment
    error_message = "The contract must name its traffic layer (alb), its version (1) and its environment."
  }
}

run "deployment_lease_table_is_published_and_protected" {
  command = plan
  assert {
    condition     = output.deployment.lease_table == "switchyard-${var.environment}-deployment-lease"
    error_message = "The contract must name the lease table switchyard-${var.environment}-deployment-lease (the one table the deploy role may write), not ${output.deployment.lease_table}."
  }
  assert {
    condition     = output.posture.lease_table.billing_mode == "PAY_PER_REQUEST" && output.posture.lease_table.hash_key == "environment"
    error_message = "The ${var.environment} lease table is on-demand with one item per environment (hash key environment)."
  }
  assert {
    condition     = output.posture.lease_table.ttl_attribute == "ttl"
    error_message = "Abandoned leases in ${var.environment} must expire: TTL on the attribute ttl."
  }
  assert {
    condition     = output.posture.lease_table.point_in_time_recovery && output.posture.lease_table.encrypted
    error_message = "The ${var.environment} lease table must have point-in-time recovery and encryption with the stack's key."
  }
  assert {
    condition     = output.posture.lease_table.deletion_protection
    error_message = "The ${var.environment} lease table must have deletion protection."
  }
}

run "uses_the_image_repository_it_is_given" {
  command = plan
  variables {
    ecr_repository_arn = "arn:aws:ecr:eu-west-1:222222222222:repository/switchyard/app"
  }
  assert {
    condition     = output.ecr_repository_url == "222222222222.dkr.ecr.eu-west-1.amazonaws.com/switchyard/app"
    error_message = "With ecr_repository_arn set, the root must use that repository, not create one."
  }
}

run "only_the_build_role_pushes_to_the_repository_it_owns" {
  command = plan
  variables {
    ecr_repository_arn = null
  }
  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.repository[0].statement :
      s.effect == "Deny" && contains(s.actions, "ecr:PutImage") && contains(s.actions, "ecr:InitiateLayerUpload")
      && anytrue([for c in s.condition : c.test == "ArnNotEquals" && c.variable == "aws:PrincipalArn" && length(c.values) == 1])
    ]) && length(aws_ecr_repository_policy.app) == 1
    error_message = "The root that owns the image repository must deny every principal but the build role a push."
  }
}

run "refuses_a_certificate_that_is_not_an_acm_arn" {
  command = plan
  variables {
    certificate_arn = "not-an-arn"
  }
  expect_failures = [var.certificate_arn]
}

run "alarms_and_the_guards_failures_notify_the_alarm_topics" {
  command = plan
  assert {
    condition     = length(var.alarm_topic_arns) > 0 && output.guard_failures.alarm_actions == var.alarm_topic_arns
    error_message = "In ${var.environment} the alarms, the guard's included, and those on the guard's own failures must notify alarm_topic_arns."
  }
  assert {
    condition     = toset(output.guard_failures.alarm_names) == toset(["switchyard-${var.environment}-guard-dead-letters", "switchyard-${var.environment}-guard-errors"])
    error_message = "The ${var.environment} guard's failures need their alarms: dead letters waiting, and the function's errors."
  }
}

run "refuses_no_alarm_topics" {
  command = plan
  variables {
    alarm_topic_arns = []
  }
  expect_failures = [var.alarm_topic_arns]
}

run "refuses_an_alarm_topic_that_is_not_an_sns_arn" {
  command = plan
  variables {
    alarm_topic_arns = ["on-call@example.com"]
  }
  expect_failures = [var.alarm_topic_arns]
}

run "refuses_the_sandbox_environment" {
  command = plan
  variables {
    environment = "sandbox"
  }
  expect_failures = [var.environment]
}
