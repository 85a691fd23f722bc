output "deployment" {
  description = "Everything a blue/green deployment needs to find its way: listeners, target groups, services, metrics dimensions."
  value = {
    environment               = var.environment
    name                      = local.name
    region                    = data.aws_region.current.name
    load_balancer_arn         = module.load_balancer.load_balancer_arn
    load_balancer_arn_suffix  = module.load_balancer.load_balancer_arn_suffix
    load_balancer_dns_name    = module.load_balancer.dns_name
    production_listener_arn   = module.load_balancer.production_listener_arn
    production_listener_port  = module.load_balancer.production_listener_port
    test_listener_arn         = module.load_balancer.test_listener_arn
    test_listener_port        = module.load_balancer.test_listener_port
    target_group_arns         = module.load_balancer.target_group_arns
    target_group_arn_suffixes = module.load_balancer.target_group_arn_suffixes
    cluster_name              = module.ecs.cluster_name
    service_names             = module.ecs.service_names
    task_family               = module.ecs.task_family
    log_group_name            = module.ecs.log_group_name
    deployment_log_group      = aws_cloudwatch_log_group.deployments.name
    alarm_names               = module.alarms.alarm_names
  }
}

output "database" {
  description = "Where the database is and which secret holds its credentials (the ARN only, never the secret)."
  value = {
    endpoint          = module.database.endpoint
    address           = module.database.address
    port              = module.database.port
    name              = module.database.database_name
    master_secret_arn = module.database.master_secret_arn
  }
}

output "posture" {
  description = "The protections this environment runs with, as planned: for reviews, status and the invariant tests."
  value = {
    database_publicly_accessible = module.database.publicly_accessible
    database_storage_encrypted   = module.database.storage_encrypted
    database_password_managed    = module.database.password_managed
    database_multi_az            = module.database.multi_az
    database_backup_days         = module.database.backup_retention_days
    deletion_protection          = var.deletion_protection
    https                        = local.https
    colours                      = keys(module.load_balancer.target_group_arns)
    target_types                 = module.load_balancer.target_types
    idle_colour_initial_count    = module.ecs.initial_desired_counts["green"]
  }
}
