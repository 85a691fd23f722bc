# Placeholders: replace with your account's state bucket before the first provision.
# The bucket must exist, be versioned and encrypted; use_lockfile gives S3-native state locking.
bucket       = "REPLACE-with-your-terraform-state-bucket"
key          = "switchyard/staging/terraform.tfstate"
region       = "eu-west-1"
encrypt      = true
use_lockfile = true
