"""Schema migrations of the PostgreSQL store, numbered as the SQLite store's: migration N exists in
both lists and brings the shared tables (roster, runs, audit) to the same columns in the same order,
so one model and one ``rostersync db version`` mean the same in either store.

The version is the one row of ``rostersync_schema``. :func:`upgrade` applies each pending migration in
its own transaction under a transaction-level advisory lock, so two hosts upgrading at once apply
each step once (concurrent DDL would otherwise deadlock). Workers never upgrade: only ``rostersync db
upgrade`` does, once, deliberately.

Besides the shared tables PostgreSQL has its own (migration 1):

* ``stage_<entity>`` - UNLOGGED: a run's staged rows keyed by run id (COPYed from the run's SQLite
  staging inside the apply transaction, so only a held run's rows outlive it). No WAL for rows that
  are written once and read once, at the price that a crash of the server empties them: a held run
  records its row counts in ``run_staging``, and approve compares them first;
* ``run_staging`` - logged: per held run, its entities with their mode and counts;
* ``source_locks`` - the per-source lock, a lease (:mod:`rostersync.store.pg.lease`).

A new model column needs a migration adding it to the roster table *and* its ``stage_`` table.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from rostersync.store import migrations as shared
from rostersync.store.schema import BOOKKEEPING, IDENTITY_COLUMNS
from rostersync.store.sqlfiles import q

Migration = Callable[[Any], None]  # fn(psycopg.Connection)
MIGRATIONS: list[Migration] = []

VERSION_TABLE = "rostersync_schema"
#: pg_advisory_xact_lock key serialising upgrades (any constant unlikely to collide: "rsync-db")
UPGRADE_LOCK = 0x7273796E632D6462
#: the tables PostgreSQL has besides the shared ones, by the prefix of their names
STAGE_PREFIX = "stage_"
#: a new person id: 16 random hex digits (64 bits), as SQLite's ``lower(hex(randomblob(8)))``
NEW_PERSON_ID = "left(replace(gen_random_uuid()::text, '-', ''), 16)"


#: ``@migration``: append a function as the PostgreSQL store's next migration (named as SQLite's)
migration = shared.numbered(MIGRATIONS)


def _column(spec: str) -> str:
    name, _, kind = spec.partition(":")
    return f"{q(name)} {'integer' if kind == 'int' else 'text'}"


@migration
def m001_initial(conn: Any) -> None:
    """The shared schema of version 1 (the column lists are the SQLite migration's frozen ones), and
    PostgreSQL's own: UNLOGGED staging per entity, the held runs' staging record, the source leases."""
    for entity, columns in shared.V1_ROSTER.items():
        data = ", ".join(_column(c) for c in columns.split())
        conn.execute(
            f'CREATE TABLE {q(entity)} ("school" text NOT NULL, "source" text NOT NULL, "sourced_id" text NOT NULL, '
            f'{data}, "created_run" bigint, "updated_run" bigint, "deleted_at" text, "deleted_run" bigint, '
            f'PRIMARY KEY ("school", "source", "sourced_id"))'
        )
        conn.execute(f"CREATE VIEW {q('current_' + entity)} AS SELECT * FROM {q(entity)} WHERE deleted_at IS NULL")
        conn.execute(
            f'CREATE UNLOGGED TABLE {q(STAGE_PREFIX + entity)} ("run_id" bigint NOT NULL, "_row" bigint NOT NULL, '
            f'"sourced_id" text NOT NULL, {data}, "_deleted" smallint NOT NULL DEFAULT 0, '
            f'PRIMARY KEY ("run_id", "sourced_id"))'
        )
    conn.execute(
        'CREATE TABLE "sync_runs" ("id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "school" text NOT NULL, '
        '"source" text NOT NULL, "started_at" text NOT NULL, "finished_at" text, "status" text NOT NULL, '
        '"counts" text, "error" text, "state" text, "warnings" integer, "mode" text, "approved_at" text)'
    )
    conn.execute(
        'CREATE TABLE "changes" ("id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "run_id" bigint NOT NULL, '
        '"entity" text NOT NULL, "school" text, "source" text, "sourced_id" text NOT NULL, "action" text NOT NULL, '
        '"fields" text)'
    )
    conn.execute('CREATE TABLE "run_issues" ("id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, '
                 '"run_id" bigint, "level" text, "message" text)')
    for table, (_columns, index) in shared.V1_RUN_TABLES.items():
        conn.execute(f"CREATE INDEX {q('idx_' + table + '_' + '_'.join(index))} ON {q(table)} "
                     f"({', '.join(map(q, index))})")
    conn.execute('CREATE TABLE "run_staging" ("run_id" bigint PRIMARY KEY, "entities" text NOT NULL)')
    conn.execute('CREATE TABLE "source_locks" ("school" text NOT NULL, "source" text NOT NULL, '
                 '"holder" text NOT NULL, "heartbeat_at" timestamptz NOT NULL, PRIMARY KEY ("school", "source"))')


@migration
def m002_structured_issues(conn: Any) -> None:
    """A run's warnings as structured rows (as the SQLite store's migration 2)."""
    for column in ('"code" text', '"entity" text', '"file" text', '"line" integer', '"column" text',
                   '"sourced_id" text'):
        conn.execute(f"ALTER TABLE run_issues ADD COLUMN {column}")


@migration
def m003_web_view(conn: Any) -> None:
    """What the web view needs to stay fast on a large roster, and the audit log (as the SQLite store's
    migration 3). Case-insensitive look-ups are expression indexes on ``lower(column)``; name prefixes
    use ``text_pattern_ops``, which serves ``LIKE 'prefix%'`` whatever the database's collation."""
    conn.execute('CREATE TABLE "audit_log" ("id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "at" text NOT NULL, '
                 '"action" text NOT NULL, "run_id" bigint, "school" text, "source" text, "actor" text NOT NULL, '
                 '"origin" text NOT NULL, "detail" text)')
    for name, sql in (
        ("idx_audit_log_run_id", 'audit_log ("run_id")'),
        ("idx_users_sourced_id", 'users ("sourced_id")'),
        ("idx_users_identifier", 'users ("identifier") WHERE "identifier" IS NOT NULL'),
        ("idx_users_email", 'users (lower("email")) WHERE "email" IS NOT NULL'),
        ("idx_users_family_name", 'users (lower("family_name") text_pattern_ops)'),
        ("idx_users_given_name", 'users (lower("given_name") text_pattern_ops)'),
        ("idx_enrollments_user", 'enrollments ("school", "source", "user_sourced_id")'),
        ("idx_changes_users", 'changes ("school", "source", "sourced_id") WHERE "entity" = \'users\''),
        ("idx_sync_runs_held", 'sync_runs ("id") WHERE "status" = \'held\''),
    ):
        conn.execute(f"CREATE INDEX {q(name)} ON {sql}")


