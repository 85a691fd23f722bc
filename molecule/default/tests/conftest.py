"""The sandbox scenario's verifier: the collection's info modules, run ad hoc through testinfra's Ansible.

Nothing here repeats the inventory: Ansible renders its variables (the emulator's endpoint comes
from AWS_ENDPOINT_URL there), and the stack's ARNs come from Terraform's `deployment` output.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

COLLECTION = "switchyard.bluegreen"


@pytest.fixture(scope="module")
def inventory(host) -> dict:
    """The sandbox inventory's connection and Terraform settings, as Ansible renders them."""
    wanted = {
        "connection": "{{ switchyard_aws_connection }}",
        "terraform_dir": "{{ switchyard_terraform_dir }}",
        "workspace": "{{ switchyard_terraform_workspace }}",
    }
    return host.ansible("ansible.builtin.debug", json.dumps({"msg": wanted}), check=False)["msg"]


@pytest.fixture(scope="module")
def deployment(host, inventory) -> dict:
    """Terraform's `deployment` output: listeners, target groups, cluster, services, log group."""
    root, workspace = inventory["terraform_dir"], inventory["workspace"]
    output = host.run("TF_WORKSPACE=%s terraform -chdir=%s output -json deployment", workspace, root)
    assert output.rc == 0, (
        f"no `deployment` output in {root} (workspace {workspace}): "
        f"provision the sandbox first (playbooks/provision.yml).\n{output.stderr}"
    )
    return json.loads(output.stdout)


@pytest.fixture(scope="module")
def info(host, inventory) -> Callable[..., dict]:
    """Run one of the collection's modules against the sandbox, as module_defaults would configure it."""

    def run(module: str, **args) -> dict:
        return host.ansible(f"{COLLECTION}.{module}", json.dumps({**inventory["connection"], **args}), check=False)

    return run


@pytest.fixture(scope="module")
def state(info, deployment) -> dict:
    """What alb_bluegreen_info reads from the listeners and the services."""
    return info(
        "alb_bluegreen_info",
        production_listener_arn=deployment["production_listener_arn"],
        test_listener_arn=deployment["test_listener_arn"],
        cluster=deployment["cluster_name"],
        services=deployment["service_names"],
        target_group_arns=deployment["target_group_arns"],
    )


@pytest.fixture(scope="module")
def latest_record(info, deployment) -> dict:
    """The newest deployment record, as deployment_record_info reads it back."""
    records = info("deployment_record_info", log_group=deployment["deployment_log_group"], limit=1)["records"]
    assert records, f"no deployment record in {deployment['deployment_log_group']} after the converge"
    return records[0]
