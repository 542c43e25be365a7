"""The job queue's tables (procrastinate's schema) in the rostersync database.

Installed by ``rostersync db upgrade`` (:meth:`rostersync.store.pg.store.PostgresStore.upgrade`),
never by a worker: many workers starting at once must not race on DDL. procrastinate owns these
tables; upgrading procrastinate across a release that changes them means applying its migration
scripts (procrastinate's documentation, "Migrate the Procrastinate schema"), which is why the
``postgres`` extra bounds its version.
"""

from __future__ import annotations

from typing import Any

from rostersync.errors import ConfigError

#: a table every procrastinate schema has
MARKER = "procrastinate_jobs"


def present(conn: Any) -> bool:
    return conn.execute("SELECT to_regclass(%s)", [MARKER]).fetchone()[0] is not None


def install(conn: Any) -> bool:
    """Create the queue's tables if they are missing (serialised with the migrations' advisory lock);
    return whether they were created. Without procrastinate installed, nothing to do."""
    try:
        from procrastinate.schema import SchemaManager
    except ImportError:
        return False
    from rostersync.store.pg.migrations import UPGRADE_LOCK

    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [UPGRADE_LOCK])
        if present(conn):
            return False
        conn.execute(SchemaManager.get_schema())
    return True


def require(conn: Any, where: str) -> None:
    """A ConfigError unless the queue's tables are there."""
    if not present(conn):
        raise ConfigError(f"{where}: the job queue's tables are missing: run rostersync db upgrade")
