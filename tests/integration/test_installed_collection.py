"""The collection as a team gets it: built, installed from its tarball into an empty folder, and run
by its playbooks' collection names, with an inventory of its own, against an emulator of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO, emulator

BIN = Path(sys.executable).parent
MIRROR = REPO / ".cache" / "terraform.tfrc"  # this machine's provider mirror, written by make setup

# What a team writes for the sandbox: nothing of this repository's inventories, no Terraform path
# (the collection's own sandbox root is the default), no migration command (none by default).
INVENTORY = {
    "switchyard_environment": "sandbox",
    "switchyard_stack_name": "switchyard-sandbox",
    "switchyard_deployment_parameter": "/switchyard/switchyard-sandbox/deployment",
    "switchyard_provision": True,
    "switchyard_aws_connection": {
        "region": "us-east-1",
        "endpoint_url": "{{ lookup('ansible.builtin.env', 'AWS_ENDPOINT_URL') }}",
        "access_key": "SANDBOXACCESSKEY",
        "secret_key": "sandbox-not-a-secret",
    },
    "switchyard_terraform_variables": {"aws_endpoint": "{{ lookup('ansible.builtin.env', 'AWS_ENDPOINT_URL') }}"},
    "switchyard_switch_mode": "all_at_once",
    "switchyard_health_timeout": 60,
    "switchyard_poll_seconds": 1,
    "switchyard_bake_seconds": 3,
    "switchyard_metric_period_seconds": 1,
    "switchyard_metric_wait_seconds": 10,
    "switchyard_min_requests": 10,
    "switchyard_smoke_paths": [],
}


def run(command, cwd, env):
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def test_the_installed_collection_provisions_and_promotes_by_its_playbook_names(tmp_path):
    # Nothing of this checkout's Ansible configuration (make exports ANSIBLE_CONFIG).
    clean = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    built = run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path), str(REPO)],
        tmp_path,
        clean,
    )
    assert built.returncode == 0, built.stderr
    (tarball,) = tmp_path.glob("switchyard-bluegreen-*.tar.gz")
    team = tmp_path / "team"  # an empty folder: no ansible.cfg, no checkout
    (team / "inventory" / "group_vars").mkdir(parents=True)
    installed = run(
        [
            str(BIN / "ansible-galaxy"),
            "collection",
            "install",
            str(tarball),
            "-p",
            str(team / "collections"),
            "--no-deps",
        ],
        team,
        clean,
    )
    assert installed.returncode == 0, installed.stderr
    (team / "inventory" / "hosts.yml").write_text(
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {
                        "localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
                    }
                }
            }
        )
    )
    (team / "inventory" / "group_vars" / "all.yml").write_text(yaml.safe_dump(INVENTORY))

    logs = tmp_path / "logs"
    logs.mkdir()
    with emulator(logs, logs / "harness.json") as (endpoint, data_plane):
        env = {
            **clean,
            "ANSIBLE_COLLECTIONS_PATH": str(team / "collections"),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "AWS_ENDPOINT_URL": endpoint,
            "SWITCHYARD_DATA_PLANE_URL": data_plane,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            # A team's machine has the Terraform registry; this one has a provider mirror.
            "TF_CLI_CONFIG_FILE": str(MIRROR) if MIRROR.is_file() else os.environ.get("TF_CLI_CONFIG_FILE", ""),
        }

        def playbook(name, *args):
            done = run(
                [str(BIN / "ansible-playbook"), f"switchyard.bluegreen.{name}", "-i", "inventory", *args], team, env
            )
            assert done.returncode == 0, f"{name}: {done.stderr[-3000:]}\n{done.stdout[-3000:]}"
            return done

        playbook("provision")
        # The collection's own sandbox root was applied, from where it is installed.
        root = team / "collections" / "ansible_collections" / "switchyard" / "bluegreen" / "infrastructure"
        assert (root / "environments" / "sandbox" / ".terraform").is_dir()
        playbook("promote", "-e", "image=registry.sandbox.local/team/app:2", "-e", "switchyard_provision=false")
        playbook("status", "-e", f"switchyard_status_file={tmp_path / 'status.json'}")
        status = json.loads((tmp_path / "status.json").read_text())
        assert status["live_image"] == "registry.sandbox.local/team/app:2"
        last = status["deployments"][0]
        assert (last["kind"], last["outcome"], last["image"]) == ("promote", "succeeded", status["live_image"])
