"""A real PostgreSQL server (Debian's binaries) and the service as a process, for the app's tests."""

from __future__ import annotations

import sys

import pytest

from sandbox.local_services import APP_DIR, ServiceError, migrate, stop
from sandbox.local_services import postgres as local_postgres
from sandbox.local_services import start_service as _start

__all__ = ["APP_DIR"]
# The service's package, as its image has it on the path (the tests import its migration rules).
sys.path.insert(0, str(APP_DIR))


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL cluster with a database 'app' owned by 'app' (the migration role),
    migrated by this tree's migrations; the service connects as the runtime role."""
    try:
        with local_postgres() as settings:
            migrate(settings, "v-test")
            yield settings
    except ServiceError as error:
        pytest.fail(str(error))


@pytest.fixture
def start_service(postgres):
    started = []

    def start(**overrides: str):
        version = overrides.pop("APP_VERSION", "v-test")
        base, process = _start(postgres, version, **overrides)
        started.append(process)
        return base, process

    yield start
    for process in started:
        stop(process)
