variable "name" {
  description = "Prefix for every resource name."
  type        = string
}

variable "vpc_id" {
  description = "VPC that holds the security groups."
  type        = string
}

variable "listener_ports" {
  description = "Ports the internet may reach on the load balancer (production listener and, when HTTPS, its HTTP redirect)."
  type        = list(number)
  validation {
    condition     = length(var.listener_ports) > 0 && alltrue([for p in var.listener_ports : p > 0 && p < 65536])
    error_message = "listener_ports must hold at least one port between 1 and 65535."
  }
}

variable "test_listener_port" {
  description = "Port of the test listener, which always forwards to the idle colour."
  type        = number
}

variable "test_listener_cidrs" {
  description = "Who may reach the test listener (the deployment runners); never the whole internet in a real account."
  type        = list(string)
  validation {
    condition     = alltrue([for c in var.test_listener_cidrs : can(cidrhost(c, 0))])
    error_message = "test_listener_cidrs must be IPv4 CIDRs."
  }
}

variable "container_port" {
  description = "Port the service's container listens on."
  type        = number
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
