"""The release's schema history: which migrations it ships, what each declares, and the lint.

Every migration is a SQL file of yoyo-migrations in migrations/ whose leading comments declare
its phase (the expand/contract discipline that keeps a rollback possible):
  -- phase: expand     backward compatible: the previous release keeps working on the result
                       (add a table, a nullable column, an index concurrently)
  -- phase: contract   not: it drops, renames or tightens what an older release reads
A contract migration runs only once no release that lacks the migrations before it can still run.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

MIGRATIONS_DIR = Path(os.environ.get("APP_MIGRATIONS_DIR") or Path(__file__).resolve().parent.parent / "migrations")
PHASES = ("expand", "contract")
PHASE = re.compile(r"^\s*--\s*phase\s*:\s*(\S+)\s*$", re.IGNORECASE)
# What an older release notices: a name it reads goes away or changes, or a write it makes is refused.
DESTRUCTIVE = [
    (re.compile(r"\bDROP\s+(TABLE|COLUMN|VIEW|SCHEMA|TYPE|FUNCTION|SEQUENCE|MATERIALIZED\s+VIEW)\b", re.I), "drops"),
    (re.compile(r"\bRENAME\b", re.I), "renames"),
    (re.compile(r"\bTRUNCATE\b", re.I), "empties a table"),
    (re.compile(r"\bSET\s+NOT\s+NULL\b", re.I), "tightens a column to NOT NULL"),
    (re.compile(r"\bADD\s+(CONSTRAINT|UNIQUE|CHECK|PRIMARY\s+KEY|FOREIGN\s+KEY)\b", re.I), "adds a constraint"),
]
ALTER_TYPE = re.compile(r"\bALTER\s+(COLUMN\s+)?\w+\s+(SET\s+DATA\s+)?TYPE\b", re.I)
COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)


@dataclass(frozen=True)
class Migration:
    id: str  # the file name without .sql, as yoyo names it
    phase: str | None  # None: not declared
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text()


def shipped(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations this release ships, in the order they apply (their file names sort so)."""
    return [Migration(path.stem, declared_phase(path.read_text()), path) for path in sorted(directory.glob("*.sql"))]


def declared_phase(sql: str) -> str | None:
    for line in sql.splitlines():
        if line.strip() and not line.lstrip().startswith("--"):
            return None  # the declaration is a leading comment
        match = PHASE.match(line)
        if match:
            return match.group(1).lower()
    return None


def destructive_statements(sql: str) -> list[str]:
    """What in the SQL an older release would notice, one phrase per statement found."""
    found = []
    for statement in COMMENT.sub("", sql).split(";"):
        reasons = [reason for pattern, reason in DESTRUCTIVE if pattern.search(statement)]
        if ALTER_TYPE.search(statement):
            reasons.append("changes a column's type")
        if reasons:
            found.append(f"{' '.join(statement.split())} ({', '.join(reasons)})")
    return found


def lint(migrations: list[Migration]) -> list[str]:
    """Problems that must stop a release: a phase not declared, or a destructive statement in an
    expand migration (it would break the release that is still live or on standby)."""
    problems = []
    for migration in migrations:
        if migration.phase not in PHASES:
            problems.append(
                f"{migration.path.name}: declares no phase; add '-- phase: expand' or '-- phase: contract' "
                "as a leading comment"
            )
            continue
        if migration.phase == "expand":
            problems.extend(
                f"{migration.path.name}: declared expand, but {statement}: declare it '-- phase: contract' "
                "and ship it in a release after the one that stops using what it changes"
                for statement in destructive_statements(migration.sql)
            )
    return problems
