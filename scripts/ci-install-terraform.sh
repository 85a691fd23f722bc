#!/usr/bin/env bash
# CI runners: Terraform from HashiCorp's signed apt repository (no third-party action).
set -euo pipefail
version=${TERRAFORM_VERSION:-1.11.4}
command -v terraform >/dev/null && terraform version | grep -q "v${version}" && exit 0
wget -qO- https://apt.releases.hashicorp.com/gpg | sudo gpg --dearmor --yes -o /usr/share/keyrings/hashicorp.gpg
echo "deb [signed-by=/usr/share/keyrings/hashicorp.gpg] https://apt.releases.hashicorp.com $(lsb_release -cs) main" \
  | sudo tee /etc/apt/sources.list.d/hashicorp.list >/dev/null
sudo apt-get update -qq
sudo apt-get install -y -qq "terraform=${version}-1"
