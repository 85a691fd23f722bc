"""The release's migration step, run once per promote as a one-off task of the new image.

  python -m switchyard_app.migrate apply --release IMAGE [--keep IMAGE ...]
  python -m switchyard_app.migrate lint [DIRECTORY]

apply connects as the migration role, the schema's owner: DB_USER and DB_PASSWORD, or on AWS the
credentials in the secret DB_MIGRATION_SECRET_ARN names (only the migration task's role may read
it), and, under yoyo's lock, applies the migrations this release ships that the database lacks.
--keep names every release that can still run against this database (the live one and one on
standby): a pending contract migration is refused, before anything is applied, unless each of
them already ships every migration before it; and a release that lacks a contract migration the
database already has is refused (it would read what that removed). The runtime role
(DB_RUNTIME_USER, app_runtime; on AWS the secret DB_RUNTIME_SECRET_ARN) gets only reads and writes
of rows, never DDL. Statements wait at most 5 s for a lock (PGOPTIONS). The last line printed is a
JSON summary.

Exit codes: 0 applied (or nothing to do), 3 a contract migration refused, 4 the lint failed,
1 anything else (the database refused a statement, cannot connect...).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import quote

from psycopg import sql
from yoyo import get_backend, read_migrations

from switchyard_app import schema

REFUSED, LINT_FAILED = 3, 4
RELEASES_TABLE = "switchyard_releases"  # which migrations each release shipped (its head)
CONTRACTS_TABLE = "switchyard_contracts"  # the contract migrations applied, and by which release


def secrets_manager():
    import boto3  # noqa: PLC0415 - only the AWS path needs it

    return boto3.client("secretsmanager")


def migration_credentials() -> tuple[str, str]:
    """(user, password) of the schema's owner: on AWS from the secret DB_MIGRATION_SECRET_ARN (the
    master's, which only the migration task's role may read), else DB_USER and DB_PASSWORD."""
    secret_arn = os.environ.get("DB_MIGRATION_SECRET_ARN")
    if not secret_arn:
        return os.environ.get("DB_USER", "app"), os.environ.get("DB_PASSWORD", "")
    secret = json.loads(secrets_manager().get_secret_value(SecretId=secret_arn)["SecretString"])
    os.environ["DB_MIGRATION_PASSWORD"] = secret["password"]  # scrubbed from any error text
    return secret["username"], secret["password"]


def runtime_credentials() -> tuple[str, str | None]:
    """(role, password) of the service's own role: on AWS from its secret DB_RUNTIME_SECRET_ARN,
    which Terraform writes without a password (so that none enters its state): the first migration
    draws one and stores it there, before any release that connects starts. Else DB_RUNTIME_USER
    and DB_RUNTIME_PASSWORD."""
    secret_arn = os.environ.get("DB_RUNTIME_SECRET_ARN")
    if not secret_arn:
        return os.environ.get("DB_RUNTIME_USER", "app_runtime"), os.environ.get("DB_RUNTIME_PASSWORD")
    client = secrets_manager()
    secret = json.loads(client.get_secret_value(SecretId=secret_arn)["SecretString"])
    if not secret.get("password"):
        # Stored before the role gets it: a migration that fails in between sets it next time.
        secret["password"] = secrets.token_urlsafe(32)
        client.put_secret_value(SecretId=secret_arn, SecretString=json.dumps(secret))
    os.environ["DB_RUNTIME_PASSWORD"] = secret["password"]  # scrubbed from any error text
    return secret["username"], secret["password"]


def database_uri() -> str:
    user, password = migration_credentials()
    user = quote(user, safe="")
    credentials = f"{user}:{quote(password, safe='')}" if password else user
    host, port = os.environ.get("DB_HOST", "localhost"), os.environ.get("DB_PORT", "5432")
    sslmode = os.environ.get("DB_SSLMODE", "prefer")
    return f"postgresql+psycopg://{credentials}@{host}:{port}/{os.environ.get('DB_NAME', 'app')}?sslmode={sslmode}"


def scrubbed(text: str) -> str:
    """The text without any password it may quote (a driver's message can carry the URI)."""
    for name in ("DB_PASSWORD", "DB_RUNTIME_PASSWORD", "DB_MIGRATION_PASSWORD"):
        secret = os.environ.get(name)
        if secret:
            text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return text


def bookkeeping(cursor) -> dict:
    """Which migrations each release shipped (its head) and which contract migrations ran, as this
    command recorded them: {"heads": {release: head}, "contracts": {migration: release}}."""
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {RELEASES_TABLE} "
        "(release text PRIMARY KEY, head text NOT NULL, migrated_at timestamptz NOT NULL DEFAULT now())"
    )
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {CONTRACTS_TABLE} "
        "(migration text PRIMARY KEY, release text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
    )
    heads = dict(cursor.execute(f"SELECT release, head FROM {RELEASES_TABLE}").fetchall())  # noqa: S608
    contracts = dict(cursor.execute(f"SELECT migration, release FROM {CONTRACTS_TABLE}").fetchall())  # noqa: S608
    return {"heads": heads, "contracts": contracts}


