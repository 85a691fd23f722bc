# The boundaries hold by construction: every role the infrastructure role makes carries the
# workload boundary, the roles that hold production's keys are out of its reach, and no deploy role
# or workload can destroy data (tests/integration/test_least_privilege.py proves them on the
# IAM-enforcing emulator).
mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111111111111" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_iam_openid_connect_provider" {
    defaults = { arn = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com" }
  }
}

variables {
  name                 = "switchyard-production"
  github_repository    = "acme/switchyard"
  github_environment   = "production"
  state_bucket         = "acme-terraform-state"
  state_key            = "switchyard/production.tfstate"
  ecr_repository_arn   = "arn:aws:ecr:eu-west-1:111111111111:repository/switchyard/app"
  github_repository_id = "123456789"
  workflow_branch      = "main"
}

run "a_role_is_created_or_given_permissions_only_with_the_workload_boundary" {
  command = plan
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.infrastructure.statement :
      s.effect == "Deny"
      && toset(["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"]) == setintersection(s.actions, ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"])
      && s.resources == toset(["arn:aws:iam::111111111111:role/*"])
      && anytrue([for c in s.condition : c.test == "StringNotEquals" && c.variable == "iam:PermissionsBoundary" && c.values == tolist(["arn:aws:iam::111111111111:policy/switchyard-production-workload-boundary"])])
    ])
    error_message = "CreateRole, PutRolePolicy, AttachRolePolicy and PutRolePermissionsBoundary must be denied on every role unless its boundary is the workload boundary."
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.infrastructure.statement :
      s.effect == "Deny" && contains(s.actions, "iam:AttachRolePolicy")
      && anytrue([for c in s.condition : c.test == "ArnNotEquals" && c.variable == "iam:PolicyARN" && !contains(c.values, "arn:aws:iam::aws:policy/AdministratorAccess")])
    ])
    error_message = "Attaching any managed policy but the stack's two service policies must be denied."
  }
  assert {
    condition     = aws_iam_policy.workload_boundary.name == "switchyard-production-workload-boundary"
    error_message = "The workload boundary is named <name>-workload-boundary (the deny's condition names it)."
  }
  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.workload_boundary.statement :
      s.effect == "Deny" || !anytrue([for a in s.actions : startswith(a, "iam:") || startswith(a, "sts:")])
      || (s.actions == toset(["iam:PassRole"]) && s.resources == toset(["arn:aws:iam::111111111111:role/switchyard-production-migration", "arn:aws:iam::111111111111:role/switchyard-production-task-execution"])
      && anytrue([for c in s.condition : c.variable == "iam:PassedToService" && c.values == tolist(["ecs-tasks.amazonaws.com"])]))
    ])
    error_message = "The workload boundary allows no IAM or STS action but passing the migration's roles to ECS: a bounded role cannot escalate."
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.workload_boundary.statement :
      s.effect == "Deny" && contains(s.actions, "iam:PassRole") && contains(s.actions, "ecs:RunTask") && contains(s.resources, "*")
      && anytrue([for c in s.condition : c.test == "ArnNotEquals" && c.variable == "aws:PrincipalArn" && c.values == tolist(["arn:aws:iam::111111111111:role/switchyard-production-migration-runner"])])
    ])
    error_message = "Under the workload boundary only the migration runner may pass a role or run a task."
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.workload_boundary.statement :
      s.effect == "Deny" && contains(s.actions, "secretsmanager:GetSecretValue")
      && contains(s.resources, "arn:aws:secretsmanager:eu-west-1:111111111111:secret:rds!*")
      && anytrue([for c in s.condition : c.test == "ArnNotEquals" && c.variable == "aws:PrincipalArn" && c.values == tolist(["arn:aws:iam::111111111111:role/switchyard-production-migration"])])
    ])
    error_message = "Under the workload boundary only the migration role may read the database's master secret (a role the infrastructure role makes, or a task definition naming the secret, may not)."
  }
}

