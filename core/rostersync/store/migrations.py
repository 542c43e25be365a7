"""Schema migrations of the SQLite store: a numbered list of functions, applied in order.

The database's schema version is SQLite's ``PRAGMA user_version`` (0: no schema yet): migration N
takes a database from version N-1 to N, and it and its new version commit in one transaction, taken
with ``BEGIN IMMEDIATE`` so two processes opening an old database at once apply each step once.

Each migration is frozen once released: it says what the schema *was* at that step, in literal
column lists, never derived from the model. A change to the model (a new column) therefore needs a
new migration here; ``tests/test_store_sqlite.py`` fails until the migrated schema matches the model.

Migration 1 is the schema rostersync created before it had migrations. Such a database has the tables
but version 0: :func:`schema_version` counts it as version 1, and :func:`upgrade` stamps it (after
creating any table it lacks, as the code that made it would have done on its next start).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import Any

from rostersync.errors import ConfigError
from rostersync.store.sqlfiles import q

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def numbered(migrations: list[Callable[[Any], None]]) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
    """The decorator appending a migration to ``migrations`` (one store's list): its name must carry its
    number (``m002_...``), so the stores' lists stay numbered alike."""
    def migration(fn: Callable[[Any], None]) -> Callable[[Any], None]:
        number = len(migrations) + 1
        if not fn.__name__.startswith(f"m{number:03d}_"):
            raise RuntimeError(f"migration {fn.__name__} is number {number}: name it m{number:03d}_...")
        migrations.append(fn)
        return fn
    return migration


#: ``@migration``: append a function as the SQLite store's next migration
migration = numbered(MIGRATIONS)  # type: ignore[arg-type]


#: migration 1's roster tables: data columns after (school, source, sourced_id); ``:int`` marks INTEGER
V1_ROSTER = {
    "orgs": "status date_last_modified extra name type identifier parent_sourced_id",
    "academic_sessions": "status date_last_modified extra title type start_date end_date parent_sourced_id "
                         "school_year",
    "courses": "status date_last_modified extra title org_sourced_id school_year_sourced_id course_code grades "
               "grades_raw subjects subject_codes",
    "classes": "status date_last_modified extra title course_sourced_id school_sourced_id term_sourced_ids "
               "class_type class_code location grades grades_raw subjects subject_codes periods",
    "users": "status date_last_modified extra role given_name family_name enabled_user:int username "
             "org_sourced_ids user_ids middle_name preferred_given_name preferred_middle_name "
             "preferred_family_name pronouns identifier user_master_identifier email sms phone agent_sourced_ids "
             "grades grades_raw primary_org_sourced_id",
    "enrollments": "status date_last_modified extra class_sourced_id school_sourced_id user_sourced_id role "
                   "primary:int begin_date end_date",
    "demographics": "status date_last_modified extra birth_date sex american_indian_or_alaska_native:int "
                    "asian:int black_or_african_american:int native_hawaiian_or_other_pacific_islander:int "
                    "white:int demographic_race_two_or_more_races:int hispanic_or_latino_ethnicity:int "
                    "country_of_birth_code state_of_birth_abbreviation city_of_birth "
                    "public_school_residence_status",
    "roles": "status date_last_modified extra user_sourced_id role_type role org_sourced_id begin_date end_date "
             "user_profile_sourced_id",
    "user_profiles": "status date_last_modified extra user_sourced_id profile_type vendor_id application_id "
                     "description credential_type username",
    "categories": "status date_last_modified extra title weight",
    "resources": "status date_last_modified extra vendor_resource_id title roles importance vendor_id "
                 "application_id",
    "line_items": "status date_last_modified extra title class_sourced_id description assign_date due_date "
                  "category_sourced_id grading_period_sourced_id school_sourced_id result_value_min "
                  "result_value_max",
    "results": "status date_last_modified extra line_item_sourced_id student_sourced_id score_status score "
               "text_score score_date comment class_sourced_id",
    "class_resources": "status date_last_modified extra class_sourced_id resource_sourced_id title",
    "course_resources": "status date_last_modified extra course_sourced_id resource_sourced_id title",
}
V1_RUN_TABLES = {
    "sync_runs": ('"id" INTEGER PRIMARY KEY, "school" TEXT NOT NULL, "source" TEXT NOT NULL, '
                  '"started_at" TEXT NOT NULL, "finished_at" TEXT, "status" TEXT NOT NULL, "counts" TEXT, '
                  '"error" TEXT, "state" TEXT, "warnings" INTEGER, "mode" TEXT, "approved_at" TEXT',
                  ("school", "source", "id")),
    "changes": ('"id" INTEGER PRIMARY KEY, "run_id" INTEGER NOT NULL, "entity" TEXT NOT NULL, "school" TEXT, '
                '"source" TEXT, "sourced_id" TEXT NOT NULL, "action" TEXT NOT NULL, "fields" TEXT',
                ("run_id", "entity")),
    "run_issues": ('"id" INTEGER PRIMARY KEY, "run_id" INTEGER, "level" TEXT, "message" TEXT', ("run_id",)),
}


def _column(spec: str) -> str:
    name, _, kind = spec.partition(":")
    return f"{q(name)} {'INTEGER' if kind == 'int' else 'TEXT'}"


@migration
def m001_initial(conn: sqlite3.Connection) -> None:
    """The schema before migrations: a table per entity (rows keyed by school, source, sourcedId, with
    the runs that created, changed and soft-deleted them) and a ``current_`` view of its live rows;
    the run history, the change audit and the runs' warnings. Creates only what is missing."""
    for entity, columns in V1_ROSTER.items():
        data = ", ".join(_column(c) for c in columns.split())
        conn.execute(
            f'CREATE TABLE IF NOT EXISTS {q(entity)} ("school" TEXT NOT NULL, "source" TEXT NOT NULL, '
            f'"sourced_id" TEXT NOT NULL, {data}, "created_run" INTEGER, "updated_run" INTEGER, '
            f'"deleted_at" TEXT, "deleted_run" INTEGER, PRIMARY KEY ("school", "source", "sourced_id"))'
        )
        conn.execute(f"CREATE VIEW IF NOT EXISTS {q('current_' + entity)} AS "
                     f"SELECT * FROM {q(entity)} WHERE deleted_at IS NULL")
    for table, (columns, index) in V1_RUN_TABLES.items():
        conn.execute(f"CREATE TABLE IF NOT EXISTS {q(table)} ({columns})")
        conn.execute(f"CREATE INDEX IF NOT EXISTS {q('idx_' + table + '_' + '_'.join(index))} "
                     f"ON {q(table)} ({', '.join(map(q, index))})")


@migration
def m002_structured_issues(conn: sqlite3.Connection) -> None:
    """A run's warnings as structured rows (rostersync.issues.Issue): what check, which record, where.
    Older rows keep their whole text in ``message``, with the new columns empty."""
    for column in ('"code" TEXT', '"entity" TEXT', '"file" TEXT', '"line" INTEGER', '"column" TEXT',
                   '"sourced_id" TEXT'):
        conn.execute(f"ALTER TABLE run_issues ADD COLUMN {column}")


@migration
def m003_web_view(conn: sqlite3.Connection) -> None:
    """What the web view (``rostersync serve``) needs to stay fast on a large roster, and the audit log.

    Indexes: people search (sourcedId, identifier, email and names, ignoring case), a person's
    enrollments and the change history of a person (a partial index over the ``users`` changes only:
    enrollments make most of the audit and are never looked up that way), and held runs. The audit log
    records operator actions (approve, discard): who, from where, when."""
    conn.execute('CREATE TABLE IF NOT EXISTS "audit_log" ("id" INTEGER PRIMARY KEY, "at" TEXT NOT NULL, '
                 '"action" TEXT NOT NULL, "run_id" INTEGER, "school" TEXT, "source" TEXT, "actor" TEXT NOT NULL, '
                 '"origin" TEXT NOT NULL, "detail" TEXT)')
    for name, sql in (
        ("idx_audit_log_run_id", 'audit_log ("run_id")'),
        ("idx_users_sourced_id", 'users ("sourced_id")'),
        ("idx_users_identifier", 'users ("identifier") WHERE "identifier" IS NOT NULL'),
        ("idx_users_email", 'users ("email" COLLATE NOCASE) WHERE "email" IS NOT NULL'),
        ("idx_users_family_name", 'users ("family_name" COLLATE NOCASE)'),
        ("idx_users_given_name", 'users ("given_name" COLLATE NOCASE)'),
        ("idx_enrollments_user", 'enrollments ("school", "source", "user_sourced_id")'),
        ("idx_changes_users", 'changes ("school", "source", "sourced_id") WHERE "entity" = \'users\''),
        ("idx_sync_runs_held", 'sync_runs ("id") WHERE "status" = \'held\''),
    ):
        conn.execute(f"CREATE INDEX IF NOT EXISTS {q(name)} ON {sql}")


@migration
def m004_operators(conn: sqlite3.Connection) -> None:
    """What operators read and rely on (issue 21):

    * ``run_issues.value`` (the offending value, masked when sensitive) and ``run_issues.outcome``
      (rejected, skipped, filtered, or empty: kept) for the run report;
    * ``users.person_id``, a stable person id that survives an SIS re-key (each existing user gets a
      new one), and ``users.rekeyed_to``, the sourcedId that replaced a row closed as re-keyed; a
      ``current_people`` view of the live people;
    * ``notifications``, every delivery (or failure) of a run's notification, a digest or a test.
    """
    for column in ('"value" TEXT', '"outcome" TEXT'):
        conn.execute(f"ALTER TABLE run_issues ADD COLUMN {column}")
    conn.execute('ALTER TABLE users ADD COLUMN "person_id" TEXT')
    conn.execute('ALTER TABLE users ADD COLUMN "rekeyed_to" TEXT')
    conn.execute("UPDATE users SET person_id = lower(hex(randomblob(8)))")
    conn.execute('CREATE INDEX "idx_users_school_person_id" ON "users" ("school", "person_id")')
    conn.execute('CREATE VIEW "current_people" AS SELECT person_id, school, source, sourced_id, role, given_name, '
                 'family_name, identifier, email, username, user_ids, user_master_identifier, created_run, '
                 'updated_run FROM users WHERE deleted_at IS NULL')
    conn.execute('CREATE TABLE "notifications" ("id" INTEGER PRIMARY KEY, "run_id" INTEGER, "channel" TEXT NOT NULL, '
                 '"kind" TEXT NOT NULL, "status" TEXT NOT NULL, "detail" TEXT, "at" TEXT NOT NULL)')
    conn.execute('CREATE INDEX "idx_notifications_channel_kind" ON "notifications" ("channel", "kind", "at")')


@migration
def m005_job_ids(conn: sqlite3.Connection) -> None:
    """A run made by a queued job (``rostersync worker``) records the job's id: a job retried after its
    worker died finds the run it already applied, rather than applying the sync twice."""
    conn.execute('ALTER TABLE sync_runs ADD COLUMN "job_id" TEXT')
    conn.execute('CREATE INDEX "idx_sync_runs_job_id" ON "sync_runs" ("job_id")')


LATEST = len(MIGRATIONS)


def _stamped(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _is_unstamped_v1(conn: sqlite3.Connection) -> bool:
    """A database made before migrations: version 0 but the run history is there."""
    return _stamped(conn) == 0 and conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='sync_runs'").fetchone() is not None


def schema_version(conn: sqlite3.Connection) -> int:
    """The database's schema version (an unstamped database made before migrations counts as 1)."""
    return 1 if _is_unstamped_v1(conn) else _stamped(conn)


def upgrade(conn: sqlite3.Connection, where: str, to: int = 0) -> list[int]:
    """Apply the pending migrations in order (up to version ``to``, default the latest), each with its
    new version in one transaction; return their numbers. Refuses a database newer than this code
    (``where`` names it in the message)."""
    applied = []
    for number, fn in enumerate(MIGRATIONS[:to or LATEST], start=1):
        conn.execute("BEGIN IMMEDIATE")  # read the version under the write lock: another process may upgrade
        try:
            current = _stamped(conn)
            if current > LATEST:
                raise newer_error(where, current)
            if current < number:
                adopted = number == 1 and _is_unstamped_v1(conn)  # already version 1: only stamped
                fn(conn)
                conn.execute(f"PRAGMA user_version = {number}")
                if not adopted:
                    applied.append(number)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return applied


def newer_error(where: str, version: int) -> ConfigError:
    return ConfigError(f"{where}: database schema version {version} is newer than this rostersync "
                       f"({LATEST}): upgrade rostersync")


@functools.cache
def expected_columns() -> dict[str, tuple[str, ...]]:
    """Every table and view of the latest schema with its columns, as the migrations build it (run once
    on an in-memory database, so there is no second description of the schema to keep in step)."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        upgrade(conn, ":memory:")
        return columns_of(conn)
    finally:
        conn.close()


def columns_of(conn: sqlite3.Connection) -> dict[str, tuple[str, ...]]:
    """Each table and view of ``conn``'s main database with its columns in order."""
    names = [n for (n,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' "
        "ORDER BY type, name")]  # tables first: a damaged table is named, not a view over it
    return {n: tuple(r[1] for r in conn.execute(f"PRAGMA table_info({q(n)})")) for n in names}


def verify(conn: sqlite3.Connection, where: str) -> None:
    """Raise a ConfigError naming the first table, view or column the latest schema has and the
    database lacks (a damaged database), before a run fails half-way on it."""
    found = columns_of(conn)
    for name, columns in expected_columns().items():
        if name not in found:
            raise damaged_error(where, f"the table or view {name!r} is missing")
        missing = [c for c in columns if c not in found[name]]
        if missing:
            raise damaged_error(where, f"{name!r} has no column {', '.join(map(repr, missing))}")


def damaged_error(where: str, what: str) -> ConfigError:
    return ConfigError(f"{where}: the database is damaged: {what} (schema version {LATEST} has it). Restore "
                       f"the database from a backup, or move it aside and sync afresh into a new one")
