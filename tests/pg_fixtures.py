"""PostgreSQL for the tests: one private server per session (rostersync.testing.postgres: Debian's
packages, started on 127.0.0.1 in a temporary folder, as the postgres user when the tests run as
root), and a fresh database per test.

Test modules load these with ``pytest_plugins = ("pg_fixtures",)``. Without PostgreSQL (no server
programs, or no psycopg) the tests that need it are skipped saying why, except under CI
(``CI=true``, as ``.ci/run`` sets it), where they fail: a store test that silently skipped in CI
would hide exactly the bug it exists to catch.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

_names = itertools.count(1)


def unavailable(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required under CI and is not available: {why}", pytrace=False)
    pytest.skip(f"PostgreSQL is not available here: {why}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    """The session's PostgreSQL server (a rostersync.testing.postgres.LocalPostgres)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install -e '.[test]')")
    from rostersync.testing.postgres import LocalPostgres, Unavailable

    try:
        server = LocalPostgres().start()
    except Unavailable as exc:
        unavailable(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server: object) -> str:
    """The name of a database at the latest schema with the job queue's tables: copy it for speed."""
    from rostersync.store import inspect_store

    url = pg_server.create_database("rostersync_template")  # type: ignore[attr-defined]
    with inspect_store(url) as store:
        store.upgrade()
    return "rostersync_template"


def _database(server: object, template: str = "template0") -> Iterator[str]:
    name = f"test_{next(_names)}"
    url = server.create_database(name, template)  # type: ignore[attr-defined]
    try:
        yield url
    finally:
        server.drop_database(name)  # type: ignore[attr-defined]


@pytest.fixture
def pg_database(pg_server: object) -> Iterator[str]:
    """The URL of a new, empty database (no rostersync schema yet)."""
    yield from _database(pg_server)


@pytest.fixture
def pg_store_url(pg_server: object, pg_template: str) -> Iterator[str]:
    """The URL of a new database at the latest schema, with the job queue's tables."""
    yield from _database(pg_server, pg_template)