@migration
def m004_operators(conn: Any) -> None:
    """What operators read and rely on (as the SQLite store's migration 4): issues' ``value`` and
    ``outcome``; users' ``person_id`` (each existing user a new one) and ``rekeyed_to``; the
    ``current_people`` view; the ``notifications`` log."""
    for column in ('"value" text', '"outcome" text'):
        conn.execute(f"ALTER TABLE run_issues ADD COLUMN {column}")
    conn.execute('ALTER TABLE users ADD COLUMN "person_id" text')
    conn.execute('ALTER TABLE users ADD COLUMN "rekeyed_to" text')
    # PostgreSQL expands a view's * when it is made (SQLite when it is read): the view takes the new columns
    conn.execute('CREATE OR REPLACE VIEW "current_users" AS SELECT * FROM users WHERE deleted_at IS NULL')
    conn.execute(f"UPDATE users SET person_id = {NEW_PERSON_ID}")
    conn.execute('CREATE INDEX "idx_users_school_person_id" ON "users" ("school", "person_id")')
    conn.execute('CREATE VIEW "current_people" AS SELECT person_id, school, source, sourced_id, role, given_name, '
                 'family_name, identifier, email, username, user_ids, user_master_identifier, created_run, '
                 'updated_run FROM users WHERE deleted_at IS NULL')
    conn.execute('CREATE TABLE "notifications" ("id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "run_id" bigint, '
                 '"channel" text NOT NULL, "kind" text NOT NULL, "status" text NOT NULL, "detail" text, '
                 '"at" text NOT NULL)')
    conn.execute('CREATE INDEX "idx_notifications_channel_kind" ON "notifications" ("channel", "kind", "at")')


