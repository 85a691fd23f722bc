"""The release's migrations against a real PostgreSQL: the expand/contract rule, the lint, and a
runtime role that cannot change the schema."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from app.tests.conftest import APP_DIR
from app.tests.test_service import call
from sandbox.local_services import start_service, stop
from switchyard_app import migrate, schema

MIGRATIONS = sorted((APP_DIR / "migrations").glob("*.sql"))
IDS = [path.stem for path in MIGRATIONS]
_numbers = itertools.count()


def release(tmp_path: Path, shipped: int) -> Path:
    """The migrations directory of a release that ships the first `shipped` migrations."""
    directory = tmp_path / f"release-{shipped}"
    directory.mkdir(exist_ok=True)
    for path in MIGRATIONS[:shipped]:
        shutil.copy(path, directory)
    return directory


@pytest.fixture
def database(postgres):
    """A new, empty database (owned by the migration role 'app'): DB_* settings for it."""
    name = f"migrations_{next(_numbers)}"
    with psycopg.connect(
        host=postgres["DB_HOST"], port=postgres["DB_PORT"], user="app", dbname="postgres", autocommit=True
    ) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return {**postgres, "DB_NAME": name}


def run_migrate(db: dict, migrations: Path, image: str, *keep: str) -> tuple[int, dict, str]:
    """python -m switchyard_app.migrate apply as the one-off task runs it: (exit code, summary, stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "switchyard_app.migrate", "apply", "--release", image, *(f"--keep={k}" for k in keep)],
        cwd=APP_DIR,
        env={"PATH": "/usr/bin:/bin", **db, "APP_MIGRATIONS_DIR": str(migrations)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    summary = json.loads(done.stdout.strip().splitlines()[-1])["switchyard_migrations"]
    return done.returncode, summary, done.stderr


def columns(db: dict) -> set[str]:
    with psycopg.connect(host=db["DB_HOST"], port=db["DB_PORT"], user="app", dbname=db["DB_NAME"]) as conn:
        rows = conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'visits'")
        return {row[0] for row in rows}


def test_the_sample_service_ships_three_migrations_one_of_them_a_contract():
    shipped = schema.shipped(APP_DIR / "migrations")
    assert [m.phase for m in shipped] == ["expand", "expand", "contract"]
    assert schema.lint(shipped) == []


def test_lint_flags_a_destructive_statement_declared_expand_and_an_undeclared_migration(tmp_path):
    (tmp_path / "0001.sneaky.sql").write_text("-- phase: expand\nALTER TABLE visits RENAME COLUMN at TO seen_at;\n")
    (tmp_path / "0002.silent.sql").write_text("ALTER TABLE visits ADD COLUMN note text;\n")
    (tmp_path / "0003.tighten.sql").write_text(
        "-- phase: expand\n-- DROP TABLE in a comment is fine\nALTER TABLE visits ALTER COLUMN agent SET NOT NULL;\n"
    )
    (tmp_path / "0004.fine.sql").write_text("-- phase: contract\nALTER TABLE visits DROP COLUMN client;\n")
    problems = schema.lint(schema.shipped(tmp_path))
    assert len(problems) == 3, problems
    assert "0001.sneaky.sql: declared expand, but ALTER TABLE visits RENAME COLUMN" in problems[0]
    assert "renames" in problems[0]
    assert "0002.silent.sql: declares no phase" in problems[1]
    assert "NOT NULL" in problems[2] and "DROP TABLE" not in problems[2]
    done = subprocess.run(
        [sys.executable, "-m", "switchyard_app.migrate", "lint", str(tmp_path)],
        cwd=APP_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == migrate.LINT_FAILED and "0002.silent.sql" in done.stderr


@pytest.mark.parametrize(
    ("heads", "refused_for"),
    [
        ({"v2": IDS[1]}, None),  # the release that stopped reading it is the only one left
        ({"v1": IDS[0], "v2": IDS[1]}, "v1"),  # v1 is on standby or live: it still reads it
        ({"legacy": None}, "legacy"),  # never migrated by switchyard: what it reads is unknown
        ({}, None),  # nothing else can run
    ],
)
def test_a_contract_migration_waits_for_every_release_that_still_reads_what_it_removes(heads, refused_for):
    pending = schema.shipped(APP_DIR / "migrations")[2:]
    refusal = migrate.contract_refusal(IDS, pending, heads)
    if refused_for is None:
        assert refusal is None
    else:
        assert f"contract migration {IDS[2]} refused: release {refused_for} can still run" in refusal
        assert "Nothing was applied" in refusal


def test_expand_then_contract_across_three_releases(database, tmp_path):
    code, summary, _ = run_migrate(database, release(tmp_path, 1), "v1")
    assert code == 0 and [m["id"] for m in summary["applied"]] == IDS[:1] and summary["head"] == IDS[0]

    code, summary, _ = run_migrate(database, release(tmp_path, 2), "v2", "v1")
    assert code == 0 and [(m["id"], m["phase"]) for m in summary["applied"]] == [(IDS[1], "expand")]
    assert {"client", "agent"} <= columns(database)

    # v1 still live (say after a rollback) or on standby: v3's contract step is refused, untouched.
    code, summary, stderr = run_migrate(database, release(tmp_path, 3), "v3", "v1", "v2")
    assert code == migrate.REFUSED
    assert f"contract migration {IDS[2]} refused: release v1 can still run" in stderr
    assert summary["pending"] == IDS[2:] and "client" in columns(database)

    # Once v1 is gone (v2 finalized, live alone), the contract step runs.
    code, summary, _ = run_migrate(database, release(tmp_path, 3), "v3", "v2")
    assert code == 0 and [(m["id"], m["phase"]) for m in summary["applied"]] == [(IDS[2], "contract")]
    assert "client" not in columns(database)

    code, summary, _ = run_migrate(database, release(tmp_path, 3), "v3", "v2")
    assert (code, summary["applied"], summary["head"]) == (0, [], IDS[2]), "a second run applies nothing"

    # v1 promoted again (by hand, or a cold rollback's image): it would read the dropped column.
    code, summary, stderr = run_migrate(database, release(tmp_path, 1), "v1", "v3")
    assert code == migrate.REFUSED
    assert f"release v1 does not ship contract migration {IDS[2]}, which the database already has" in stderr


def test_a_new_database_takes_every_migration_whatever_ran_before_on_it(database, tmp_path):
    code, summary, _ = run_migrate(database, release(tmp_path, 3), "v3", "bootstrap")
    assert code == 0 and [m["id"] for m in summary["applied"]] == IDS


def test_the_release_before_an_expand_migration_works_on_its_result(database, tmp_path):
    run_migrate(database, release(tmp_path, 2), "v2")
    base, process = start_service(database, "v1", APP_MIGRATIONS_DIR=str(release(tmp_path, 1)))
    try:
        assert call(f"{base}/healthz") == (200, {"status": "ok"})
        status, body = call(f"{base}/visits", method="POST")
        assert status == 201 and body["clients"] == 1
    finally:
        stop(process)


def test_a_release_whose_migrations_are_not_applied_is_unhealthy(database, tmp_path):
    run_migrate(database, release(tmp_path, 1), "v1")
    base, process = start_service(database, "v2", APP_MIGRATIONS_DIR=str(release(tmp_path, 2)))
    try:
        assert call(f"{base}/healthz") == (503, {"status": "unhealthy", "missing_migrations": [IDS[1]]})
    finally:
        stop(process)


def test_the_runtime_role_reads_and_writes_rows_but_cannot_change_the_schema(database, tmp_path):
    run_migrate(database, release(tmp_path, 3), "v3")
    runtime = dict(host=database["DB_HOST"], port=database["DB_PORT"], dbname=database["DB_NAME"], user="app_runtime")
    with psycopg.connect(**runtime, autocommit=True) as conn:
        conn.execute("INSERT INTO visits (agent) VALUES ('test')")
        assert conn.execute("SELECT count(*) FROM visits").fetchone()[0] == 1
        for ddl in (
            "CREATE TABLE intruder (id int)",
            "ALTER TABLE visits ADD COLUMN intruder text",
            "DROP TABLE visits",
            "CREATE INDEX intruder ON visits (agent)",
            "TRUNCATE visits",
            "DELETE FROM _yoyo_migration",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(ddl)


def test_a_failing_lint_stops_the_migration_before_it_connects(tmp_path):
    (tmp_path / "0001.bad.sql").write_text("-- phase: expand\nDROP TABLE visits;\n")
    code, summary, stderr = run_migrate({"DB_HOST": "192.0.2.1", "DB_PORT": "5432"}, tmp_path, "v9")
    assert code == migrate.LINT_FAILED and "declared expand, but DROP TABLE visits" in stderr
    assert summary["problems"]


def test_on_aws_the_owner_comes_from_its_secret_and_the_first_migration_draws_the_services_password(
    database, tmp_path, monkeypatch
):
    # As the migration task runs on ECS: the owner's credentials come from the master's secret, and
    # the service's secret, which Terraform writes without a password, gets one.
    from moto import mock_aws  # noqa: PLC0415 - the AWS path only

    with mock_aws():
        import boto3  # noqa: PLC0415

        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        owner = json.dumps({"username": "app", "password": "owner-Secret-0815"})
        master = secrets.create_secret(Name="rds!db-switchyard", SecretString=owner)["ARN"]
        service = json.dumps({"username": "app_runtime", "password": ""})
        runtime = secrets.create_secret(Name="switchyard-database-runtime-1", SecretString=service)["ARN"]
        for name, value in {**database, "DB_USER": "app_runtime", "DB_PASSWORD": ""}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("DB_MIGRATION_SECRET_ARN", master)
        monkeypatch.setenv("DB_RUNTIME_SECRET_ARN", runtime)
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        for name in ("DB_RUNTIME_PASSWORD", "DB_MIGRATION_PASSWORD"):  # set by apply: gone after the test
            monkeypatch.setenv(name, "")

        # app_runtime may create nothing here: the tables exist only if the owner migrated.
        first = migrate.apply("v3", [], release(tmp_path, 3))
        drawn = json.loads(secrets.get_secret_value(SecretId=runtime)["SecretString"])
        again = migrate.apply("v3", [], release(tmp_path, 3))
        kept = json.loads(secrets.get_secret_value(SecretId=runtime)["SecretString"])

    assert first[0] == 0 and first[1]["head"] == IDS[-1] and again[0] == 0, (first, again)
    assert "agent" in columns(database), "the owner, not the runtime role, created the schema"
    assert drawn["username"] == "app_runtime" and len(drawn["password"]) >= 32
    assert kept == drawn, "a later migration keeps the password the running releases have"
    with psycopg.connect(host=database["DB_HOST"], port=database["DB_PORT"], user="app", dbname="postgres") as conn:
        stored = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'app_runtime'").fetchone()[0]
    assert stored.startswith("SCRAM-SHA-256$4096:") and drawn["password"] not in stored
    printed = json.dumps([first, again])
    assert drawn["password"] not in printed and "owner-Secret" not in printed
