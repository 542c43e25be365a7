"""The PostgreSQL store (:class:`rostersync.store.base.Store` on one PostgreSQL database).

Same semantics as the SQLite store, checked by the same contract tests (``tests/store_contract.py``):
soft deletes and restores, one ``changes`` row per change, safeguards and holds approved exactly as
staged, add-only, dry runs, deltas, delta cursors. What differs is where things live:

* a run still stages into a private SQLite file on the host that fetches (where the reference checks
  run in SQLite's C); apply COPYs it into the database (:mod:`rostersync.store.pg.apply`), so a held
  run is approved from any host;
* the per-source lock is a lease row (:mod:`rostersync.store.pg.lease`);
* each call opens and closes its own connection (:mod:`rostersync.store.pg.database`);
* the schema is upgraded only by ``rostersync db upgrade`` (``upgrades_on_open=False``): a worker
  never runs DDL, and refuses an older schema.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from rostersync.errors import ConfigError
from rostersync.issues import Issue
from rostersync.secrets import SecretRef, redact
from rostersync.store import shared
from rostersync.store.base import ApplyOutcome, ApplyPolicy, ChangeRow, NotificationRow, RunRow, SchemaVersion
from rostersync.store.pg import apply as pg_apply
from rostersync.store.pg import lease, migrations
from rostersync.store.pg.database import Database
from rostersync.store.pg.pages import PgPageReads
from rostersync.store.schema import TABLES
from rostersync.store.sqlfiles import q
from rostersync.store.staging import StagingArea, stored_issue

utcnow = pg_apply.utcnow
ISSUE_COLUMNS = pg_apply.ISSUE_COLUMNS
INTERRUPTED = "interrupted: the process running this sync stopped before it finished"


def connect(target: str, password: SecretRef | None = None) -> PostgresStore:
    return PostgresStore(Database(target, password))


class PostgresStore(PgPageReads):
    """The rostersync database in PostgreSQL. Open it with :func:`rostersync.store.open_store`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        #: who holds this store's source leases; a queued job sets ``job:ID`` (see :mod:`.lease`)
        self.lock_holder: str | None = None

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self.db.connect() as conn:
            row = conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        from psycopg.rows import dict_row

        with self.db.connect() as conn:
            return conn.cursor(row_factory=dict_row).execute(sql, params).fetchall()

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.db.connect() as conn:
            conn.execute(sql, params)

    # -- schema -----------------------------------------------------------------------------
    def schema_version(self) -> SchemaVersion:
        with self.db.connect() as conn:
            return SchemaVersion(migrations.schema_version(conn), migrations.LATEST)

    def upgrade(self) -> list[int]:
        """Apply the pending migrations, then install the job queue's tables (procrastinate's schema,
        for ``rostersync worker``) if they are missing."""
        with self.db.connect(autocommit=True) as conn:
            applied = migrations.upgrade(conn, self.db.url)
            from rostersync.queue.schema import install

            install(conn)
        return applied

    def verify_schema(self) -> None:
        with self.db.connect() as conn:
            migrations.verify(conn, self.db.url)

    def close(self) -> None:
        """Nothing to close: every call closed its own connection."""

    # -- runs -------------------------------------------------------------------------------
    def begin_run(self, school: str, source: str, job: str | None = None) -> int:
        return int(self._one("INSERT INTO sync_runs (school, source, started_at, status, job_id) "
                             "VALUES (%s, %s, %s, 'running', %s) RETURNING id", [school, source, utcnow(), job]))

    def fail_run(self, run_id: int, error: str, counts: dict[str, Any] | None = None) -> None:
        self._execute("UPDATE sync_runs SET status='failed', finished_at=%s, error=%s, counts=%s WHERE id=%s",
                      [utcnow(), redact(error), json.dumps(counts or {}), run_id])

    def skip_run(self, run_id: int, reason: str) -> None:
        self._execute("UPDATE sync_runs SET status='skipped', finished_at=%s, error=%s WHERE id=%s",
                      [utcnow(), redact(reason), run_id])

    def add_warning(self, run_id: int, issue: Issue | str) -> None:
        self.add_issues(run_id, [Issue.of(issue)])

    def add_issues(self, run_id: int, issues: Iterable[Issue]) -> None:
        """One COPY and the run's warning count, in one transaction."""
        stored = list(map(stored_issue, issues))
        if stored:
            with self.db.connect() as conn:
                pg_apply.copy_issues(conn, run_id, stored)
                conn.execute("UPDATE sync_runs SET warnings = coalesce(warnings, 0) + %s WHERE id=%s",
                             [len(stored), run_id])

    def last_state(self, school: str, source: str) -> dict[str, Any]:
        state = self._one("SELECT state FROM sync_runs WHERE school=%s AND source=%s AND status='ok' "
                          "ORDER BY id DESC LIMIT 1", [school, source])
        return json.loads(state) if state else {}

    def last_started(self, school: str, source: str) -> dt.datetime | None:
        started = self._one("SELECT max(started_at) FROM sync_runs WHERE school=%s AND source=%s", [school, source])
        if not started:
            return None
        return dt.datetime.strptime(started, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)

    def run(self, run_id: int) -> RunRow | None:
        rows = self._rows("SELECT * FROM sync_runs WHERE id=%s", [run_id])
        return _decode_run(rows[0]) if rows else None

    def runs(self, school: str | None = None, limit: int = 50) -> list[RunRow]:
        where, params = ("WHERE school=%s", [school]) if school else ("", [])
        return [_decode_run(r) for r in self._rows(f"SELECT * FROM sync_runs {where} ORDER BY id DESC LIMIT %s",
                                                   [*params, limit])]

    def latest_runs(self) -> list[RunRow]:
        sql = ("SELECT * FROM sync_runs WHERE id IN (SELECT max(id) FROM sync_runs GROUP BY school, source) "
               "ORDER BY school, source")
        return [_decode_run(r) for r in self._rows(sql)]

    def job_run(self, job: str) -> RunRow | None:
        """The run that applied (or held) a queued job, if one did."""
        rows = self._rows("SELECT * FROM sync_runs WHERE job_id=%s AND status IN ('ok', 'held') ORDER BY id LIMIT 1",
                          [job])
        return _decode_run(rows[0]) if rows else None

    def changes(self, run_id: int, entity: str | None = None, limit_per_entity: int = 0) -> list[ChangeRow]:
        with self.db.connect() as conn:
            return pg_apply.changes_of(conn, run_id, entity, limit_per_entity)

    def issues(self, run_id: int) -> list[Issue]:
        with self.db.connect() as conn:
            rows = conn.execute(f"SELECT {ISSUE_COLUMNS} FROM run_issues WHERE run_id=%s ORDER BY id", [run_id])
            return [Issue.from_row(r) for r in rows]

    def live_counts(self, school: str) -> dict[str, int]:
        with self.db.connect() as conn:
            return {entity: conn.execute(f"SELECT count(*) FROM {q(entity)} WHERE school=%s AND deleted_at IS NULL",
                                         [school]).fetchone()[0] for entity in TABLES}

    def live_ids(self, school: str, source: str, entity: str, ids: Sequence[str], *,
                 schools_only: bool = False) -> set[str]:
        if entity not in TABLES:
            raise ValueError(f"unknown entity {entity!r}")
        if not ids:
            return set()
        kind = " AND type = 'school'" if schools_only else ""
        sql = (f"SELECT sourced_id FROM {q(entity)} WHERE school=%s AND source=%s AND deleted_at IS NULL{kind} "
               f"AND sourced_id = ANY(%s)")
        with self.db.connect() as conn:
            return {r[0] for r in conn.execute(sql, [school, source, list(ids)])}

    def live_rows(self, school: str, entity: str, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        sql = shared.live_rows_sql(entity, columns, "%s")
        with self.db.connect() as conn, conn.cursor(name="live_rows") as cursor:  # streamed, server-side
            cursor.itersize = 5000
            cursor.execute(sql, [school])
            yield from cursor

    def extra_keys(self, school: str, entity: str) -> list[str]:
        sql = (f"SELECT DISTINCT k FROM {q(entity)} t, jsonb_object_keys(t.extra::jsonb) k "
               f"WHERE t.school=%s AND t.deleted_at IS NULL AND t.extra IS NOT NULL ORDER BY k")
        with self.db.connect() as conn:
            return [k for (k,) in conn.execute(sql, [school])]

    # -- handing a roster to another source -------------------------------------------------
    def move_source(self, school: str, old: str, new: str) -> dict[str, int]:
        """One UPDATE per roster table in one transaction, under both sources' apply locks (no apply of
        either can interleave)."""
        shared.refuse_move(school, old, new, self.pending_hold(school, old))
        with self.db.connect() as conn:
            for source in sorted((old, new)):  # a fixed order: two moves cannot deadlock
                conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                             [pg_apply.source_key(school, source)])
            return shared.move_rows(school, old, new, lambda sql, params: bool(conn.execute(sql, params).fetchone()),
                                    lambda sql, params: conn.execute(sql, params).rowcount, "%s")

    # -- people ---------------------------------------------------------------------------------
    def duplicate_people(self, school: str | None, keys: Sequence[str]) -> list[dict[str, Any]]:
        from rostersync.masking import mask
        from rostersync.store.pg import identity

        where, params = ("AND u.school = %s", [school]) if school else ("", [])
        out: list[dict[str, Any]] = []
        with self.db.connect() as conn:
            for key in keys:
                out += [{"school": sc, "reason": f"same {key}", "value": v, "people": people}
                        for sc, v, people in conn.execute(identity.duplicate_people_sql(key, where), params)]
            sql = (f"SELECT u.school, d.birth_date, {identity.PEOPLE} FROM users u JOIN demographics d "
                   f"ON d.school = u.school AND d.source = u.source AND d.sourced_id = u.sourced_id "
                   f"AND d.deleted_at IS NULL WHERE u.deleted_at IS NULL {where} AND d.birth_date IS NOT NULL "
                   f"GROUP BY u.school, lower(trim(u.given_name)), lower(trim(u.family_name)), d.birth_date "
                   f"HAVING count(*) > 1")
            out += [{"school": sc, "reason": "same name and birth date",
                     "value": mask("demographics", "birth_date", v), "people": people}
                    for sc, v, people in conn.execute(sql, params)]
        for group in out:
            group["people"].sort(key=lambda p: (p["source"], p["sourced_id"]))
        return sorted(out, key=lambda g: (g["school"], g["reason"], str(g["value"])))

    # -- notifications ----------------------------------------------------------------------------
    def record_notification(self, channel: str, kind: str, status: str, detail: str | None = None,
                            run_id: int | None = None) -> None:
        self._execute("INSERT INTO notifications (run_id, channel, kind, status, detail, at) "
                      "VALUES (%s, %s, %s, %s, %s, %s)",
                      [run_id, channel, kind, status, redact(detail) if detail else None, utcnow()])

    def notifications(self, channel: str | None = None, kind: str | None = None, run_id: int | None = None,
                      limit: int = 100) -> list[NotificationRow]:
        found = [(column, value) for column, value in (("channel", channel), ("kind", kind), ("run_id", run_id))
                 if value is not None]
        where = ("WHERE " + " AND ".join(f"{column} = %s" for column, _v in found)) if found else ""
        return self._rows(f"SELECT * FROM notifications {where} ORDER BY id DESC LIMIT %s",
                          [*(v for _c, v in found), limit])  # type: ignore[return-value]

    # -- one sync per source ------------------------------------------------------------------
    def source_lock(self, school: str, source: str) -> AbstractContextManager[bool]:
        """A lease in ``source_locks`` (see :mod:`rostersync.store.pg.lease`)."""
        return lease.source_lease(self.db, school, source, self.lock_holder)

    def recover_interrupted(self, school: str, source: str) -> list[int]:
        """Mark the source's ``running`` runs failed (their process is gone: the caller holds the lease) and
        drop what they left: a staging file on this host. (Their staged rows in the database went with
        their rolled-back apply transaction.)"""
        with self.db.connect() as conn:
            ids = [r[0] for r in conn.execute(
                "UPDATE sync_runs SET status='failed', finished_at=%s, error=%s WHERE school=%s AND source=%s "
                "AND status='running' RETURNING id", [utcnow(), INTERRUPTED, school, source])]
        for run_id in sorted(ids):
            self.staging_path(run_id).unlink(missing_ok=True)
        return sorted(ids)

    # -- staging and apply --------------------------------------------------------------------
    def staging_path(self, run_id: int) -> Path:
        """Where a run of this database stages on this host (private; named by the database and run)."""
        digest = hashlib.sha256(self.db.url.encode()).hexdigest()[:12]
        folder = Path(tempfile.gettempdir()) / "rostersync-staging" / digest
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder / f"run-{run_id}.db"

    def staging(self, run_id: int) -> StagingArea:
        return StagingArea(self.staging_path(run_id), run_id)

    def apply(self, run_id: int, school: str, source: str, staging: StagingArea, policy: ApplyPolicy,
              state: dict[str, Any] | None = None) -> ApplyOutcome:
        """COPY ``staging`` in, diff and apply it in one transaction (see :mod:`rostersync.store.pg.apply`);
        the SQLite staging file goes whatever the outcome (a held run keeps its rows in the database)."""
        from rostersync.faults import fault_point

        staging.finish()
        try:
            with self.db.connect() as conn, conn.transaction():
                pg_apply.fence(conn, run_id, school, source, "running")
                entities = pg_apply.copy_staging(conn, run_id, staging)
                outcome = pg_apply.apply_staged(conn, run_id, school, source, entities, policy,
                                                pg_apply.staged_issues(staging), state,
                                                pg_apply.staged_sources(staging))
                if outcome.status == "dry-run":
                    raise pg_apply.psycopg_rollback()  # leaves the block, rolling everything back
                fault_point("apply")  # tests: a worker killed inside the apply transaction, before COMMIT
            if outcome.status == "dry-run":
                self._execute("UPDATE sync_runs SET status='dry-run', finished_at=%s, counts=%s, warnings=%s "
                              "WHERE id=%s", [utcnow(), json.dumps(outcome.counts), outcome.warnings, run_id])
        finally:
            staging.discard()
        return outcome

    # -- holds ----------------------------------------------------------------------------------
    def holds(self) -> list[RunRow]:
        return [_decode_run(r) for r in self._rows("SELECT * FROM sync_runs WHERE status='held' ORDER BY id")]

    def pending_hold(self, school: str, source: str) -> int | None:
        return self._one("SELECT id FROM sync_runs WHERE school=%s AND source=%s AND status='held' "
                         "ORDER BY id DESC LIMIT 1", [school, source])

    def _held(self, run_id: int) -> dict[str, Any]:
        rows = self._rows("SELECT * FROM sync_runs WHERE id=%s", [run_id])
        return shared.held(run_id, rows[0] if rows else None)

    def approve(self, run_id: int, identity: tuple[str, ...] = ()) -> ApplyOutcome:
        """Apply a held run exactly as it was staged (safeguards off; the run's own mode), from its rows in
        the database; refused when a later run applied since or a crash of the server emptied them."""
        run = self._held(run_id)
        school, source = run["school"], run["source"]
        with self.db.connect() as conn, conn.transaction():
            pg_apply.fence(conn, run_id, school, source, "held")
            newer = conn.execute("SELECT id FROM sync_runs WHERE school=%s AND source=%s AND id>%s AND status='ok' "
                                 "ORDER BY id LIMIT 1", [school, source, run_id]).fetchone()
            if newer:
                raise shared.stale_hold(run_id, newer[0])
            record = conn.execute("SELECT entities FROM run_staging WHERE run_id=%s", [run_id]).fetchone()
            entities = json.loads(record[0]) if record else []
            gone = pg_apply.missing_rows(conn, run_id, entities) if record else ["all of it"]
            if gone:
                raise ConfigError(f"the staged data of run {run_id} is gone ({', '.join(gone)}: the database "
                                  f"server restarted after a crash, which empties staging); discard it and sync "
                                  f"again: rostersync discard {run_id}")
            policy = ApplyPolicy(safeguards=None, add_only=run["mode"] == "add-only", identity=identity)
            state = json.loads(run["state"]) if run["state"] else {}
            outcome = pg_apply.apply_staged(conn, run_id, school, source, entities, policy, None, state)
            conn.execute("UPDATE sync_runs SET approved_at=%s, error=NULL WHERE id=%s", [utcnow(), run_id])
        return outcome

    def discard(self, run_id: int) -> None:
        """Drop a held run: its staged rows and pending changes go, the roster stays as it is."""
        self._held(run_id)
        with self.db.connect() as conn:
            conn.execute("DELETE FROM changes WHERE run_id=%s", [run_id])
            pg_apply.drop_staged(conn, run_id)
            conn.execute("UPDATE sync_runs SET status='discarded', finished_at=%s WHERE id=%s", [utcnow(), run_id])


def _decode_run(row: dict[str, Any]) -> Any:
    out = dict(row)
    out["counts"] = json.loads(row["counts"]) if row.get("counts") else {}
    out.pop("state", None)
    return out
