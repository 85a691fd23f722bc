output "endpoint" {
  description = "host:port of the database."
  value       = aws_db_instance.this.endpoint
}

output "address" {
  description = "Host name of the database."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the database."
  value       = aws_db_instance.this.port
}

output "database_name" {
  description = "Database created at launch."
  value       = aws_db_instance.this.db_name
}

output "master_secret_arn" {
  description = "Secrets Manager secret that holds the master credentials (an ARN, not the secret)."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "publicly_accessible" {
  description = "Whether the database has a public address (never, by design)."
  value       = aws_db_instance.this.publicly_accessible
}

output "storage_encrypted" {
  description = "Whether storage is encrypted at rest."
  value       = aws_db_instance.this.storage_encrypted
}

output "password_managed" {
  description = "Whether RDS generates and keeps the master password in Secrets Manager."
  value       = aws_db_instance.this.manage_master_user_password
}

output "multi_az" {
  description = "Whether a standby runs in a second zone."
  value       = aws_db_instance.this.multi_az
}

output "backup_retention_days" {
  description = "Days of automated backups."
  value       = aws_db_instance.this.backup_retention_period
}

output "final_snapshot" {
  description = "Whether destroying the instance takes a final snapshot first (always)."
  value       = !aws_db_instance.this.skip_final_snapshot
}

output "engine_version" {
  description = "The engine version asked for: a major version, which AWS's minor upgrades keep matching."
  value       = aws_db_instance.this.engine_version
}

output "runtime_secret_arn" {
  description = "Secrets Manager secret with the service's own credentials, rows only (an ARN, not the secret)."
  value       = aws_secretsmanager_secret.runtime.arn
}
