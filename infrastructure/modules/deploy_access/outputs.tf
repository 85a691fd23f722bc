output "role_arn" {
  description = "Role the deploy workflows assume (the AWS_DEPLOY_ROLE_ARN variable of the GitHub environment)."
  value       = aws_iam_role.deploy.arn
}

output "policy_json" {
  description = "The role's permissions, for review and for the invariant tests."
  value       = data.aws_iam_policy_document.deploy.json
}

output "status_role_arn" {
  description = "The read-only status role, when status_reader_environments is set (the AWS_STAGING_STATUS_ROLE_ARN variable of the production environment), else null."
  value       = one(aws_iam_role.status[*].arn)
}
