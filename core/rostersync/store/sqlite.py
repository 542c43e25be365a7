"""The SQLite store: the live roster, run history, the change audit, and per-run staging.

A run stages what it fetched in its own SQLite file (never mixed with live rows), then
:meth:`Store.apply` diffs staging against the live roster and, in **one** transaction, writes the
inserts/updates/soft-deletes, one ``changes`` row per change and the run's final status. A run that
fails before or during apply leaves the live tables exactly as they were.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from rostersync.batches import MappedBatch
from rostersync.errors import DataError, RostersyncError
from rostersync.model import ENTITIES
from rostersync.store.schema import BOOKKEEPING, TABLES, TableSpec, row_hash

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
                     "status": str, "counts": str, "error": str, "state": str, "warnings": int},
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
            [utcnow(), error, json.dumps(counts or {}), run_id],
        )

    def skip_run(self, run_id: int, reason: str) -> None:
        """A run that rightly did nothing (no new data, blackout...): the roster is untouched."""
        self.db.execute(
            "UPDATE sync_runs SET status='skipped', finished_at=?, error=? WHERE id=?", [utcnow(), reason, run_id]
        )

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

    def changes(self, run_id: int, entity: str | None = None) -> list[dict[str, Any]]:
        where, params = "run_id=?", [run_id]
        if entity:
            where, params = where + " AND entity=?", [run_id, entity]
        rows = self.db.query(f"SELECT * FROM changes WHERE {where} ORDER BY id", params)
        return [{**r, "fields": json.loads(r["fields"]) if r["fields"] else None} for r in rows]

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
    def staging(self, run_id: int) -> StagingArea:
        folder = self.path.with_name(self.path.name + ".staging")
        folder.mkdir(mode=0o700, exist_ok=True)
        return StagingArea(folder / f"run-{run_id}.db", run_id)

    def apply(self, run_id: int, school: str, source: str, staging: StagingArea,
              state: dict[str, Any] | None = None) -> dict[str, dict[str, int]]:
        """Diff staging against the live roster and apply it, with the audit, in one transaction."""
        staging.close()
        counts: dict[str, dict[str, int]] = {}
        now = utcnow()
        self.conn.execute("ATTACH DATABASE ? AS stg", [str(staging.path)])
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for entity, mode, fetched, out_of_scope in self.conn.execute(
                    "SELECT entity, mode, fetched, out_of_scope FROM stg._entities ORDER BY position"
                ).fetchall():
                    counts[entity] = self._apply_entity(TABLES[entity], mode, run_id, school, source, now)
                    counts[entity].update(fetched=fetched, out_of_scope=out_of_scope)
                self.conn.executemany(
                    "INSERT INTO run_issues (run_id, level, message) SELECT ?, level, message FROM stg._issues",
                    [[run_id]],
                )
                warnings = self.conn.execute("SELECT count(*) FROM stg._issues").fetchone()[0]
                self.conn.execute(
                    "UPDATE sync_runs SET status='ok', finished_at=?, counts=?, state=?, warnings=? WHERE id=?",
                    [utcnow(), json.dumps(counts), json.dumps(state or {}), warnings, run_id],
                )
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        finally:
            self.conn.execute("DETACH DATABASE stg")
        staging.discard()
        return counts

    def _apply_entity(self, spec: TableSpec, mode: str, run_id: int, school: str, source: str,
                      now: str) -> dict[str, int]:
        t = q(spec.entity)
        scope = {"run": run_id, "school": school, "source": source, "entity": spec.entity, "now": now}
        live_match = "l.school=:school AND l.source=:source AND l.sourced_id=s.sourced_id"
        counts = {"inserted": 0, "updated": 0, "restored": 0, "deleted": 0, "unchanged": 0}
        ex = self.conn.execute

        # inserts: staged, never seen in this school+source
        counts["inserted"] = ex(
            f"INSERT INTO changes (run_id, entity, school, source, sourced_id, action) "
            f"SELECT :run, :entity, :school, :source, s.sourced_id, 'insert' FROM stg.{t} s "
            f"WHERE s._deleted=0 AND NOT EXISTS (SELECT 1 FROM main.{t} l WHERE {live_match})",
            scope,
        ).rowcount

        # updates and restores: the audit records before/after of each changed field
        cols = spec.columns
        sel = ", ".join(f"s.{q(c)}" for c in cols) + ", " + ", ".join(f"l.{q(c)}" for c in cols)
        changed = ex(
            f"SELECT s.sourced_id, l.deleted_at, {sel} FROM stg.{t} s JOIN main.{t} l ON {live_match} "
            f"WHERE s._deleted=0 AND (l.row_hash IS NOT s.row_hash OR l.deleted_at IS NOT NULL)",
            scope,
        )
        n = len(cols)
        audit = []
        for row in changed:
            new, old = row[2:2 + n], row[2 + n:]
            diff = {c: [o, v] for c, v, o in zip(cols, new, old, strict=True) if v != o}
            action = "restore" if row[1] is not None else "update"
            counts["restored" if action == "restore" else "updated"] += 1
            audit.append((run_id, spec.entity, school, source, row[0], action, json.dumps(diff, ensure_ascii=False)))
        self.conn.executemany(
            "INSERT INTO changes (run_id, entity, school, source, sourced_id, action, fields) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", audit,
        )

        # write inserts, updates and restores in one upsert
        collist = ", ".join(q(c) for c in cols)
        sets = ", ".join(f"{q(c)}=excluded.{q(c)}" for c in cols)
        ex(
            f"INSERT INTO main.{t} (school, source, {collist}, row_hash, created_run, updated_run) "
            f"SELECT :school, :source, {', '.join('s.' + q(c) for c in cols)}, s.row_hash, :run, :run "
            f"FROM stg.{t} s WHERE s._deleted=0 "
            f"ON CONFLICT (school, source, sourced_id) DO UPDATE SET {sets}, row_hash=excluded.row_hash, "
            f"updated_run=:run, deleted_at=NULL, deleted_run=NULL "
            f"WHERE {t}.row_hash IS NOT excluded.row_hash OR {t}.deleted_at IS NOT NULL",
            scope,
        )

        # soft deletes: bulk = live rows missing from staging; delta = rows sent as tobedeleted
        if mode == "bulk":
            gone = (f"NOT EXISTS (SELECT 1 FROM stg.{t} s WHERE s.sourced_id = l.sourced_id AND s._deleted=0)")
        else:
            gone = f"EXISTS (SELECT 1 FROM stg.{t} s WHERE s.sourced_id = l.sourced_id AND s._deleted=1)"
        live = "l.school=:school AND l.source=:source AND l.deleted_at IS NULL"
        counts["deleted"] = ex(
            f"INSERT INTO changes (run_id, entity, school, source, sourced_id, action) "
            f"SELECT :run, :entity, :school, :source, l.sourced_id, 'delete' FROM main.{t} l "
            f"WHERE {live} AND {gone}",
            scope,
        ).rowcount
        ex(f"UPDATE main.{t} AS l SET deleted_at=:now, deleted_run=:run WHERE {live} AND {gone}", scope)

        staged = ex(f"SELECT count(*) FROM stg.{t} WHERE _deleted=0").fetchone()[0]
        counts["unchanged"] = staged - counts["inserted"] - counts["updated"] - counts["restored"]
        return counts

    def close(self) -> None:
        self.db.close()


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
        self._modes: dict[str, str] = {}
        self._locations: dict[str, str] = {}

    def declare(self, entity: str, mode: str, location: str) -> None:
        """Say that this run carries ``entity`` (even with no rows: an empty bulk file is a statement)."""
        if entity in self._modes:
            if self._modes[entity] != mode:
                raise RostersyncError(f"{location}: {entity} is both bulk and delta in one run")
            return
        spec = TABLES[entity]
        cols = ", ".join(f"{q(c)} {'INTEGER' if spec.types[c] is int else 'TEXT'}" for c in spec.columns
                         if c != "sourced_id")
        self.conn.execute(
            f"CREATE TABLE {q(entity)} (sourced_id TEXT PRIMARY KEY, {cols}, row_hash TEXT, "
            f"_deleted INTEGER NOT NULL DEFAULT 0, _line INTEGER)"
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
        spec = TABLES[entity]
        lines = batch.lines or [None] * len(batch.records)
        rows = []
        for record, line in zip(batch.records, lines, strict=True):
            row = spec.to_row(record)
            deleted = 1 if record.status == "tobedeleted" and mode == "delta" else 0
            rows.append((*row, row_hash(row), deleted, line))
        placeholders = ", ".join("?" for _ in range(len(spec.columns) + 3))
        collist = ", ".join(q(c) for c in spec.columns)
        sql = f"INSERT INTO {q(entity)} ({collist}, row_hash, _deleted, _line) VALUES ({placeholders})"
        self.conn.execute("BEGIN")
        try:
            self.conn.executemany(sql, rows)
        except sqlite3.IntegrityError:
            self.conn.execute("ROLLBACK")
            self._raise_duplicate(batch, lines)
            raise
        self.conn.execute("UPDATE _entities SET fetched = fetched + ? WHERE entity=?", [len(rows), entity])
        self.warn(batch.warnings)
        self.conn.execute("COMMIT")
        return len(rows)

    def _raise_duplicate(self, batch: MappedBatch, lines: Sequence[int | None]) -> None:
        seen: dict[str, int | None] = {}
        for record, line in zip(batch.records, lines, strict=True):
            sid = record.sourced_id
            earlier = self.conn.execute(
                f"SELECT _line FROM {q(batch.entity)} WHERE sourced_id=?", [sid]
            ).fetchone()
            if sid in seen or earlier:
                first = seen.get(sid) if sid in seen else earlier[0]
                also = f" (first seen on line {first})" if first else ""
                raise DataError(f"duplicate sourcedId {sid!r}{also}: sourcedIds must be unique",
                                batch.location, line, "sourcedId")
            seen[sid] = line

    def count_out_of_scope(self, entity: str, n: int) -> None:
        """Rows the source sent that belong to other schools (not staged, reported in the counts)."""
        if n:
            self.conn.execute("UPDATE _entities SET out_of_scope = out_of_scope + ? WHERE entity=?", [n, entity])

    def staged_ids(self, entity: str, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` this run has staged for ``entity``."""
        if entity not in self._modes or not ids:
            return set()
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            sql = f"SELECT sourced_id FROM {q(entity)} WHERE sourced_id IN ({', '.join('?' * len(chunk))})"
            found.update(r[0] for r in self.conn.execute(sql, chunk))
        return found

    def warn(self, messages: Sequence[str]) -> None:
        """Record warnings (skipped or repaired rows) for the run's report."""
        self.conn.executemany("INSERT INTO _issues (level, message) VALUES ('warning', ?)",
                              [(m,) for m in messages])

    def close(self) -> None:
        self.conn.close()

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


@contextmanager
def store_at(path: Path) -> Iterator[Store]:
    store = open_store(path)
    try:
        yield store
    finally:
        store.close()
