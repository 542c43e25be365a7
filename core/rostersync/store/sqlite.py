"""The SQLite store: the live roster, run history, the change audit, and per-run staging.

A run stages what it fetched in its own SQLite file (never mixed with live rows), then
:meth:`Store.apply` diffs staging against the live roster and, in **one** transaction, writes the
inserts/updates/soft-deletes, one ``changes`` row per change and the run's final status. A run that
fails before or during apply leaves the live tables exactly as they were.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import sqlite_utils

from rostersync.batches import MappedBatch
from rostersync.errors import ConfigError, DataError, RostersyncError
from rostersync.model import ENTITIES
from rostersync.safeguards import Safeguards
from rostersync.secrets import redact
from rostersync.store.schema import BOOKKEEPING, TABLES, StoredRows, TableSpec, staged_live

KEY = ("school", "source", "sourced_id")


def utcnow() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def q(name: str) -> str:
    """Quote an identifier for SQL (identifiers are never bound parameters)."""
    return '"' + name.replace('"', '""') + '"'


def _create_private(path: Path) -> None:
    """Create ``path`` readable by its owner only, before SQLite opens it."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


class Store:
    """The rostersync database. Open with :func:`open_store`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        _create_private(path)
        self.db = sqlite_utils.Database(path, execute_plugins=False)
        self.conn: sqlite3.Connection = self.db.conn
        self.conn.execute("PRAGMA journal_mode=WAL")
        # WAL with synchronous=NORMAL is always consistent; a power cut can lose only the last commits,
        # which a re-run restores. FULL would fsync the whole (large) WAL at every apply's commit.
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA busy_timeout=30000")
        self.conn.execute("PRAGMA foreign_keys=OFF")
        self._ensure_schema()

    # -- schema -----------------------------------------------------------------------------
    def _ensure_schema(self) -> None:
        db = self.db
        with db.atomic():
            for spec in TABLES.values():
                if not db[spec.entity].exists():
                    columns = {"school": str, "source": str, **spec.types, **BOOKKEEPING}
                    db[spec.entity].create(columns, pk=KEY, not_null={"school", "source", "sourced_id"})
                    db.execute(
                        f"CREATE VIEW IF NOT EXISTS {q('current_' + spec.entity)} AS "
                        f"SELECT * FROM {q(spec.entity)} WHERE deleted_at IS NULL"
                    )
            if not db["sync_runs"].exists():
                db["sync_runs"].create(
                    {"id": int, "school": str, "source": str, "started_at": str, "finished_at": str,
                     "status": str, "counts": str, "error": str, "state": str, "warnings": int, "mode": str,
                     "approved_at": str},
                    pk="id", not_null={"school", "source", "started_at", "status"},
                )
                db["sync_runs"].create_index(["school", "source", "id"])
            if not db["changes"].exists():
                db["changes"].create(
                    {"id": int, "run_id": int, "entity": str, "school": str, "source": str,
                     "sourced_id": str, "action": str, "fields": str},
                    pk="id", not_null={"run_id", "entity", "sourced_id", "action"},
                )
                db["changes"].create_index(["run_id", "entity"])
            if not db["run_issues"].exists():
                db["run_issues"].create(
                    {"id": int, "run_id": int, "level": str, "message": str}, pk="id",
                )
                db["run_issues"].create_index(["run_id"])

    # -- runs -------------------------------------------------------------------------------
    def begin_run(self, school: str, source: str) -> int:
        cur = self.db.execute(
            "INSERT INTO sync_runs (school, source, started_at, status) VALUES (?, ?, ?, 'running')",
            [school, source, utcnow()],
        )
        return int(cur.lastrowid or 0)

    def fail_run(self, run_id: int, error: str, counts: dict[str, Any] | None = None) -> None:
        self.db.execute(
            "UPDATE sync_runs SET status='failed', finished_at=?, error=?, counts=? WHERE id=?",
            [utcnow(), redact(error), json.dumps(counts or {}), run_id],
        )

    def skip_run(self, run_id: int, reason: str) -> None:
        """A run that rightly did nothing (no new data, blackout...): the roster is untouched."""
        self.db.execute(
            "UPDATE sync_runs SET status='skipped', finished_at=?, error=? WHERE id=?",
            [utcnow(), redact(reason), run_id],
        )

    def last_started(self, school: str, source: str) -> dt.datetime | None:
        """When the newest run of this source started (any outcome): `run --due` compares it to cron."""
        row = self.conn.execute(
            "SELECT max(started_at) FROM sync_runs WHERE school=? AND source=?", [school, source]
        ).fetchone()
        if not row or not row[0]:
            return None
        return dt.datetime.strptime(row[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)

    def add_warning(self, run_id: int, message: str) -> None:
        """A warning about a run that has already finished (e.g. from work done after it committed)."""
        with self.db.atomic():
            self.db.execute("INSERT INTO run_issues (run_id, level, message) VALUES (?, 'warning', ?)",
                            [run_id, message])
            self.db.execute("UPDATE sync_runs SET warnings = coalesce(warnings, 0) + 1 WHERE id=?", [run_id])

    def last_state(self, school: str, source: str) -> dict[str, Any]:
        """The connector state left by the last successful run of this source (delta cursors...)."""
        row = self.conn.execute(
            "SELECT state FROM sync_runs WHERE school=? AND source=? AND status='ok' ORDER BY id DESC LIMIT 1",
            [school, source],
        ).fetchone()
        return json.loads(row[0]) if row and row[0] else {}

    def run(self, run_id: int) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM sync_runs WHERE id=?", [run_id]))
        return _decode_run(rows[0]) if rows else None

    def runs(self, school: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        where, params = ("WHERE school=?", [school]) if school else ("", [])
        sql = f"SELECT * FROM sync_runs {where} ORDER BY id DESC LIMIT ?"
        return [_decode_run(r) for r in self.db.query(sql, [*params, limit])]

    def latest_runs(self) -> list[dict[str, Any]]:
        """The newest run of every (school, source)."""
        sql = ("SELECT * FROM sync_runs WHERE id IN (SELECT max(id) FROM sync_runs GROUP BY school, source) "
               "ORDER BY school, source")
        return [_decode_run(r) for r in self.db.query(sql)]

    def changes(self, run_id: int, entity: str | None = None, limit_per_entity: int = 0) -> list[dict[str, Any]]:
        where, params = "run_id=?", [run_id]
        if entity:
            where, params = where + " AND entity=?", [run_id, entity]
        if limit_per_entity:
            sql = (f"SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY entity ORDER BY id) AS n "
                   f"FROM changes WHERE {where}) WHERE n <= ? ORDER BY id")
            params = [*params, limit_per_entity]
        else:
            sql = f"SELECT * FROM changes WHERE {where} ORDER BY id"
        rows = self.db.query(sql, params)
        return [{k: v for k, v in r.items() if k != "n"} | {"fields": json.loads(r["fields"]) if r["fields"] else None}
                for r in rows]

    def issues(self, run_id: int) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT level, message FROM run_issues WHERE run_id=? ORDER BY id", [run_id]))

    def live_counts(self, school: str) -> dict[str, int]:
        return {
            entity: self.conn.execute(
                f"SELECT count(*) FROM {q(entity)} WHERE school=? AND deleted_at IS NULL", [school]
            ).fetchone()[0]
            for entity in TABLES
        }

    # -- staging and apply --------------------------------------------------------------------
    def staging_path(self, run_id: int) -> Path:
        folder = self.path.with_name(self.path.name + ".staging")
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder / f"run-{run_id}.db"

    def staging(self, run_id: int) -> StagingArea:
        return StagingArea(self.staging_path(run_id), run_id)

    def apply(self, run_id: int, school: str, source: str, staging: StagingArea, policy: ApplyPolicy,
              state: dict[str, Any] | None = None) -> ApplyOutcome:
        """Diff staging against the live roster and, in one transaction, apply it with its audit.

        The diff is written to ``changes`` first; then the safeguards look at the counts. A dry run
        rolls everything back; a held run commits only its pending ``changes`` rows and keeps its
        staging file for ``approve``/``discard``; otherwise the roster rows are written too.
        """
        staging.finish()
        staging.close()
        now = utcnow()
        preview: list[dict[str, Any]] = []
        self.conn.execute("ATTACH DATABASE ? AS stg", [str(staging.path)])
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.execute("DELETE FROM changes WHERE run_id=?", [run_id])  # a re-applied hold
                entities = self.conn.execute(
                    "SELECT entity, mode, fetched, out_of_scope FROM stg._entities ORDER BY position"
                ).fetchall()
                # diffed in name order: ``changes`` is indexed on (run_id, entity), so each entity's audit
                # rows then append at the index's end rather than split pages in its middle (half the
                # cost for millions of rows); the counts keep the dependency order
                diffed = {entity: self._diff_entity(TABLES[entity], mode, run_id, school, source, policy.add_only)
                          for entity, mode, _f, _o in sorted(entities)}
                counts = {entity: {**diffed[entity], "fetched": fetched, "out_of_scope": out_of_scope}
                          for entity, _m, fetched, out_of_scope in entities}
                reasons = policy.safeguards.reasons(counts) if policy.safeguards else []
                warnings = self.conn.execute("SELECT count(*) FROM stg._issues").fetchone()[0]
                if policy.dry_run:
                    if policy.preview_limit:
                        preview = self.changes(run_id, limit_per_entity=policy.preview_limit)
                    self.conn.execute("ROLLBACK")
                    status = "dry-run"
                else:
                    status = "held" if reasons else "ok"
                    if status == "ok":
                        for entity, _mode, _f, _o in entities:
                            self._write_entity(TABLES[entity], run_id, school, source, now, counts[entity])
                    self.conn.execute(
                        "INSERT INTO run_issues (run_id, level, message) SELECT ?, level, message FROM stg._issues",
                        [run_id],
                    )
                    self.conn.execute(
                        "UPDATE sync_runs SET status=?, finished_at=?, counts=?, state=?, warnings=?, error=?, "
                        "mode=? WHERE id=?",
                        [status, utcnow(), json.dumps(_public(counts)), json.dumps(state or {}), warnings,
                         "; ".join(reasons) or None, "add-only" if policy.add_only else "mirror", run_id],
                    )
                    self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        finally:
            self.conn.execute("DETACH DATABASE stg")
        if status == "dry-run":
            self.db.execute(
                "UPDATE sync_runs SET status='dry-run', finished_at=?, counts=?, warnings=? WHERE id=?",
                [utcnow(), json.dumps(_public(counts)), warnings, run_id],
            )
        if status != "held":
            staging.discard()
        return ApplyOutcome(status, _public(counts), reasons, warnings, preview)

    def _diff_entity(self, spec: TableSpec, mode: str, run_id: int, school: str, source: str,
                     add_only: bool) -> dict[str, int]:
        """Write one ``changes`` row per insert/update/restore/delete this entity's staging implies."""
        t = q(spec.entity)
        scope = {"run": run_id, "school": school, "source": source, "entity": spec.entity}
        live_match = "l.school=:school AND l.source=:source AND l.sourced_id=s.sourced_id"
        ex = self.conn.execute
        counts = {"inserted": 0, "updated": 0, "restored": 0, "deleted": 0, "delete_skipped": 0, "unchanged": 0}
        counts["current"] = ex(
            f"SELECT count(*) FROM main.{t} WHERE school=:school AND source=:source AND deleted_at IS NULL", scope
        ).fetchone()[0]
        staged = ex(f"SELECT count(*) FROM stg.{t} WHERE _deleted=0").fetchone()[0]
        counts["staged"], counts["bulk"] = staged, int(mode == "bulk")

        # a source's first sync of an entity: every staged row is an insert, no live row to look up
        first = ex(f"SELECT NOT EXISTS (SELECT 1 FROM main.{t} WHERE school=:school AND source=:source)",
                   scope).fetchone()[0]
        if first:
            counts["inserted"] = ex(
                f"INSERT INTO changes (run_id, entity, school, source, sourced_id, action) "
                f"SELECT :run, :entity, :school, :source, s.sourced_id, 'insert' FROM stg.{t} s WHERE s._deleted=0",
                scope,
            ).rowcount
            counts["unchanged"] = staged - counts["inserted"]
            return counts

        # inserts, updates and restores in one pass over staging (one live lookup per staged row); the
        # audit records before/after of each changed field of an update or restore (streamed)
        cols = spec.columns
        sel = ", ".join(f"s.{q(c)}" for c in cols) + ", " + ", ".join(f"l.{q(c)}" for c in cols)
        changed = ex(
            f"SELECT s.sourced_id, l.sourced_id IS NULL, l.deleted_at, {sel} FROM stg.{t} s "
            f"LEFT JOIN main.{t} l ON {live_match} WHERE s._deleted=0 "
            f"AND (l.sourced_id IS NULL OR l.deleted_at IS NOT NULL OR {_differs('l', 's', cols)})",
            scope,
        )
        n = len(cols)

        def audit() -> Iterator[tuple]:
            for row in changed:
                if row[1]:
                    counts["inserted"] += 1
                    yield run_id, spec.entity, school, source, row[0], "insert", None
                    continue
                new, old = row[3:3 + n], row[3 + n:]
                diff = {c: [o, v] for c, v, o in zip(cols, new, old, strict=True) if v != o}
                action = "restore" if row[2] is not None else "update"
                counts["restored" if action == "restore" else "updated"] += 1
                yield run_id, spec.entity, school, source, row[0], action, json.dumps(diff, ensure_ascii=False)

        self.conn.executemany(
            "INSERT INTO changes (run_id, entity, school, source, sourced_id, action, fields) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", audit(),
        )

        gone = _gone(t, mode)
        live = "l.school=:school AND l.source=:source AND l.deleted_at IS NULL"
        if add_only:
            sql = f"SELECT count(*) FROM main.{t} l WHERE {live} AND {gone}"
            counts["delete_skipped"] = ex(sql, scope).fetchone()[0]
        else:
            counts["deleted"] = ex(
                f"INSERT INTO changes (run_id, entity, school, source, sourced_id, action) "
                f"SELECT :run, :entity, :school, :source, l.sourced_id, 'delete' FROM main.{t} l "
                f"WHERE {live} AND {gone}",
                scope,
            ).rowcount
        counts["unchanged"] = staged - counts["inserted"] - counts["updated"] - counts["restored"]
        return counts

    def _write_entity(self, spec: TableSpec, run_id: int, school: str, source: str, now: str,
                      counts: dict[str, int]) -> None:
        """Apply an entity's staging to its live table as the diff recorded it in ``changes``: soft-delete
        the rows it deletes, then upsert the rows it inserts, updates or restores. Driving both from
        the run's ``changes`` rows means a nightly sync touches only what changed, not every staged row."""
        t = q(spec.entity)
        scope = {"run": run_id, "school": school, "source": source, "now": now, "entity": spec.entity}
        ours = "SELECT c.sourced_id FROM changes c WHERE c.run_id=:run AND c.entity=:entity AND c.action"
        if counts["deleted"]:
            self.conn.execute(
                f"UPDATE main.{t} SET deleted_at=:now, deleted_run=:run WHERE school=:school AND source=:source "
                f"AND sourced_id IN ({ours} = 'delete')",
                scope,
            )
        written = counts["inserted"] + counts["updated"] + counts["restored"]
        if not written:
            return
        # everything new (a first sync): read staging straight through rather than row by row via changes
        changed = f" AND s.sourced_id IN ({ours} IN ('insert', 'update', 'restore'))"
        only = "" if written == counts["staged"] else changed
        cols = spec.columns
        collist = ", ".join(q(c) for c in cols)
        sets = ", ".join(f"{q(c)}=excluded.{q(c)}" for c in cols)
        self.conn.execute(
            f"INSERT INTO main.{t} (school, source, {collist}, created_run, updated_run) "
            f"SELECT :school, :source, {', '.join('s.' + q(c) for c in cols)}, :run, :run "
            f"FROM stg.{t} s WHERE s._deleted=0{only} "
            f"ON CONFLICT (school, source, sourced_id) DO UPDATE SET {sets}, "
            f"updated_run=:run, deleted_at=NULL, deleted_run=NULL "
            f"WHERE {_differs(t, 'excluded', cols)} OR {t}.deleted_at IS NOT NULL",
            scope,
        )

    # -- holds ----------------------------------------------------------------------------------
    def holds(self) -> list[dict[str, Any]]:
        return [_decode_run(r) for r in self.db.query("SELECT * FROM sync_runs WHERE status='held' ORDER BY id")]

    def pending_hold(self, school: str, source: str) -> int | None:
        row = self.conn.execute(
            "SELECT id FROM sync_runs WHERE school=? AND source=? AND status='held' ORDER BY id DESC LIMIT 1",
            [school, source],
        ).fetchone()
        return row[0] if row else None

    def _held(self, run_id: int) -> dict[str, Any]:
        rows = list(self.db.query("SELECT * FROM sync_runs WHERE id=?", [run_id]))
        if not rows:
            raise ConfigError(f"no run {run_id} (see rostersync history)")
        if rows[0]["status"] != "held":
            raise ConfigError(f"run {run_id} is {rows[0]['status']}, not held (see rostersync holds)")
        return rows[0]

    def approve(self, run_id: int) -> ApplyOutcome:
        """Apply a held run exactly as it was staged (safeguards off; the run's own mode)."""
        run = self._held(run_id)
        newer = self.conn.execute(
            "SELECT id FROM sync_runs WHERE school=? AND source=? AND id>? AND status='ok'",
            [run["school"], run["source"], run_id],
        ).fetchone()
        if newer:
            raise ConfigError(f"run {newer[0]} applied after run {run_id} was held; its diff is stale. "
                              f"Discard it: rostersync discard {run_id}")
        path = self.staging_path(run_id)
        if not path.is_file():
            raise ConfigError(f"the staged data of run {run_id} is gone ({path}); discard it and sync again")
        policy = ApplyPolicy(safeguards=None, add_only=run["mode"] == "add-only")
        state = json.loads(run["state"]) if run["state"] else {}
        outcome = self.apply(run_id, run["school"], run["source"], StagingArea.reopen(path, run_id), policy, state)
        self.db.execute("UPDATE sync_runs SET approved_at=?, error=NULL WHERE id=?", [utcnow(), run_id])
        return outcome

    def discard(self, run_id: int) -> None:
        """Drop a held run: its staged data and pending changes go, the roster stays as it is."""
        self._held(run_id)
        with self.db.atomic():
            self.db.execute("DELETE FROM changes WHERE run_id=?", [run_id])
            self.db.execute("UPDATE sync_runs SET status='discarded', finished_at=? WHERE id=?", [utcnow(), run_id])
        self.staging_path(run_id).unlink(missing_ok=True)

    def recover_interrupted(self, school: str, source: str) -> list[int]:
        """Runs of this source still 'running' belong to a process that died (the caller holds the
        source lock, so none is alive): mark them failed and drop their staging files."""
        ids = [r[0] for r in self.conn.execute(
            "SELECT id FROM sync_runs WHERE school=? AND source=? AND status='running'", [school, source])]
        for run_id in ids:
            self.fail_run(run_id, "interrupted: the process running this sync stopped before it finished")
            self.staging_path(run_id).unlink(missing_ok=True)
        return ids

    def close(self) -> None:
        self.db.close()


