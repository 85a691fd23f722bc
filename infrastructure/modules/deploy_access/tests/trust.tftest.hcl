# Who may assume the deploy role: jobs of this repository in this GitHub environment, and, with a
# branch named (production: main), only the repository's own workflow files on that branch.
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
  name               = "switchyard-production"
  github_repository  = "acme/switchyard"
  github_environment = "production"
  state_bucket       = "acme-terraform-state"
  state_key          = "switchyard/production.tfstate"
  ecr_repository_arn = "arn:aws:ecr:eu-west-1:111111111111:repository/switchyard/app"
}

run "production_binds_the_workflow_files_on_main" {
  command = plan
  variables {
    workflow_branch = "main"
  }
  assert {
    condition = toset(one([for c in data.aws_iam_policy_document.assume.statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:job_workflow_ref"])) == toset([
      "acme/switchyard/.github/workflows/deploy.yml@refs/heads/main",
      "acme/switchyard/.github/workflows/rollback.yml@refs/heads/main",
      "acme/switchyard/.github/workflows/finalize.yml@refs/heads/main",
    ])
    error_message = "With workflow_branch main, only deploy.yml, rollback.yml and finalize.yml of this repository on main may assume the role."
  }
  assert {
    condition     = toset(one([for c in data.aws_iam_policy_document.assume.statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:sub"])) == toset(["repo:acme/switchyard:environment:production"])
    error_message = "The subject must stay bound to the repository and the environment."
  }
}

run "without_a_branch_the_environment_alone_decides" {
  command = plan
  assert {
    condition     = length([for c in data.aws_iam_policy_document.assume.statement[0].condition : c if c.variable == "token.actions.githubusercontent.com:job_workflow_ref"]) == 0
    error_message = "Without workflow_branch there is no job_workflow_ref condition."
  }
}

run "staging_lets_productions_deploy_job_read_its_status_and_nothing_more" {
  command = plan
  variables {
    name                       = "switchyard-staging"
    github_environment         = "staging"
    status_reader_environments = ["production"]
  }
  assert {
    condition     = length(aws_iam_role.status) == 1 && aws_iam_role.status[0].name == "switchyard-staging-status"
    error_message = "With status readers, the stack has a read-only <name>-status role."
  }
  assert {
    condition = (
      toset(one([for c in data.aws_iam_policy_document.status_assume[0].statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:sub"])) == toset(["repo:acme/switchyard:environment:production"])
      && toset(one([for c in data.aws_iam_policy_document.status_assume[0].statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:job_workflow_ref"])) == toset(["acme/switchyard/.github/workflows/deploy.yml@refs/heads/main"])
    )
    error_message = "Only production's deploy.yml on main may assume staging's status role."
  }
  assert {
    condition = alltrue(flatten([for s in data.aws_iam_policy_document.status.statement : [
      for a in s.actions : can(regex("^(ssm:GetParameter|dynamodb:GetItem|logs:GetLogEvents|ecs:Describe|elasticloadbalancing:Describe)", a))
    ]]))
    error_message = "The status role may only read."
  }
}

run "without_status_readers_there_is_no_status_role" {
  command = plan
  assert {
    condition     = length(aws_iam_role.status) == 0
    error_message = "No status readers, no status role."
  }
}

run "releases_and_terraform_applies_use_two_roles" {
  command = plan
  assert {
    condition     = aws_iam_role.release.name == "switchyard-production-release" && aws_iam_role.infrastructure.name == "switchyard-production-infrastructure"
    error_message = "The release role and the infrastructure role are <name>-release and <name>-infrastructure."
  }
  assert {
    condition     = aws_iam_policy.infrastructure_boundary.name == "switchyard-production-infrastructure-boundary"
    error_message = "The infrastructure role's permissions boundary is <name>-infrastructure-boundary."
  }
  assert {
    condition     = length([for s in data.aws_iam_policy_document.release.statement : s if length([for a in s.actions : a if startswith(a, "iam:") && a != "iam:PassRole" && !can(regex("^iam:(Get|List)", a))]) > 0 && try(s.effect, "Allow") != "Deny"]) == 0
    error_message = "The release role writes nothing in IAM (it only passes the task roles)."
  }
  assert {
    condition     = length([for s in data.aws_iam_policy_document.release.statement : s if contains(s.actions, "ecr:PutImage")]) == 0
    error_message = "Without image_push the release role cannot push images."
  }
}
