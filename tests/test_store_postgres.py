"""The store contract (``store_contract.py``) run against the PostgreSQL store, and what only PostgreSQL
has: its schema kept equal to SQLite's, staging emptied by a server crash, the lease, the password."""

from __future__ import annotations

from typing import Any

import pytest
from rostersync.store import store_at
from store_contract import *  # noqa: F403 - the contract's tests run here

pytest_plugins = ("pg_fixtures",)


class PgSchema:
    """The contract's ``schema_tool`` for PostgreSQL databases."""

    def make(self, target: str, version: int) -> None:
        import psycopg
        from rostersync.store.pg import migrations

        with psycopg.connect(target, autocommit=True) as conn:
            migrations.upgrade(conn, target, to=version)

    def stamp(self, target: str, version: int) -> None:
        _sql(target, f"UPDATE rostersync_schema SET version = {int(version)}")

    def damage(self, target: str) -> tuple[str, str]:
        _sql(target, "ALTER TABLE users DROP COLUMN given_name CASCADE")  # and the view over it
        return "users", "given_name"


def _sql(target: str, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(target, autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture
def store_target(pg_database: str) -> str:
    return pg_database


@pytest.fixture
def schema_tool() -> PgSchema:
    return PgSchema()


# -- what only PostgreSQL has ----------------------------------------------------------------------
def test_the_shared_schema_is_sqlites_column_for_column(pg_database: str) -> None:
    """Every migration exists for both stores under one number, and the tables both have end with the
    same columns in the same order (one model, one `db version`)."""
    import psycopg
    from rostersync.store import migrations as sqlite_migrations
    from rostersync.store.pg import migrations

    assert [fn.__name__ for fn in migrations.MIGRATIONS] == [fn.__name__ for fn in sqlite_migrations.MIGRATIONS]
    with psycopg.connect(pg_database, autocommit=True) as conn:
        assert migrations.upgrade(conn, pg_database) == list(range(1, migrations.LATEST + 1))
        found = migrations.columns_of(conn)
    for name, columns in sqlite_migrations.expected_columns().items():
        assert found[name] == columns, name
    assert {n for n in found if n.startswith("stage_")} == {f"stage_{e}" for e in sqlite_migrations.V1_ROSTER}
    with pytest.raises(RuntimeError, match=f"name it m{migrations.LATEST + 1:03d}_"):
        migrations.migration(lambda conn: None)


def test_a_server_crash_empties_staging_and_approve_says_so(pg_server: Any, store_target: str) -> None:
    """UNLOGGED staging is emptied by a crash of the server; a held run notices before it applies."""
    from rostersync.errors import ConfigError
    from store_contract import BASE, HOLDING, live, sync

    with store_at(store_target, upgrade=True) as store:
        sync(store, BASE)
        held, outcome = sync(store, {"orgs": BASE["orgs"], "users": []}, policy=HOLDING)
        assert outcome.status == "held"
        assert _sql(store_target, "SELECT count(*) FROM stage_orgs WHERE run_id=%s", [held]) == [(2,)]
    pg_server.execute("CHECKPOINT")  # the test server commits asynchronously: make the hold durable first
    pg_server.restart("immediate")  # no shutdown checkpoint: recovery resets every UNLOGGED table
    with store_at(store_target) as store:
        with pytest.raises(ConfigError, match=rf"the staged data of run {held} is gone \(orgs \(0 of 2 rows\): "
                                              rf"the database server restarted after a crash"):
            store.approve(held)
        assert live(store) == [("u1", "Lee"), ("u2", "Lee"), ("u3", "Ng")]
        store.discard(held)
        assert store.run(held)["status"] == "discarded"  # type: ignore[index]


def test_a_lease_is_taken_over_once_expired_and_by_its_own_job_at_once(store_target: str) -> None:
    from rostersync.store.pg import lease
    from rostersync.store.pg.database import Database

    with store_at(store_target, upgrade=True):
        pass
    db = Database(store_target)
    with lease.source_lease(db, "hill", "sis", "job:7") as first:
        assert first
        with lease.source_lease(db, "hill", "sis") as other:
            assert not other
        with lease.source_lease(db, "hill", "sis", "job:7") as retry:  # the same job's retry
            assert retry
    assert _sql(store_target, "SELECT count(*) FROM source_locks") == [(0,)]
    _sql(store_target, "INSERT INTO source_locks VALUES ('hill', 'sis', 'dead-host:1:x', now() - interval '2 min')")
    with lease.source_lease(db, "hill", "sis") as taken:  # its holder stopped renewing it
        assert taken


def test_the_password_comes_from_a_secret_reference_never_the_url(pg_server: Any, pg_store_url: str,
                                                                  tmp_path: Any, bundle: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from rostersync.config import Config
    from rostersync.testing.postgres import PASSWORD_ROLE
    from store_contract import _cli

    secret = "pw-Zr8-never-logged"
    pg_server.execute(f"CREATE ROLE syncer LOGIN PASSWORD '{secret}' IN ROLE {PASSWORD_ROLE}")
    database = pg_store_url.rsplit("/", 1)[1]
    pg_server.execute('GRANT ALL ON SCHEMA public TO syncer; GRANT ALL ON ALL TABLES IN SCHEMA public TO syncer; '
                      'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO syncer', database)
    url = pg_server.url(database, user="syncer")
    config = Config.create(tmp_path / "rostersync.toml")
    config.doc["database"]["url"] = url  # type: ignore[index]
    config.doc["database"]["password"] = "env:ROSTERSYNC_TEST_PGPASS"  # type: ignore[index]
    config.add_school("lincoln", "Lincoln", ("sch-lincoln",))
    config.enable("lincoln", "csv-folder", {"path": str(bundle)})
    config.save()

    missing = _cli(config.path, "sync", "lincoln")
    assert missing.returncode == 2 and "ROSTERSYNC_TEST_PGPASS is not set" in missing.stderr
    monkeypatch.setenv("ROSTERSYNC_TEST_PGPASS", "wrong-password")
    wrong = _cli(config.path, "sync", "lincoln")
    assert wrong.returncode == 2 and "cannot connect to PostgreSQL" in wrong.stderr
    assert "password authentication failed" in wrong.stderr and "wrong-password" not in wrong.stderr
    monkeypatch.setenv("ROSTERSYNC_TEST_PGPASS", secret)
    synced = _cli(config.path, "-vv", "sync", "lincoln", "--json")
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout)[0]["status"] == "ok"
    for result in (missing, wrong, synced):
        assert secret not in result.stdout + result.stderr
    assert secret not in config.path.read_text()

    config.doc["database"]["url"] = url.replace("syncer@", f"syncer:{secret}@")  # type: ignore[index]
    config.save()
    refused = _cli(config.path, "status")
    assert refused.returncode == 2 and "[database] url holds a password" in refused.stderr
    assert secret not in refused.stderr


def test_postgresql_tests_fail_under_ci_and_are_skipped_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    from pg_fixtures import unavailable

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required under CI and is not available: no initdb"):
        unavailable("no initdb")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL is not available here: no initdb"):
        unavailable("no initdb")


def test_no_connection_is_held_while_a_sync_fetches(pg_store_url: str, bundle: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The SIS fetch takes minutes for a large district: the store holds no connection meanwhile."""
    from rostersync import engine
    from rostersync.config import EnabledConnector, School

    held: list[int] = []
    fetch = engine._stage

    def probed(*args: Any, **kwargs: Any) -> None:
        held.append(_sql(pg_store_url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'rostersync'")
                    [0][0])
        fetch(*args, **kwargs)

    monkeypatch.setattr(engine, "_stage", probed)
    enabled = EnabledConnector("csv-folder", {"path": str(bundle)})
    school = School("lincoln", "Lincoln", ("sch-lincoln",), {"csv-folder": enabled})
    with store_at(pg_store_url) as store:
        result = engine.sync_source(store, school, enabled)
    assert result is not None and result.status == "ok" and held == [0]


def test_a_resync_rewrites_only_the_rows_that_changed(store_target: str) -> None:
    """Unchanged rows are not rewritten (their row version, xmin, stays): no bloat, no WAL, no false
    audit rows; NULLs compare equal (IS DISTINCT FROM), so a row with empty fields is unchanged too."""
    from store_contract import BASE, sync, user

    with store_at(store_target, upgrade=True) as store:
        sync(store, BASE)
        before = dict(_sql(store_target, "SELECT sourced_id, xmin::text FROM users"))
        changed = [user("u1"), user("u2", "Kim"), user("u3", "Ng")]
        run_id, outcome = sync(store, {"orgs": BASE["orgs"], "users": changed})
        assert outcome.counts["users"]["updated"] == 1 and outcome.counts["users"]["unchanged"] == 2
    after = dict(_sql(store_target, "SELECT sourced_id, xmin::text FROM users"))
    assert after["u1"] == before["u1"] and after["u3"] == before["u3"] and after["u2"] != before["u2"]
    assert _sql(store_target, "SELECT count(*) FROM orgs WHERE updated_run = %s", [run_id]) == [(0,)]
