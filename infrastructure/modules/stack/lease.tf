# The deployment lease: one item per environment (hash key `environment`), written by the
# deployment_lease module with conditional writes, so that one promote runs at a time, a rollback
# can take the lease over and every mutating step of a promote can check it still holds it (the
# fencing token). DynamoDB removes an abandoned lease through the item's `ttl` attribute (epoch
# seconds), but only eventually (often days later): expiry is decided by comparing `ttl` with the
# clock, never by whether the item is still there.
#
# Its name follows a convention, "<name>-deployment-lease", that modules/deploy_access repeats to
# grant item access on exactly this table; the contract carries it as `lease_table`.
locals {
  lease_table_name = "${local.name}-deployment-lease"
}

resource "aws_dynamodb_table" "lease" {
  name                        = local.lease_table_name
  billing_mode                = "PAY_PER_REQUEST" # a handful of writes per deployment
  hash_key                    = "environment"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "environment"
    type = "S"
  }

  ttl {
    enabled        = true
    attribute_name = "ttl"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.this.arn
  }

  tags = local.tags
}
