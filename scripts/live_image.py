"""Print the image that is live in an environment, as status.yml reads it from AWS.

    .venv/bin/python scripts/live_image.py -i inventories/staging

deploy.yml uses it to promote to production exactly the digest that staging runs. It runs
status.yml with -e switchyard_status_file=... and reads the JSON file that writes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def read_status(inventory: str, path: Path) -> dict:
    """The status of the inventory's environment, written by status.yml to path."""
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg")}
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            str(REPO / "playbooks" / "status.yml"),
            "-i",
            inventory,
            "-e",
            f"switchyard_status_file={path}",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if run.returncode != 0:
        raise RuntimeError(f"status.yml failed for {inventory}:\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    return json.loads(path.read_text())


def live_image(status: dict) -> str:
    """The live colour's image; ValueError when no single colour is live or a run is under way."""
    if status.get("run"):
        run = status["run"]
        raise ValueError(
            f"{status['environment']} has a {run['operation']} {run['state'].replace('_', ' ')} (phase {run['phase']}):"
            " its live image may be about to change; wait for it, or resolve it, first"
        )
    if not status.get("live_colour"):
        raise ValueError(
            f"no single colour is live in {status['environment']} (traffic is split"
            f" {status.get('production_weights')}): finish or roll back first"
        )
    return status["live_image"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-i", "--inventory", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        try:
            print(live_image(read_status(args.inventory, Path(directory) / "status.json")))
        except (RuntimeError, ValueError) as error:
            print(error, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
