"""meta/runtime.yml: old module names redirect to the new ones, and module_defaults still apply."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

BIN = Path(sys.executable).parent
RUNTIME = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
RENAMED = {
    "bluegreen_info": "alb_bluegreen_info",
    "haproxy_info": "haproxy_bluegreen_info",
    "error_rate_info": "alb_error_rate_info",
    "traffic_switch": "alb_traffic_switch",
    "service_deploy": "ecs_service_deploy",
    "service_ready": "ecs_service_ready",
    "stack_info": "deployment_info",
}


@pytest.mark.parametrize(("old", "new"), sorted(RENAMED.items()))
def test_old_name_redirects_with_a_deprecation(old, new):
    routing = RUNTIME["plugin_routing"]["modules"][old]
    assert routing["redirect"] == f"switchyard.bluegreen.{new}"
    assert routing["deprecation"]["removal_version"]
    assert (REPO / "plugins" / "modules" / f"{new}.py").exists()
    assert not (REPO / "plugins" / "modules" / f"{old}.py").exists(), f"{old}.py should be gone: one name per idea"


def test_aws_group_lists_every_aws_module():
    aws_modules = {
        p.stem for p in (REPO / "plugins" / "modules").glob("*.py") if "amazon.aws.common.modules" in p.read_text()
    }
    assert set(RUNTIME["action_groups"]["aws"]) == aws_modules


def play(tmp_path: Path, action: str) -> dict:
    """Run one task with group module_defaults; return its result (JSON callback)."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": False,
                    "module_defaults": {
                        "group/switchyard.bluegreen.aws": {"cluster": "from-defaults", "service": "from-defaults"}
                    },
                    # desired_count -1 is refused before any AWS call: no network needed.
                    "tasks": [{"name": "deploy", action: {"desired_count": -1}, "ignore_errors": True}],
                }
            ]
        )
    )
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    }
    done = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(done.stdout[done.stdout.index("{") :])
    return report["plays"][0]["tasks"][0]["hosts"]["localhost"]


@pytest.mark.parametrize("action", ["switchyard.bluegreen.ecs_service_deploy", "switchyard.bluegreen.service_deploy"])
def test_group_module_defaults_apply_to_new_and_old_names(tmp_path, action):
    result = play(tmp_path, action)
    assert "missing required arguments" not in result["msg"], "module_defaults of the aws group were not applied"
    assert "desired_count must be 0 or more" in result["msg"]
    assert result["invocation"]["module_args"]["cluster"] == "from-defaults"