def _differs(a: str, b: str, cols: tuple[str, ...]) -> str:
    """SQL: rows ``a`` and ``b`` differ in a stored column. Compared in SQLite's C, column by column:
    cheaper than hashing every row in Python, and exact (NULL-safe ``IS``)."""
    return "NOT (" + " AND ".join(f"{a}.{q(c)} IS {b}.{q(c)}" for c in cols) + ")"


def _gone(t: str, mode: str) -> str:
    """SQL: the live row ``l`` is deleted by this run (bulk: missing from staging; delta: sent as tobedeleted)."""
    if mode == "bulk":
        return f"NOT EXISTS (SELECT 1 FROM stg.{t} s WHERE s.sourced_id = l.sourced_id{staged_live('s', mode)})"
    return f"EXISTS (SELECT 1 FROM stg.{t} s WHERE s.sourced_id = l.sourced_id AND s._deleted=1)"


def _public(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Counts as reported: without the internal staged/bulk markers."""
    return {e: {k: v for k, v in c.items() if k not in ("staged", "bulk")} for e, c in counts.items()}


@attrs.frozen
class ApplyPolicy:
    """How to apply a run: which safeguards hold it, add-only (no deletes), or a dry run."""

    safeguards: Safeguards | None = attrs.Factory(Safeguards)
    add_only: bool = False
    dry_run: bool = False
    preview_limit: int = 0  # dry runs: how many changes per entity to return for display


@attrs.frozen
class ApplyOutcome:
    status: str  # ok | held | dry-run
    counts: dict[str, dict[str, int]]
    reasons: list[str] = attrs.Factory(list)
    warnings: int = 0
    preview: list[dict[str, Any]] = attrs.Factory(list)


def _decode_run(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["counts"] = json.loads(row["counts"]) if row.get("counts") else {}
    out.pop("state", None)
    return out


def open_store(path: Path) -> Store:
    return Store(Path(path))


class StagingArea:
    """One run's staged rows, in a private SQLite file of its own (discarded after apply)."""

    def __init__(self, path: Path, run_id: int) -> None:
        self.path = path
        self.run_id = run_id
        self.conn: sqlite3.Connection | None = None
        if path.exists():
            path.unlink()
        _create_private(path)
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute(
            "CREATE TABLE _entities (entity TEXT PRIMARY KEY, mode TEXT NOT NULL, position INTEGER, "
            "fetched INTEGER NOT NULL DEFAULT 0, out_of_scope INTEGER NOT NULL DEFAULT 0)"
        )
        self.conn.execute("CREATE TABLE _issues (level TEXT, message TEXT)")
        # _files: the file each staged row came from (``_file``), for file:line in reports;
        # _out_of_scope: ids the school's scope dropped, so references to them are not called dangling
        self.conn.execute("CREATE TABLE _files (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
        self.conn.execute("CREATE TABLE _out_of_scope (entity TEXT, sourced_id TEXT)")
        self._modes: dict[str, str] = {}
        self._locations: dict[str, str] = {}
        self._indexed: set[str] = set()
        self._file_ids: dict[str, int] = {}
        #: what a second row with a staged sourcedId does: "error" (refuse the run) or "skip" (warn)
        self.on_duplicate = "error"

    @classmethod
    def reopen(cls, path: Path, run_id: int) -> StagingArea:
        """A held run's staging file, for approve (read by apply through ATTACH; not written)."""
        area = cls.__new__(cls)
        area.path, area.run_id, area.conn = path, run_id, None
        area._modes, area._locations, area._indexed = {}, {}, set()
        area._file_ids, area.on_duplicate = {}, "error"
        return area

    def declare(self, entity: str, mode: str, location: str) -> None:
        """Say that this run carries ``entity`` (even with no rows: an empty bulk file is a statement)."""
        if entity in self._modes:
            if self._modes[entity] != mode:
                raise RostersyncError(f"{location}: {entity} is both bulk and delta in one run")
            return
        self.finish()  # the entities before this one are complete: index them
        spec = TABLES[entity]
        cols = ", ".join(f"{q(c)} {'INTEGER' if spec.types[c] is int else 'TEXT'}" for c in spec.columns
                         if c != "sourced_id")
        self.conn.execute(
            f"CREATE TABLE {q(entity)} (sourced_id TEXT NOT NULL, {cols}, "
            f"_deleted INTEGER NOT NULL DEFAULT 0, _line INTEGER, _file INTEGER)"
        )
        self.conn.execute(
            "INSERT INTO _entities (entity, mode, position) VALUES (?, ?, ?)",
            [entity, mode, list(ENTITIES).index(entity)],
        )
        self._modes[entity] = mode
        self._locations[entity] = location

    def write(self, batch: MappedBatch) -> int:
        """Stage a batch in one transaction. A sourcedId seen twice in one run is an error naming both."""
        entity, mode = batch.entity, batch.mode
        self.declare(entity, mode, batch.location)
        lines = batch.lines or [None] * len(batch.records)
        file_id = self._file_id(batch.location)
        columns, rows = self._rows(batch, lines)
        collist = ", ".join(q(c) for c in columns)
        placeholders = ", ".join("?" for _ in range(len(columns) + 2))
        sql = f"INSERT INTO {q(entity)} ({collist}, _deleted, _line, _file) VALUES ({placeholders}, {int(file_id)})"
        self.conn.execute("BEGIN")
        try:
            self.conn.executemany(sql, rows)
        except sqlite3.IntegrityError:  # only once the entity is indexed (see finish)
            self.conn.execute("ROLLBACK")
            if self.on_duplicate != "skip":
                self._raise_duplicate(batch, lines)
                raise
            self.conn.execute("BEGIN")
            self.conn.executemany(sql, self._skip_duplicates(batch, list(self._rows(batch, lines)[1]), lines))
        self.conn.execute("UPDATE _entities SET fetched = fetched + ? WHERE entity=?", [len(batch.records), entity])
        self.warn(batch.warnings)
        self.conn.execute("COMMIT")
        return len(batch.records)

    @staticmethod
    def _rows(batch: MappedBatch, lines: Sequence[int | None]) -> tuple[Sequence[str], Iterator[tuple]]:
        """The columns to write and ``(*their values, _deleted, _line)`` per record, leaving out the
        columns that are NULL throughout the batch (the table's default; binding NULLs is most of the
        cost of a sparse row). Records are converted to stored columns first; the CSV fast path's rows
        already are."""
        spec = TABLES[batch.entity]
        records = batch.records
        stored = records if isinstance(records, StoredRows) else StoredRows.from_records(spec, records)
        size = len(stored)
        kept = [i for i, values in enumerate(stored.columns) if not size or values.count(None) != size]
        values = [stored.columns[i] for i in kept]
        if batch.mode == "delta":  # a delta's tobedeleted rows are staged as deletions
            deleted: Iterable[int] = [int(s == "tobedeleted") for s in stored.column("status")]
        else:  # never in bulk: staged_live() relies on it
            deleted = itertools.repeat(0)
        return [spec.columns[i] for i in kept], zip(*values, deleted, lines, strict=False)  # deleted may repeat

    def finish(self) -> None:
        """Index what has been staged. Building the unique sourcedId index once, after the rows are in,
        is several times cheaper than maintaining it row by row; a duplicate fails it and is reported
        with the lines of both occurrences."""
        if self.conn is None:
            return
        for entity in self._modes.keys() - self._indexed:
            index = f"CREATE UNIQUE INDEX {q('ux_' + entity)} ON {q(entity)} (sourced_id)"
            try:
                self.conn.execute(index)
            except sqlite3.IntegrityError:
                dupes = self._staged_duplicates(entity)
                if self.on_duplicate != "skip":
                    _rowid, where, line, message = dupes[0]
                    raise DataError(message, where, line, "sourcedId") from None
                # the duplicate policy "skip": keep the first row of each sourcedId, warn about the others
                self.conn.execute("BEGIN")
                self.conn.executemany(f"DELETE FROM {q(entity)} WHERE rowid = ?", [(d[0],) for d in dupes])
                self.warn([f"{where}:{line}:sourcedId: skipped: {message}" for _r, where, line, message in dupes])
                self.conn.execute("COMMIT")
                self.conn.execute(index)
            self._indexed.add(entity)

    def _staged_duplicates(self, entity: str) -> list[tuple[int, str, int | None, str]]:
        """(rowid, file, line, message) of every staged row repeating an earlier row's sourcedId."""
        t = q(entity)
        rows = self.conn.execute(
            f"SELECT d.rowid, d.sourced_id, d._line, fd.name, f._line, ff.name FROM {t} d "
            f"JOIN (SELECT sourced_id, min(rowid) AS first FROM {t} GROUP BY sourced_id HAVING count(*) > 1) g "
            f"ON g.sourced_id = d.sourced_id JOIN {t} f ON f.rowid = g.first "
            f"LEFT JOIN _files fd ON fd.id = d._file LEFT JOIN _files ff ON ff.id = f._file "
            f"WHERE d.rowid != g.first ORDER BY d.rowid"
        ).fetchall()
        out = []
        for rowid, sid, line, where, first, first_where in rows:
            where = where or self._locations[entity]
            out.append((rowid, where, line, _duplicate_message(sid, first, first_where or where, where)))
        return out

    def _file_id(self, location: str) -> int:
        if location not in self._file_ids:
            self.conn.execute("INSERT OR IGNORE INTO _files (name) VALUES (?)", [location])
            self._file_ids[location] = self.conn.execute("SELECT id FROM _files WHERE name=?", [location]).fetchone()[0]
        return self._file_ids[location]

    def _duplicates(self, batch: MappedBatch, lines: Sequence[int | None]) -> Iterator[tuple[int, str]]:
        """(index in batch, message) for each record whose sourcedId is already staged or repeats."""
        seen: dict[str, int | None] = {}
        for n, (record, line) in enumerate(zip(batch.records, lines, strict=True)):
            sid = record.sourced_id
            earlier = self.conn.execute(
                f"SELECT s._line, f.name FROM {q(batch.entity)} s LEFT JOIN _files f ON f.id = s._file "
                f"WHERE s.sourced_id=?", [sid]
            ).fetchone()
            if sid in seen or earlier:
                first, where = (seen.get(sid), batch.location) if sid in seen else earlier
                yield n, _duplicate_message(sid, first, where, batch.location)
            else:
                seen[sid] = line

    def _raise_duplicate(self, batch: MappedBatch, lines: Sequence[int | None]) -> None:
        for n, message in self._duplicates(batch, lines):
            raise DataError(message, batch.location, lines[n], "sourcedId")

    def _skip_duplicates(self, batch: MappedBatch, rows: list[tuple], lines: Sequence[int | None]) -> list[tuple]:
        """The duplicate policy "skip" for a batch: keep the first row of each sourcedId, warn about the others."""
        dupes = dict(self._duplicates(batch, lines))
        self.warn([f"{batch.location}:{lines[n]}:sourcedId: skipped: {m}" for n, m in dupes.items()])
        return [row for n, row in enumerate(rows) if n not in dupes]

    def count_out_of_scope(self, entity: str, n: int, ids: Sequence[str] = ()) -> None:
        """Rows the source sent that belong to other schools (not staged, reported in the counts).
        ``ids`` (when others may refer to them) lets the reference checks tell them from dangling ids."""
        if n:
            self.conn.execute("UPDATE _entities SET out_of_scope = out_of_scope + ? WHERE entity=?", [n, entity])
        if ids:
            self.conn.executemany("INSERT INTO _out_of_scope (entity, sourced_id) VALUES (?, ?)",
                                  [(entity, i) for i in ids])

    def staged_ids(self, entity: str, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` this run has staged for ``entity``."""
        if entity not in self._modes or not ids:
            return set()
        if entity not in self._indexed:
            self.finish()
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            sql = f"SELECT sourced_id FROM {q(entity)} WHERE sourced_id IN ({', '.join('?' * len(chunk))})"
            found.update(r[0] for r in self.conn.execute(sql, chunk))
        return found

    def warn(self, messages: Sequence[str]) -> None:
        """Record warnings (skipped or repaired rows) for the run's report."""
        self.conn.executemany("INSERT INTO _issues (level, message) VALUES ('warning', ?)",
                              [(redact(m),) for m in messages])

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


def _duplicate_message(sid: str, first: int | None, first_file: str | None, file: str) -> str:
    also = "" if not first else (f" (first seen on line {first})" if first_file == file
                                 else f" (first seen at {first_file}:{first})")
    return f"duplicate sourcedId {sid!r}{also}: sourcedIds must be unique"


@contextmanager
def store_at(path: Path) -> Iterator[Store]:
    store = open_store(path)
    try:
        yield store
    finally:
        store.close()
