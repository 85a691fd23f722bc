resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.private_subnet_ids
  tags       = var.tags
}

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_353:Performance Insights is on by default and off only in the sandbox, whose emulator does not model it
  #checkov:skip=CKV_AWS_293:deletion protection is on in staging and production (asserted by their terraform tests); the sandbox must stay disposable
  #checkov:skip=CKV_AWS_157:production runs Multi-AZ (asserted by its terraform test); staging and the sandbox are single-AZ to save cost
  #checkov:skip=CKV2_AWS_30:log_statement=all would copy query text, personal data included, into CloudWatch; the postgresql log export carries errors and slow queries
  identifier     = var.name
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class
  db_name        = var.database_name
  username       = var.master_username

  # RDS generates the password and keeps it in Secrets Manager; it never enters state.
  manage_master_user_password   = true
  master_user_secret_kms_key_id = var.kms_key_arn

  allocated_storage      = var.allocated_storage
  storage_type           = "gp3"
  storage_encrypted      = true
  kms_key_id             = var.kms_key_arn
  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [var.security_group_id]
  publicly_accessible    = false
  multi_az               = var.multi_az

  backup_retention_period   = var.backup_retention_days
  copy_tags_to_snapshot     = true
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.name}-final"

  auto_minor_version_upgrade          = true
  iam_database_authentication_enabled = true
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]
  performance_insights_enabled        = var.performance_insights_enabled
  performance_insights_kms_key_id     = var.performance_insights_enabled ? var.kms_key_arn : null
  monitoring_interval                 = 60
  monitoring_role_arn                 = var.monitoring_role_arn

  tags = var.tags

  lifecycle {
    # The one piece of state: no plan may delete or replace it (a final snapshot is taken anyway).
    prevent_destroy = true
  }
}

# The service's own role, which the release's migrations create with rows-only grants
# (app/switchyard_app/migrate.py). Terraform writes the secret without a password, so none ever
# enters state; the first migration draws one, sets it on the role and stores it here (its task
# role alone may), before any release that connects starts.
resource "aws_secretsmanager_secret" "runtime" {
  #checkov:skip=CKV2_AWS_57:rotation would change the password under running tasks (ECS injects it at start); the migrations own it
  name_prefix = "${var.name}-database-runtime-"
  description = "Credentials of the service's database role ${var.runtime_username} (rows only, no DDL)."
  kms_key_id  = var.kms_key_arn
  tags        = var.tags
}

resource "aws_secretsmanager_secret_version" "runtime" {
  secret_id     = aws_secretsmanager_secret.runtime.id
  secret_string = jsonencode({ username = var.runtime_username, password = "" })
  # TERRAFORM keeps this version labelled once the migration's is current: an unlabelled version
  # is deleted by Secrets Manager, and Terraform would then write it again, current, without a password.
  version_stages = ["AWSCURRENT", "TERRAFORM"]
  lifecycle {
    ignore_changes = [secret_string, version_stages] # the migration's version, with the password, is current
  }
}
