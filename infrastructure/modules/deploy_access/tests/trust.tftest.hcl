# Who may assume the deploy roles: jobs of this repository (by its id) in this GitHub environment,
# running deploy.yml as it is on the environment's branch or rollback.yml as it is on the default
# branch; the finalize role: finalize.yml on the default branch, in <environment>-finalize.
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

run "production_binds_the_repository_the_environment_and_the_workflow_files_on_main" {
  command = plan
  assert {
    condition = toset(one([for c in data.aws_iam_policy_document.assume["deploy"].statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:job_workflow_ref"])) == toset([
      "acme/switchyard/.github/workflows/deploy.yml@refs/heads/main",
      "acme/switchyard/.github/workflows/rollback.yml@refs/heads/main",
    ])
    error_message = "Only deploy.yml and rollback.yml of this repository on main may assume production's deploy roles."
  }
  assert {
    condition     = one([for c in data.aws_iam_policy_document.assume["infrastructure"].statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:job_workflow_ref"]) == tolist(["acme/switchyard/.github/workflows/deploy.yml@refs/heads/main"])
    error_message = "Only deploy.yml (which provisions) may assume the infrastructure role; rollback.yml may not."
  }
  assert {
    condition = alltrue([for trust in ["deploy", "infrastructure", "finalize"] :
      one([for c in data.aws_iam_policy_document.assume[trust].statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:repository_id"]) == tolist(["123456789"])
    ])
    error_message = "Every trust checks the repository's immutable id."
  }
  assert {
    condition = (
      toset(one([for c in data.aws_iam_policy_document.assume["deploy"].statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:sub"])) == toset(["repo:acme/switchyard:environment:production"])
      && one([for c in data.aws_iam_policy_document.assume["deploy"].statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:environment"]) == tolist(["production"])
    )
    error_message = "The subject and the environment claim must stay bound to the repository and the environment."
  }
}

run "staging_deploys_from_develop_and_rolls_back_from_main" {
  command = plan
  variables {
    name               = "switchyard-staging"
    github_environment = "staging"
    workflow_branch    = "develop"
  }
  assert {
    condition = toset(one([for c in data.aws_iam_policy_document.assume["deploy"].statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:job_workflow_ref"])) == toset([
      "acme/switchyard/.github/workflows/deploy.yml@refs/heads/develop",
      "acme/switchyard/.github/workflows/rollback.yml@refs/heads/main",
    ])
    error_message = "Staging's deploy roles trust deploy.yml on develop and rollback.yml on main, and nothing else."
  }
}

run "finalize_has_its_own_environment_and_role" {
  command = plan
  assert {
    condition = (
      aws_iam_role.finalize.name == "switchyard-production-finalize"
      && one([for c in data.aws_iam_policy_document.assume["finalize"].statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:environment"]) == tolist(["production-finalize"])
      && one([for c in data.aws_iam_policy_document.assume["finalize"].statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:job_workflow_ref"]) == tolist(["acme/switchyard/.github/workflows/finalize.yml@refs/heads/main"])
    )
    error_message = "finalize.yml on main, in production-finalize, assumes <name>-finalize only."
  }
  assert {
    condition     = !anytrue([for s in data.aws_iam_policy_document.finalize.statement : s.effect != "Deny" && anytrue([for a in s.actions : contains(["elasticloadbalancing:ModifyListener", "ecs:RegisterTaskDefinition", "ecs:RunTask", "iam:PassRole", "ecr:PutImage"], a)])])
    error_message = "The finalize role moves no traffic and runs no code."
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
      && one([for c in data.aws_iam_policy_document.status_assume[0].statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:repository_id"]) == tolist(["123456789"])
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

run "only_the_build_job_pushes_and_only_productions_job_on_main_attests" {
  command = plan
  variables {
    name                       = "switchyard-staging"
    github_environment         = "staging"
    workflow_branch            = "develop"
    image_push                 = true
    status_reader_environments = ["production"]
  }
  assert {
    condition = {
      for role, document in data.aws_iam_policy_document.provenance_assume : role => {
        sub      = one([for c in document.statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:sub"])
        workflow = one([for c in document.statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:job_workflow_ref"])
        id       = one([for c in document.statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:repository_id"])
      }
      } == {
      build = {
        sub      = tolist(["repo:acme/switchyard:environment:build"])
        workflow = tolist(["acme/switchyard/.github/workflows/deploy.yml@refs/heads/develop"])
        id       = tolist(["123456789"])
      }
      attest = {
        sub      = tolist(["repo:acme/switchyard:environment:production"])
        workflow = tolist(["acme/switchyard/.github/workflows/deploy.yml@refs/heads/main"])
        id       = tolist(["123456789"])
      }
    }
    error_message = "The build role is deploy.yml's build job's (environment build, on develop), the attest role production's job's on main, nobody else's."
  }
  assert {
    condition = (
      !anytrue([for s in data.aws_iam_policy_document.build.statement : contains(s.resources, "arn:aws:ssm:eu-west-1:111111111111:parameter/switchyard/attestations/switchyard/app/main/*")])
      && !anytrue([for s in data.aws_iam_policy_document.attest.statement : anytrue([for a in s.actions : startswith(a, "ecr:")]) || (contains(s.actions, "ssm:PutParameter") && contains(s.resources, "arn:aws:ssm:eu-west-1:111111111111:parameter/switchyard/images/switchyard/app/*"))])
    )
    error_message = "The build role cannot attest, and the attest role can neither push nor rewrite a build record: a job on develop cannot forge main's attestation."
  }
  assert {
    condition     = length([for s in data.aws_iam_policy_document.release.statement : s if contains(s.actions, "ecr:PutImage") && try(s.effect, "Allow") != "Deny"]) == 0
    error_message = "The release role of the environment that owns the repository cannot push images: only the build role can."
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.infrastructure.statement :
      s.effect == "Deny" && contains(s.actions, "ecr:PutImage") && contains(s.actions, "ecr:SetRepositoryPolicy") && contains(s.actions, "ssm:PutParameter")
      && contains(s.actions, "ecr:DeleteRepository")
      && contains(s.resources, "arn:aws:ssm:eu-west-1:111111111111:parameter/switchyard/images/switchyard/app/*")
      && contains(s.resources, "arn:aws:ssm:eu-west-1:111111111111:parameter/switchyard/attestations/switchyard/app/main/*")
    ])
    error_message = "The infrastructure role may neither push images, write their records or attestations, nor change or delete the repository."
  }
  assert {
    condition = alltrue([for document in [data.aws_iam_policy_document.release, data.aws_iam_policy_document.infrastructure, data.aws_iam_policy_document.finalize] :
      anytrue([for s in document.statement : s.effect == "Deny" && contains(s.actions, "ecs:UpdateService")
        && anytrue([for c in s.condition : c.variable == "ecs:task-definition" && contains(c.values, "arn:aws:ecs:eu-west-1:111111111111:task-definition/switchyard-staging-migration:*")])
      ])
    ])
    error_message = "No deploy role may point a service at a migration revision (it carries the migration role)."
  }
}