@migration
def m005_job_ids(conn: Any) -> None:
    """A run made by a queued job records the job's id (as the SQLite store's migration 5): the apply
    fence refuses a second applied run of one job."""
    conn.execute('ALTER TABLE sync_runs ADD COLUMN "job_id" text')
    conn.execute('CREATE INDEX "idx_sync_runs_job_id" ON "sync_runs" ("job_id")')


LATEST = len(MIGRATIONS)


def schema_version(conn: Any) -> int:
    """The database's schema version (0: no rostersync schema yet)."""
    if conn.execute("SELECT to_regclass(%s)", [VERSION_TABLE]).fetchone()[0] is None:
        return 0
    row = conn.execute(f"SELECT max(version) FROM {VERSION_TABLE}").fetchone()
    return int(row[0] or 0)


def upgrade(conn: Any, where: str, to: int = 0) -> list[int]:
    """Apply the pending migrations in order (up to version ``to``, default the latest), each with its
    new version in one transaction; return their numbers. Refuses a database newer than this code."""
    applied = []
    for number, fn in enumerate(MIGRATIONS[:to or LATEST], start=1):
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [UPGRADE_LOCK])  # another host may upgrade
            conn.execute(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version integer NOT NULL)")
            current = schema_version(conn)
            if current > LATEST:
                raise shared.newer_error(where, current)
            if current < number:
                fn(conn)
                conn.execute(f"DELETE FROM {VERSION_TABLE}")
                conn.execute(f"INSERT INTO {VERSION_TABLE} (version) VALUES (%s)", [number])
                applied.append(number)
    return applied


@functools.cache
def expected_columns() -> dict[str, tuple[str, ...]]:
    """Every table and view of the latest schema with its columns: the shared ones exactly as the SQLite
    migrations build them, and a ``stage_`` table per roster table (run id, row, its data columns,
    ``_deleted``) plus PostgreSQL's bookkeeping tables."""
    shared_columns = shared.expected_columns()
    own: dict[str, tuple[str, ...]] = {}
    for entity in shared.V1_ROSTER:
        data = [c for c in shared_columns[entity] if c not in ("school", "source", *BOOKKEEPING,
                                                               *IDENTITY_COLUMNS.get(entity, ()))]
        own[STAGE_PREFIX + entity] = ("run_id", "_row", *data, "_deleted")
    own["run_staging"] = ("run_id", "entities")
    own["source_locks"] = ("school", "source", "holder", "heartbeat_at")
    return {**shared_columns, **own}


def columns_of(conn: Any) -> dict[str, tuple[str, ...]]:
    """Each table and view of the connection's schema with its columns in order."""
    found: dict[str, list[str]] = {}
    for table, column in conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "ORDER BY table_name, ordinal_position"):
        found.setdefault(table, []).append(column)
    return {table: tuple(columns) for table, columns in found.items()}


def verify(conn: Any, where: str) -> None:
    """Raise a ConfigError naming the first table, view or column the latest schema has and the
    database lacks (tables first: a damaged table is named, not a view over it)."""
    found = columns_of(conn)
    for name, columns in expected_columns().items():
        if name not in found:
            raise shared.damaged_error(where, f"the table or view {name!r} is missing")
        missing = [c for c in columns if c not in found[name]]
        if missing:
            raise shared.damaged_error(where, f"{name!r} has no column {', '.join(map(repr, missing))}")
