output "release_role_arn" {
  description = "Role of promote, rollback and finalize (the AWS_RELEASE_ROLE_ARN variable of the GitHub environment)."
  value       = aws_iam_role.release.arn
}

output "infrastructure_role_arn" {
  description = "Role of Terraform applies, under its permissions boundary (the AWS_INFRASTRUCTURE_ROLE_ARN variable of the GitHub environment)."
  value       = aws_iam_role.infrastructure.arn
}

output "release_policy_json" {
  description = "The release role's permissions, for review and for the tests."
  value       = data.aws_iam_policy_document.release.json
}

output "infrastructure_policy_json" {
  description = "The infrastructure role's permissions, also its permissions boundary, for review and for the tests."
  value       = data.aws_iam_policy_document.infrastructure.json
}

output "status_role_arn" {
  description = "The read-only status role, when status_reader_environments is set (the AWS_STAGING_STATUS_ROLE_ARN variable of the production environment), else null."
  value       = one(aws_iam_role.status[*].arn)
}

output "workload_boundary_arn" {
  description = "The permissions boundary every role of the stack must carry (modules/stack's permissions_boundary)."
  value       = aws_iam_policy.workload_boundary.arn
}

output "break_glass_role_arn" {
  description = "The role people assume, with MFA, to modify or delete the database, its snapshots and backups, the key or the records."
  value       = aws_iam_role.break_glass.arn
}

output "finalize_role_arn" {
  description = "Role of the scheduled finalize.yml (the AWS_FINALIZE_ROLE_ARN variable of the <environment>-finalize GitHub environment): scales the old colour down, nothing else."
  value       = aws_iam_role.finalize.arn
}

output "finalize_policy_json" {
  description = "The finalize role's permissions, for review and for the tests."
  value       = data.aws_iam_policy_document.finalize.json
}

output "build_role_arn" {
  description = "The build role (build.tf), the only one that pushes images and writes their build records; null where the environment does not own the repository."
  value       = try(aws_iam_role.provenance["build"].arn, null)
}

output "attest_role_arn" {
  description = "The attest role (build.tf), the only one that attests that a commit on the default branch built an image; null without image_push or status_reader_environments."
  value       = try(aws_iam_role.provenance["attest"].arn, null)
}

output "attest_policy_json" {
  description = "The attest role's policy document (the tests sign with it)."
  value       = data.aws_iam_policy_document.attest.json
}

output "build_policy_json" {
  description = "The build role's policy document (the tests sign with it)."
  value       = data.aws_iam_policy_document.build.json
}

output "image_records_prefix" {
  description = "The SSM path of the images' build records (/switchyard/images/<repository>/<digest hex>)."
  value       = local.image_records_prefix
}

output "attestations_prefix" {
  description = "The SSM path of the attestations that a commit on the default branch built an image (/switchyard/attestations/<repository>/<branch>/<digest hex>)."
  value       = local.attestations_prefix
}
