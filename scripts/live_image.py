"""Print the image that is live in an environment, read from AWS through status.yml.

    .venv/bin/python scripts/live_image.py -i inventories/staging

deploy.yml uses it to promote to production exactly the digest that staging runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-i", "--inventory", required=True)
    args = parser.parse_args()
    env = {**os.environ, "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_CONFIG": str(REPO / "ansible.cfg")}
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            str(REPO / "playbooks" / "status.yml"),
            "-i",
            args.inventory,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if run.returncode != 0:
        print(f"status.yml failed for {args.inventory}:\n{run.stdout[-2000:]}{run.stderr[-2000:]}", file=sys.stderr)
        return 1
    for task in json.loads(run.stdout)["plays"][0]["tasks"]:
        if task["task"]["name"] == "Read the live state":
            state = task["hosts"]["localhost"]
            if not state["live_colour"]:
                print("no colour is live (traffic is split): finish or roll back first", file=sys.stderr)
                return 1
            print(state["colours"][state["live_colour"]]["image"])
            return 0
    print("status.yml did not read the live state", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
