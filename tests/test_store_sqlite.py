"""The store contract (``store_contract.py``) run against the SQLite store, and what only SQLite has:
a database made before migrations (schema version 1, unstamped), the file-based target forms, and the
migrations kept in step with the model."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from rostersync.errors import ConfigError
from rostersync.issues import Issue
from rostersync.store import migrations, open_store, scheme_of, shown, store_at
from rostersync.store.schema import BOOKKEEPING, IDENTITY_COLUMNS, TABLES
from store_contract import *  # noqa: F403 - the contract's tests run here
from store_contract import sync, user

WAVE1_SCHEMA = Path(__file__).parent / "data" / "store" / "wave1-schema.sql"


class SqliteSchema:
    """The contract's ``schema_tool`` for SQLite files."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def make(self, target: str, version: int) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            migrations.upgrade(conn, target, to=version)
        finally:
            conn.close()

    def stamp(self, target: str, version: int) -> None:
        with sqlite3.connect(self.path) as conn:
            conn.execute(f"PRAGMA user_version = {version}")

    def damage(self, target: str) -> tuple[str, str]:
        with sqlite3.connect(self.path) as conn:
            conn.execute("ALTER TABLE users DROP COLUMN middle_name")  # no index on it
        return "users", "middle_name"


@pytest.fixture
def store_target(tmp_path: Path) -> str:
    """A URL, so the contract's CLI tests also go through the ``[database] url`` setting."""
    return f"sqlite:///{tmp_path / 'contract.db'}"


@pytest.fixture
def schema_tool(tmp_path: Path) -> SqliteSchema:
    return SqliteSchema(tmp_path / "contract.db")


def _wave1(path: Path) -> None:
    """A database as rostersync made it before migrations, with a run and its (text) warning."""
    with sqlite3.connect(path) as conn:
        conn.executescript(WAVE1_SCHEMA.read_text(encoding="utf-8"))
        conn.execute("INSERT INTO sync_runs (school, source, started_at, status, state) "
                     "VALUES ('hill', 'sis', '2026-01-01T00:00:00.000000Z', 'ok', '{\"cursor\": \"c1\"}')")
        conn.execute("INSERT INTO run_issues (run_id, level, message) VALUES "
                     "(1, 'warning', 'users.csv:4: not UTF-8: read as Windows-1252')")
        conn.execute("INSERT INTO users (school, source, sourced_id, role, given_name, family_name, created_run) "
                     "VALUES ('hill', 'sis', 'u1', 'student', 'Ada', 'Lee', 1)")


def test_migration_1_is_the_schema_made_before_migrations(tmp_path: Path) -> None:
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    _wave1(old)
    SqliteSchema(new).make(str(new), 1)
    with sqlite3.connect(old) as a, sqlite3.connect(new) as b:
        assert migrations.schema_version(a) == 1  # unstamped, but it has the tables: version 1
        assert migrations.schema_version(b) == 1
        for name in migrations.columns_of(a):
            info = f"PRAGMA table_info({name})"
            assert a.execute(info).fetchall() == b.execute(info).fetchall(), name
        indexes = "SELECT tbl_name, name FROM sqlite_master WHERE type='index' AND name NOT LIKE 'sqlite_%' ORDER BY 2"
        assert a.execute(indexes).fetchall() == b.execute(indexes).fetchall()
        assert migrations.columns_of(a).keys() == migrations.columns_of(b).keys()


def test_a_database_made_before_migrations_is_stamped_and_upgraded_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "wave1.db"
    _wave1(path)
    with store_at(path) as store:
        assert store.schema_version().current == migrations.LATEST
        assert store.issues(1) == [Issue("users.csv:4: not UTF-8: read as Windows-1252")]  # text kept whole
        assert str(store.issues(1)[0]) == "users.csv:4: not UTF-8: read as Windows-1252"
        assert store.last_state("hill", "sis") == {"cursor": "c1"}
        assert list(store.live_rows("hill", "users", ["sourced_id", "given_name"])) == [("u1", "Ada")]
        _run, outcome = sync(store, {"users": [user("u1"), user("u2")]}, school="hill", source="sis")
        assert outcome.status == "ok" and outcome.counts["users"]["inserted"] == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (migrations.LATEST,)


def test_the_migrated_schema_has_every_column_the_model_declares() -> None:
    """A new model field needs a migration adding its column: this fails until it has one."""
    expected = migrations.expected_columns()
    for entity, spec in TABLES.items():
        stored = ("school", "source", *spec.columns, *BOOKKEEPING, *IDENTITY_COLUMNS.get(entity, ()))
        assert expected[entity] == stored, entity
        assert expected[f"current_{entity}"] == expected[entity]


