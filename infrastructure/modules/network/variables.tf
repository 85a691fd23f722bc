variable "name" {
  description = "Prefix for every resource name, e.g. \"switchyard-staging\"."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,27}$", var.name))
    error_message = "name must be 3-28 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "cidr_block" {
  description = "IPv4 range of the VPC; split into two public and two private subnets."
  type        = string
  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && tonumber(split("/", var.cidr_block)[1]) <= 20
    error_message = "cidr_block must be an IPv4 CIDR of /20 or larger, e.g. 10.20.0.0/16."
  }
}

variable "availability_zones" {
  description = "Exactly two availability zones of the region."
  type        = list(string)
  validation {
    condition     = length(var.availability_zones) == 2 && length(distinct(var.availability_zones)) == 2
    error_message = "availability_zones must name two distinct zones."
  }
}

variable "nat_gateway" {
  description = "NAT for the private subnets: \"none\" (tasks reach AWS through no NAT; the sandbox), \"single\" (one shared NAT, cheaper) or \"per_az\" (one per zone, survives a zone outage)."
  type        = string
  default     = "single"
  validation {
    condition     = contains(["none", "single", "per_az"], var.nat_gateway)
    error_message = "nat_gateway must be one of none, single, per_az."
  }
}

variable "flow_log_retention_days" {
  description = "Days to keep VPC flow logs."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the flow log group."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "permissions_boundary" {
  description = "ARN of the permissions boundary every role of the network carries (deploy_access's workload boundary); null: none (the sandbox)."
  type        = string
  default     = null
}