def contract_refusal(ids: list[str], pending: list[schema.Migration], heads: dict[str, str | None]) -> str | None:
    """Why a pending contract migration may not run yet, or None.

    A contract step removes what the release before it stopped using: every release that can still
    run must ship every migration before it, or it still reads what the step removes. A database
    without any of this release's migrations (a new one) holds nothing another release reads.
    """
    if len(pending) == len(ids):
        return None
    for migration in pending:
        position = ids.index(migration.id)
        if migration.phase != "contract" or position == 0:
            continue
        needed = ids[position - 1]
        for release, head in heads.items():
            if head is None:
                reason = "switchyard never migrated it, so the schema it reads is unknown"
            elif head not in ids:
                reason = f"it ships {head}, which this release does not know"
            elif ids.index(head) < ids.index(needed):
                reason = f"it ships migrations up to {head} only, so it still reads what this removes"
            else:
                continue
            return (
                f"contract migration {migration.id} refused: release {release} can still run ({reason}). "
                f"Ship {migration.id} in a later release, once {release} can no longer be rolled back to. "
                "Nothing was applied."
            )
    return None


def older_release_refusal(release: str, ids: list[str], contracts: dict[str, str]) -> str | None:
    """Why a release may not run on this database, or None: a contract migration it does not ship
    already removed something (it is older than that contract step)."""
    missing = [migration for migration in contracts if migration not in ids]
    if not missing:
        return None
    return (
        f"release {release} does not ship contract migration {', '.join(missing)}, which the database already has "
        f"(applied by {', '.join(sorted({contracts[m] for m in missing}))}): it would read what that removed. "
        "Promote a release that ships it. Nothing was applied."
    )


def grant_runtime_role(cursor, database: str) -> None:
    """Rows, never DDL: the service's role may read and write data, and create or change nothing."""
    name, password = runtime_credentials()
    role = sql.Identifier(name)
    if not cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
        cursor.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
    if password:
        # libpq's SCRAM verifier, never the password itself: a statement can reach the server's log.
        verifier = cursor.connection.pgconn.encrypt_password(password.encode(), name.encode(), b"scram-sha-256")
        cursor.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(role, sql.Literal(verifier.decode())))
    for statement in (
        "GRANT CONNECT ON DATABASE {database} TO {role}",
        "REVOKE TEMPORARY ON DATABASE {database} FROM PUBLIC, {role}",
        "GRANT USAGE ON SCHEMA public TO {role}",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC, {role}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        # The bookkeeping is read (the health check compares it with the release), never written.
        "REVOKE INSERT, UPDATE, DELETE ON _yoyo_migration, _yoyo_log, _yoyo_version, yoyo_lock, "
        f"{RELEASES_TABLE}, {CONTRACTS_TABLE} FROM {{role}}",
    ):
        cursor.execute(sql.SQL(statement).format(role=role, database=sql.Identifier(database)))
    # A REVOKE that PostgreSQL could not apply (the schema has another owner) is only a warning: check.
    can_create = cursor.execute(
        "SELECT has_schema_privilege(%s, 'public', 'CREATE') OR has_database_privilege(%s, current_database(), 'TEMP')",
        (name, name),
    ).fetchone()[0]
    if can_create:
        raise PermissionError(f"the runtime role {name} can still create objects; the schema's owner must migrate")


