# Invariants of the sandbox root: the same stack as production, minus what an emulator
# cannot serve (HTTPS certificates) and the protections that would stop a teardown.
mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
}

# provision.yml builds and passes the guard's package; a plan only needs its name and hash.
variables {
  guard_package = { path = "switchyard-guard.zip", sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
}

run "same_protections_as_production_where_they_apply" {
  command = plan
  assert {
    condition     = output.posture.database_publicly_accessible == false && output.posture.database_storage_encrypted && output.posture.database_password_managed
    error_message = "Even in the sandbox the database is private, encrypted and its password managed."
  }
  assert {
    condition     = toset(output.posture.colours) == toset(["blue", "green"]) && output.posture.idle_colour_initial_count == 0
    error_message = "Both colours exist and green starts idle."
  }
  assert {
    condition     = output.posture.deletion_protection == false
    error_message = "The sandbox must stay disposable: no deletion protection."
  }
}

run "refuses_an_endpoint_that_is_not_a_url" {
  command = plan
  variables {
    aws_endpoint = "127.0.0.1:4566"
  }
  expect_failures = [var.aws_endpoint]
}

run "deployment_contract_is_published" {
  command = plan
  assert {
    condition     = output.deployment_parameter == "/switchyard/switchyard-sandbox/deployment"
    error_message = "The sandbox publishes its contract under the same convention as the real environments: /switchyard/switchyard-sandbox/deployment."
  }
  assert {
    condition     = output.deployment.layer == "alb" && output.deployment.contract_version == 1
    error_message = "The sandbox's contract must name its traffic layer (alb) and its version (1)."
  }
}

run "deployment_lease_table_is_published" {
  command = plan
  assert {
    condition     = output.deployment.lease_table == "switchyard-sandbox-deployment-lease"
    error_message = "The sandbox's contract must name its lease table switchyard-sandbox-deployment-lease, by the same convention as the real environments."
  }
  assert {
    condition = output.posture.lease_table == {
      billing_mode           = "PAY_PER_REQUEST"
      hash_key               = "environment"
      ttl_attribute          = "ttl"
      point_in_time_recovery = true
      encrypted              = true
      deletion_protection    = false
    }
    error_message = "The sandbox's lease table is the real one (on-demand, TTL on ttl, PITR, encrypted), only without deletion protection."
  }
}

run "the_guards_failures_are_kept_and_told" {
  command = plan
  assert {
    condition     = toset(output.guard_failures.alarm_names) == toset(["switchyard-sandbox-guard-dead-letters", "switchyard-sandbox-guard-errors"])
    error_message = "The sandbox's guard has the same failure alarms as the real environments (dead letters, errors)."
  }
}
