"""Write an image's build record, or attest that a commit on the default branch built it.

    .venv/bin/python scripts/image_record.py record --image <repo>@sha256:<hex> --commit <sha> --ref <ref> --run <url>
    .venv/bin/python scripts/image_record.py attest --image <repo>@sha256:<hex> --branch main --run <url>

deploy.yml's build job records every image it pushes, with the commit and ref that built it; the
production job attests, after checking in its checkout that the build's commit is on the branch it
deploys from, by adding that branch's commit to the record. Production's preflight accepts only an
attested image (roles/preflight, provenance). Only the build role may write these records
(infrastructure/modules/deploy_access, build.tf). A record is an SSM parameter:
/switchyard/images/<repository path>/<digest hex>.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time

import boto3

IMAGE = re.compile(r"^(?P<registry>[^/]+)/(?P<repository>[a-z0-9._/-]+)@sha256:(?P<hex>[a-f0-9]{64})$")


class Refused(Exception):
    """The image cannot be recorded or attested; nothing was written."""


def record_name(image: str) -> str:
    """The SSM parameter of an image's build record."""
    found = IMAGE.match(image)
    if not found:
        raise Refused(f"{image!r} is not an image by digest (<registry>/<repository>@sha256:<64 hex>)")
    return f"/switchyard/images/{found['repository']}/{found['hex']}"


def read(ssm, image: str) -> dict | None:
    try:
        return json.loads(ssm.get_parameter(Name=record_name(image))["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return None


def write(ssm, image: str, record: dict) -> None:
    ssm.put_parameter(Name=record_name(image), Value=json.dumps(record, sort_keys=True), Type="String", Overwrite=True)


def record(ssm, image: str, commit: str, ref: str, run: str) -> dict:
    """The build record of a pushed image: which commit and ref built it, and in which run."""
    if not re.fullmatch(r"[0-9a-f]{40}", commit):
        raise Refused(f"{commit!r} is not a full commit SHA")
    built = {"image": image, "commit": commit, "ref": ref, "run": run, "built_at": int(time.time())}
    write(ssm, image, built)
    return built


def is_ancestor(commit: str, head: str = "HEAD") -> bool:
    """Whether commit is head or an ancestor of it, in this checkout (fetched with its history)."""
    done = subprocess.run(["git", "merge-base", "--is-ancestor", commit, head], capture_output=True, check=False)
    if done.returncode not in (0, 1):
        raise Refused(f"git cannot tell whether {commit} is on the branch: {done.stderr.decode().strip()}")
    return done.returncode == 0


def head_commit() -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()


def attest(ssm, image: str, branch: str, run: str) -> dict:
    """Add to the image's record that branch's HEAD contains the commit that built it."""
    built = read(ssm, image)
    if not built:
        raise Refused(
            f"{image} has no build record ({record_name(image)}): deploy.yml's build job did not build it."
            " Production runs only images that job built from a commit on its branch."
        )
    if not is_ancestor(built["commit"]):
        raise Refused(
            f"{image} was built from commit {built['commit']} ({built.get('ref')}, {built.get('run')}),"
            f" which is not on {branch}: refusing. Merge that commit to {branch}, or deploy an image built from it."
        )
    attested = {**built, branch: {"commit": head_commit(), "run": run, "attested_at": int(time.time())}}
    write(ssm, image, attested)
    return attested


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    recording = commands.add_parser("record", help="record the commit and ref that built a pushed image")
    recording.add_argument("--image", required=True)
    recording.add_argument("--commit", required=True)
    recording.add_argument("--ref", required=True)
    recording.add_argument("--run", default="")
    attesting = commands.add_parser("attest", help="attest that the image's commit is on the branch checked out")
    attesting.add_argument("--image", required=True)
    attesting.add_argument("--branch", required=True)
    attesting.add_argument("--run", default="")
    args = parser.parse_args(argv)
    ssm = boto3.client("ssm")
    try:
        if args.command == "record":
            written = record(ssm, args.image, args.commit, args.ref, args.run)
        else:
            written = attest(ssm, args.image, args.branch, args.run)
    except Refused as error:
        print(error, file=sys.stderr)
        return 1
    print(json.dumps(written, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
