terraform {
  required_version = ">= 1.7"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
  # S3 state with S3-native locking; bucket, key and region come from backend.hcl
  # (terraform init -backend-config=backend.hcl), which provision.yml passes.
  backend "s3" {}
}
