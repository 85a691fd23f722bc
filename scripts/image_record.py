"""Write an image's build record, or attest that a commit on the default branch built it.

    .venv/bin/python scripts/image_record.py record --image <repo>@sha256:<hex> --commit <sha> --ref <ref> --run <url>
    .venv/bin/python scripts/image_record.py attest --image <repo>@sha256:<hex> --branch main --run <url>

deploy.yml's build job records every image it pushes, with the commit and ref that built it
(/switchyard/images/<repository path>/<digest hex>, written only by the build role); the production
job, after checking in its checkout that the build's commit is on the branch it deploys from,
attests it once and for good (/switchyard/attestations/<repository path>/<branch>/<digest hex>,
written only by the attest role, never overwritten). Production's preflight and its migration
runner accept only an attested image (infrastructure/modules/deploy_access, build.tf).
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


def _parts(image: str):
    found = IMAGE.fullmatch(image)
    if not found:
        raise Refused(f"{image!r} is not an image by digest (<registry>/<repository>@sha256:<64 hex>)")
    return found["repository"], found["hex"]


def record_name(image: str) -> str:
    """The SSM parameter of an image's build record."""
    repository, digest = _parts(image)
    return f"/switchyard/images/{repository}/{digest}"


def attestation_name(image: str, branch: str) -> str:
    """The SSM parameter of the attestation that a commit on branch built the image."""
    repository, digest = _parts(image)
    return f"/switchyard/attestations/{repository}/{branch}/{digest}"


def read(ssm, name: str) -> dict | None:
    try:
        return json.loads(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return None


def write(ssm, name: str, value: dict, overwrite: bool) -> None:
    ssm.put_parameter(Name=name, Value=json.dumps(value, sort_keys=True), Type="String", Overwrite=overwrite)


def record(ssm, image: str, commit: str, ref: str, run: str) -> dict:
    """The build record of a pushed image: which commit and ref built it, and in which run."""
    if not re.fullmatch(r"[0-9a-f]{40}", commit):
        raise Refused(f"{commit!r} is not a full commit SHA")
    built = {"image": image, "commit": commit, "ref": ref, "run": run, "built_at": int(time.time())}
    write(ssm, record_name(image), built, overwrite=True)  # a rebuild of the same bytes, say so again
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
    """Attest, once, that branch's HEAD contains the commit that built the image."""
    name = attestation_name(image, branch)
    done = read(ssm, name)
    if done:
        if done.get("image") != image:
            raise Refused(f"{name} attests {done.get('image')}, not {image}: refusing")
        return done  # attested by an earlier run (a promote again of the same digest)
    built = read(ssm, record_name(image))
    if not built:
        raise Refused(
            f"{image} has no build record ({record_name(image)}): deploy.yml's build job did not build it."
            " Production runs only images that job built from a commit on its branch."
        )
    if not re.fullmatch(r"[0-9a-f]{40}", str(built.get("commit"))):
        raise Refused(f"{image}'s build record names {built.get('commit')!r}, not a commit: refusing")
    if not is_ancestor(built["commit"]):
        raise Refused(
            f"{image} was built from commit {built['commit']} ({built.get('ref')}, {built.get('run')}),"
            f" which is not on {branch}: refusing. Merge that commit to {branch}, or deploy an image built from it."
        )
    attested = {
        "image": image,
        "commit": built["commit"],
        "ref": built.get("ref"),
        "branch": branch,
        "branch_commit": head_commit(),
        "run": run,
        "attested_at": int(time.time()),
    }
    write(ssm, name, attested, overwrite=False)  # once and for good: a second write fails
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