def test_migrations_are_numbered_in_order() -> None:
    names = [fn.__name__ for fn in migrations.MIGRATIONS]
    assert names == sorted(names) and all(n.startswith(f"m{i:03d}_") for i, n in enumerate(names, start=1))
    with pytest.raises(RuntimeError, match=f"name it m{len(names) + 1:03d}_"):
        migrations.migration(lambda conn: None)


def test_a_missing_table_of_a_versioned_database_is_named_not_recreated(tmp_path: Path) -> None:
    """Migration 1 creates what an unstamped database lacks; a stamped one missing a table is damaged."""
    path = tmp_path / "x.db"
    with store_at(path):
        pass
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE changes")
    with pytest.raises(ConfigError, match=r"x.db: the database is damaged: the table or view 'changes' is missing"):
        open_store(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name='changes'").fetchone() == (0,)


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not an SQLite database, just some text that is long enough" * 20)
    with pytest.raises(ConfigError, match=r"junk.db: the database cannot be read \(file is not a database\)"):
        open_store(junk)


def test_targets_name_their_backend_by_scheme(tmp_path: Path) -> None:
    assert [scheme_of(t) for t in ("rostersync.db", "/var/lib/x.db", "C:\\x.db", "sqlite:///x.db",
                                   "postgresql+psycopg://u@h/db", tmp_path / "y.db")] == [
        "sqlite", "sqlite", "sqlite", "sqlite", "postgresql", "sqlite"]
    assert shown("postgresql://roster:s3cret@db.example/roster") == "postgresql://roster:***@db.example/roster"
    with pytest.raises(ConfigError, match=r"no installed store handles mysql: databases \(installed: postgresql, "
                                          r"sqlite\)"):
        open_store("mysql://roster:s3cret@db.example/roster")
    with store_at(f"sqlite:///{tmp_path / 'url.db'}") as store:
        store.begin_run("s", "src")
    assert (tmp_path / "url.db").is_file()
    with pytest.raises(ConfigError, match="sqlite:///PATH"):
        open_store("sqlite://host/x.db")


def test_a_second_backend_for_a_taken_scheme_is_refused() -> None:
    from rostersync import hookimpl
    from rostersync.plugins import get_store_backends, pm
    from rostersync.store.base import StoreBackend

    class Impostor:
        @staticmethod
        @hookimpl
        def rostersync_register_stores(register):  # type: ignore[no-untyped-def]
            register(StoreBackend(scheme="sqlite", title="another SQLite", connect=lambda target: None))  # type: ignore

    get_store_backends()  # the built-ins loaded first
    pm.register(Impostor, name="impostor")
    try:
        with pytest.raises(ConfigError, match=r"two plugins register a store for scheme 'sqlite': rostersync and "):
            get_store_backends()
    finally:
        pm.unregister(name="impostor")


def test_db_version_and_db_upgrade_on_a_database_made_before_migrations(cli, project: Path) -> None:
    import json

    from rostersync.config import Config

    _wave1(project / "old.db")
    Config.create(project / "rostersync.toml", "old.db")
    shown_version = json.loads(cli("db", "version", "--json").output)
    assert shown_version == [{"database": str(project / "old.db"), "version": 1, "latest": migrations.LATEST,
                              "state": "older: rostersync db upgrade"}]
    upgraded = cli("db", "upgrade")
    assert upgraded.exit_code == 0
    assert f"upgraded from schema version 1 to {migrations.LATEST} (migrations 2" in upgraded.output
    assert "up to date" in cli("db", "upgrade").output
    assert json.loads(cli("db", "version", "--json").output)[0]["state"] == "up to date"


def test_the_web_views_pages_are_index_lookups_not_table_scans(tmp_path: Path) -> None:
    """Each page the web view reads searches an index (or the rowid range), never scans a roster table
    or the audit, and a run's changes come in id order without sorting them all (migration 3)."""
    with store_at(tmp_path / "plans.db") as store:
        run_id, _ = sync(store, {"users": [user("u1"), user("u2")]})
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        store.find_people("Lee, Sam")
        store.find_people("sam@example.org", school="hill")
        store.person_enrollments("hill", "sis", "u1")
        store.person_changes("hill", "sis", "u1", before=10)
        store.change_page(run_id, after=1)
        store.change_page(run_id, entity="users", action="update")
        store.actions(run_id=run_id)
        store.holds()
        store.conn.set_trace_callback(None)
        plans = {}
        for sql in statements:
            plans[sql] = [row[3] for row in store.conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
    assert len(plans) >= 8
    for sql, plan in plans.items():
        scans = [step for step in plan if step.startswith("SCAN ") and "USING" not in step and "hits" not in step]
        assert not scans, (sql, plan)
        if "FROM changes" in sql:
            assert not any("TEMP B-TREE" in step for step in plan), (sql, plan)