def apply(release: str, keep: list[str], directory: Path, only_if_new: bool = False) -> tuple[int, dict]:
    migrations = schema.shipped(directory)
    problems = schema.lint(migrations)
    if problems:
        return LINT_FAILED, {"error": "the release's migrations fail the lint", "problems": problems}
    ids = [migration.id for migration in migrations]
    started = time.monotonic()
    backend = get_backend(database_uri())
    cursor = backend.connection.cursor()  # yoyo's connection is in autocommit: each statement commits
    yoyo_migrations = read_migrations(str(directory))
    with backend.lock(timeout=60):
        pending_ids = [m.id for m in backend.to_apply(yoyo_migrations)]
        if only_if_new and len(pending_ids) < len(ids):
            return 0, {"release": release, "applied": [], "head": None, "seconds": 0, "skipped": "not a new database"}
        pending = [migration for migration in migrations if migration.id in pending_ids]
        known = bookkeeping(cursor)
        refusal = older_release_refusal(release, ids, known["contracts"]) or contract_refusal(
            ids, pending, {k: known["heads"].get(k) for k in keep}
        )
        if refusal:
            return REFUSED, {"error": refusal, "pending": pending_ids}
        applied = []
        for migration in backend.to_apply(yoyo_migrations):
            began = time.monotonic()
            backend.apply_one(migration)
            phase = next(m.phase for m in migrations if m.id == migration.id)
            applied.append({"id": migration.id, "phase": phase, "seconds": round(time.monotonic() - began, 3)})
            if phase == "contract":
                cursor.execute(
                    f"INSERT INTO {CONTRACTS_TABLE} (migration, release) VALUES (%s, %s) "  # noqa: S608 - a constant
                    "ON CONFLICT (migration) DO NOTHING",
                    (migration.id, release),
                )
        head = ids[-1] if ids else None
        if head:
            cursor.execute(
                f"INSERT INTO {RELEASES_TABLE} (release, head) VALUES (%s, %s) "  # noqa: S608 - a constant
                "ON CONFLICT (release) DO UPDATE SET head = EXCLUDED.head, migrated_at = now()",
                (release, head),
            )
        grant_runtime_role(cursor, os.environ.get("DB_NAME", "app"))
    return 0, {
        "release": release,
        "applied": applied,
        "head": head,
        "seconds": round(time.monotonic() - started, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m switchyard_app.migrate", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    apply_parser = commands.add_parser("apply", help="apply the pending migrations of this release")
    apply_parser.add_argument("--release", required=True, help="the image being promoted")
    apply_parser.add_argument("--keep", action="append", default=[], help="a release that can still run")
    apply_parser.add_argument(
        "--only-if-new",
        action="store_true",
        help="apply only to a database without any of the migrations (first start)",
    )
    lint_parser = commands.add_parser("lint", help="check that every migration declares its phase truly")
    lint_parser.add_argument("directory", nargs="?", type=Path, default=schema.MIGRATIONS_DIR)
    arguments = parser.parse_args(argv)

    if arguments.command == "lint":
        problems = schema.lint(schema.shipped(arguments.directory))
        for problem in problems:
            print(problem, file=sys.stderr)
        return LINT_FAILED if problems else 0
    keep = [release for release in dict.fromkeys(arguments.keep) if release and release != arguments.release]
    try:
        # A statement waiting for a lock (behind a long transaction) fails instead of stalling the service.
        os.environ.setdefault("PGOPTIONS", "-c lock_timeout=5s")
        code, summary = apply(arguments.release, keep, schema.MIGRATIONS_DIR, arguments.only_if_new)
    except Exception as error:  # noqa: BLE001 - the summary names it; the task's exit says it failed
        code, summary = 1, {"error": scrubbed(f"{type(error).__name__}: {error}")}
    if code:
        print(f"migrate: {summary['error']}", file=sys.stderr)
        for problem in summary.get("problems", []):
            print(f"migrate: {problem}", file=sys.stderr)
    print(json.dumps({"switchyard_migrations": summary}))
    return code


if __name__ == "__main__":
    sys.exit(main())
