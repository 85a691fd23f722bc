"""The shape of the playbooks and roles: promote.yml reads as a table of contents, internal roles
are private, and no role depends on one that depends on it."""

from __future__ import annotations

import re

import yaml

from tests.conftest import REPO

# What users compose: the phases of a deployment. The rest are the phases' own machinery.
PUBLIC = {"preflight", "provision", "migrate", "release", "health_gate", "switch", "watch", "standby", "rollback"}
INCLUDE = re.compile(r"name:\s*switchyard\.bluegreen\.(\w+)")


def _roles():
    return sorted(path.name for path in (REPO / "roles").iterdir() if path.is_dir())


def _uses(role):
    """The other roles a role includes, from any of its task files."""
    found = set()
    for tasks in (REPO / "roles" / role / "tasks").rglob("*.yml"):
        for data in yaml.safe_load(tasks.read_text()) or []:
            found |= set(INCLUDE.findall(yaml.safe_dump(data)))
    return found - {role}


def test_promote_reads_as_a_table_of_contents():
    lines = (REPO / "playbooks" / "promote.yml").read_text().splitlines()
    assert len(lines) <= 120, f"promote.yml has {len(lines)} lines"
    # No state machine in Jinja: the playbook sets no facts of its own; the plan decides.
    assert "set_fact" not in "\n".join(lines)


def test_internal_roles_are_private_and_the_public_ones_are_the_phases():
    roles = set(_roles())
    assert {role for role in roles if not role.startswith("_")} == PUBLIC
    assert {role for role in roles if role.startswith("_")} == {"_lease", "_traffic", "_record"}


def test_no_role_depends_on_one_that_depends_on_it():
    graph = {role: _uses(role) for role in _roles()}
    assert graph["switch"] >= {"_traffic", "watch"}, "the include pattern no longer matches"

    def reaches(start, goal, seen=()):
        return any(step == goal or (step not in seen and reaches(step, goal, (*seen, step))) for step in graph[start])

    cycles = sorted(role for role in graph if reaches(role, role))
    assert not cycles, f"roles in a cycle: {cycles} ({ {role: sorted(graph[role]) for role in cycles} })"
