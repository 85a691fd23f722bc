"""The GitHub deploy role's policy: no wildcard actions, "*" resources only where AWS allows nothing narrower."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO

SOURCE = (REPO / "infrastructure" / "modules" / "deploy_access" / "main.tf").read_text()
POLICY = SOURCE[
    SOURCE.index('data "aws_iam_policy_document" "deploy"') : SOURCE.index('resource "aws_iam_role_policy" "deploy"')
]


def statements() -> list[dict]:
    found = []
    for block in re.split(r"\n  statement \{", POLICY)[1:]:
        sid = re.search(r'sid\s*=\s*"(\w+)"', block).group(1)
        actions = re.findall(r'"([^"]+)"', re.search(r"actions\s*=\s*\[(.*?)\]", block, re.S).group(1))
        resources = re.search(r"resources\s*=\s*\[(.*?)\]", block, re.S).group(1)
        found.append({"sid": sid, "actions": actions, "resources": resources})
    return found


STATEMENTS = statements()


def test_the_policy_was_parsed():
    assert len(STATEMENTS) > 10 and all(s["actions"] for s in STATEMENTS)


@pytest.mark.parametrize("statement", STATEMENTS, ids=lambda s: s["sid"])
def test_no_wildcard_actions(statement):
    wild = [a for a in statement["actions"] if "*" in a]
    assert wild == [], f"{statement['sid']} grants wildcard actions {wild}: name each action"


@pytest.mark.parametrize("statement", STATEMENTS, ids=lambda s: s["sid"])
def test_star_resource_only_where_aws_allows_nothing_narrower(statement):
    if statement["sid"].startswith("Unscopable"):
        return
    assert '"*"' not in statement["resources"], f"{statement['sid']} uses resource * but could be scoped"


def test_only_this_repository_and_environment_may_assume_the_role():
    assert '"repo:${var.github_repository}:environment:${var.github_environment}"' in SOURCE
    assert '"${local.oidc_url}:aud"' in SOURCE
