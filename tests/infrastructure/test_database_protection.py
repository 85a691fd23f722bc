"""The database is the stack's one piece of state: no plan may destroy it, in any environment."""

from __future__ import annotations

import re

from tests.conftest import REPO

DATABASE = (REPO / "infrastructure" / "modules" / "database" / "main.tf").read_text()


def test_no_plan_may_destroy_or_replace_the_database():
    instance = DATABASE[DATABASE.index('resource "aws_db_instance" "this"') :]
    assert re.search(r"lifecycle\s*\{[^}]*prevent_destroy\s*=\s*true", instance), (
        "aws_db_instance.this must carry lifecycle { prevent_destroy = true }"
    )


def test_a_destroy_always_takes_a_final_snapshot():
    assert re.search(r"skip_final_snapshot\s*=\s*false", DATABASE), "skip_final_snapshot must be false, always"
