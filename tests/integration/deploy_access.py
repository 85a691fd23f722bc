"""modules/deploy_access applied by Terraform on an emulator, for the policies it renders: each role's
policy exactly as Terraform gives it to IAM, for a user of the tests to carry."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import REPO

ACCOUNT = "123456789012"
ROOT = """
terraform {{
  required_providers {{
    aws = {{ source = "hashicorp/aws", version = "~> 5.100" }}
  }}
}}
provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "{access_key}"
  secret_key                  = "{secret_key}"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  endpoints {{
    iam = "{endpoint}"
    sts = "{endpoint}"
  }}
}}
module "staging" {{
  source               = "{module}"
  name                 = "switchyard-staging"
  github_repository    = "acme/switchyard"
  github_environment   = "staging"
  github_repository_id = "123456789"
  workflow_branch      = "develop"
  state_bucket         = "acme-terraform-state"
  state_key            = "switchyard/staging.tfstate"
  ecr_repository_arn   = "arn:aws:ecr:us-east-1:{account}:repository/switchyard/app"
  image_push           = true
}}
module "production" {{
  source               = "{module}"
  name                 = "switchyard-production"
  github_repository    = "acme/switchyard"
  github_environment   = "production"
  github_repository_id = "123456789"
  workflow_branch      = "main"
  create_oidc_provider = false
  state_bucket         = "acme-terraform-state"
  state_key            = "switchyard/production.tfstate"
  ecr_repository_arn   = "arn:aws:ecr:us-east-1:{account}:repository/switchyard/app"
  depends_on           = [module.staging]
}}
output "policies" {{
  value = {{
    staging = {{
      release        = module.staging.release_policy_json
      infrastructure = module.staging.infrastructure_policy_json
      finalize       = module.staging.finalize_policy_json
      build          = module.staging.build_policy_json
      attest         = module.staging.attest_policy_json
    }}
    production = {{
      release        = module.production.release_policy_json
      infrastructure = module.production.infrastructure_policy_json
      finalize       = module.production.finalize_policy_json
    }}
  }}
}}
"""


def rendered_policies(endpoint: str, key: dict, directory: Path) -> dict:
    """{environment: {role: policy JSON}} of staging and production, applied with the key's
    credentials (an AccessKey of boto3's) on the emulator at endpoint, in directory."""
    directory.mkdir(parents=True)
    (directory / "main.tf").write_text(
        ROOT.format(
            access_key=key["AccessKeyId"],
            secret_key=key["SecretAccessKey"],
            endpoint=endpoint,
            module=REPO / "infrastructure" / "modules" / "deploy_access",
            account=ACCOUNT,
        )
    )
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(REPO / ".cache" / "terraform.tfrc"), "TF_IN_AUTOMATION": "1"}
    for command in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        done = subprocess.run(
            ["terraform", *command], cwd=directory, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"terraform {command[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    output = subprocess.run(
        ["terraform", "output", "-json", "policies"], cwd=directory, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(output.stdout)