run "the_roles_that_hold_productions_keys_are_out_of_reach" {
  command = plan
  assert {
    condition = alltrue([for role in ["infrastructure", "release", "finalize", "status", "guard", "migration", "migration-runner", "break-glass"] :
      anytrue([for s in data.aws_iam_policy_document.infrastructure.statement :
        s.effect == "Deny" && contains(s.resources, "arn:aws:iam::111111111111:role/switchyard-production-${role}")
        && alltrue([for a in ["iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole"] : contains(s.actions, a)])
      ])
    ])
    error_message = "The infrastructure role must never change the deploy, guard, migration or break-glass roles."
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.infrastructure.statement :
      s.effect == "Deny" && contains(s.actions, "iam:CreatePolicyVersion")
      && contains(s.resources, "arn:aws:iam::111111111111:policy/switchyard-production-workload-boundary")
      && contains(s.resources, "arn:aws:iam::111111111111:policy/switchyard-production-infrastructure-boundary")
    ])
    error_message = "Neither boundary may be changed by the infrastructure role."
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.infrastructure.statement :
      s.effect == "Deny" && contains(s.actions, "iam:PassRole") && contains(s.resources, "arn:aws:iam::111111111111:role/switchyard-production-migration")
    ])
    error_message = "The infrastructure role must never pass the migration role."
  }
  assert {
    condition = !anytrue([for s in data.aws_iam_policy_document.release.statement :
      s.effect != "Deny" && (contains(s.actions, "ecs:RunTask") || contains(s.actions, "ecs:StartTask")
      || (contains(s.actions, "iam:PassRole") && anytrue([for r in s.resources : endswith(r, "-migration") || endswith(r, "*")])))
    ])
    error_message = "The release role may neither run a task nor pass the migration role: migrations start only through the runner."
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.release.statement :
      s.effect != "Deny" && s.actions == toset(["lambda:InvokeFunction"]) && s.resources == toset(["arn:aws:lambda:eu-west-1:111111111111:function:switchyard-production-migration-runner"])
    ])
    error_message = "The release role invokes its stack's migration runner, and no other function."
  }
}

run "no_deploy_role_or_workload_destroys_data_and_break_glass_needs_mfa" {
  command = plan
  assert {
    condition = alltrue([for document in [data.aws_iam_policy_document.infrastructure, data.aws_iam_policy_document.release, data.aws_iam_policy_document.finalize, data.aws_iam_policy_document.workload_boundary] :
      anytrue([for s in document.statement :
        s.effect == "Deny"
        && alltrue([for a in ["rds:DeleteDBInstance", "rds:ModifyDBInstance", "rds:DeleteDBSnapshot", "rds:DeleteDBInstanceAutomatedBackup", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "logs:DeleteLogGroup", "logs:PutRetentionPolicy"] : contains(s.actions, a)])
        && alltrue([for r in ["arn:aws:rds:eu-west-1:111111111111:db:switchyard-production", "arn:aws:rds:eu-west-1:111111111111:snapshot:*", "arn:aws:kms:eu-west-1:111111111111:key/*", "arn:aws:logs:eu-west-1:111111111111:log-group:/switchyard/switchyard-production/deployments"] : contains(s.resources, r)])
      ])
    ])
    error_message = "The infrastructure role, the release role and the workload boundary must deny destroying the database, its snapshots and backups, the key and the records."
  }
  assert {
    condition     = one([for c in data.aws_iam_policy_document.break_glass_assume.statement[0].condition : c.values if c.variable == "aws:MultiFactorAuthPresent"]) == tolist(["true"])
    error_message = "The break-glass role is assumed with MFA only."
  }
  assert {
    condition     = flatten([for p in data.aws_iam_policy_document.break_glass_assume.statement[0].principals : p.identifiers]) == ["arn:aws:iam::111111111111:root"]
    error_message = "By default the account (its administrators' own policies) may assume the break-glass role."
  }
}
