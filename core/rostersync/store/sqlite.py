"""The SQLite store (:class:`rostersync.store.base.Store` on one SQLite file): the live roster, run
history, the change audit, and holds.

A run stages what it fetched in its own SQLite file (:mod:`rostersync.store.staging`), then
:meth:`SqliteStore.apply` ATTACHes it and diffs it against the live roster in set-based SQL and, in
**one** transaction, writes the inserts/updates/soft-deletes, one ``changes`` row per change and the
run's final status. A run that fails before or during apply leaves the live tables exactly as they
were. Next to the database file live the held runs' staging files (``rostersync.db.staging/``) and
the per-source locks (``rostersync.db.locks/``), all private to their owner.

The schema is versioned (:mod:`rostersync.store.migrations`); :func:`rostersync.store.open_store`
upgrades an older file when it opens it (SQLite has one owner, the host running rostersync).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from rostersync.errors import ConfigError
from rostersync.issues import COLUMNS, Issue
from rostersync.masking import mask
from rostersync.secrets import redact
from rostersync.store import locks, migrations, shared
from rostersync.store import sqlite_identity as identity
from rostersync.store.base import (
    ApplyOutcome,
    ApplyPolicy,
    ChangeRow,
    NotificationRow,
    RunRow,
    SchemaVersion,
    fence_error,
)
from rostersync.store.schema import TABLES, TableSpec, staged_live
from rostersync.store.sqlfiles import create_private, q
from rostersync.store.sqlite_pages import PageReads
from rostersync.store.staging import StagingArea, stored_issue

ISSUE_COLUMNS = ", ".join(map(q, COLUMNS))
ISSUE_MARKS = ", ".join("?" * len(COLUMNS))


def utcnow() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def connect(target: str) -> SqliteStore:
    """The store in the file ``target`` names: a path, or a ``sqlite:///`` URL (``sqlite:////abs/path``
    or ``sqlite:///relative/path``, as SQLAlchemy writes them)."""
    path = re.sub(r"^sqlite:///", "", target) if target.startswith("sqlite:") else target
    if path.startswith("sqlite:") or path in ("", ":memory:"):
        raise ConfigError(f"{target}: expected a database file path or sqlite:///PATH")
    try:
        return SqliteStore(Path(path).expanduser())
    except sqlite3.DatabaseError as exc:
        raise unreadable(path, exc) from None


def unreadable(path: str | Path, exc: sqlite3.DatabaseError) -> ConfigError:
    return ConfigError(f"{path}: the database cannot be read ({exc}); is it a rostersync SQLite database?")


class SqliteStore(PageReads):
    """The rostersync database in one SQLite file. Open it with :func:`rostersync.store.open_store`.
    Its paged reads for the web view and its audit log are in :mod:`rostersync.store.sqlite_pages`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        create_private(path)
        self.db = sqlite_utils.Database(path, execute_plugins=False)
        self.conn: sqlite3.Connection = self.db.conn
        self.conn.execute("PRAGMA journal_mode=WAL")
        # WAL with synchronous=NORMAL is always consistent; a power cut can lose only the last commits,
        # which a re-run restores. FULL would fsync the whole (large) WAL at every apply's commit.
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA busy_timeout=30000")
        self.conn.execute("PRAGMA foreign_keys=OFF")

    # -- schema -----------------------------------------------------------------------------
    def schema_version(self) -> SchemaVersion:
        with self._readable():
            return SchemaVersion(migrations.schema_version(self.conn), migrations.LATEST)

    def upgrade(self) -> list[int]:
        with self._readable():
            return migrations.upgrade(self.conn, str(self.path))

    def verify_schema(self) -> None:
        with self._readable():
            migrations.verify(self.conn, str(self.path))

    @contextmanager
    def _readable(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise unreadable(self.path, exc) from None

    # -- runs -------------------------------------------------------------------------------
    def begin_run(self, school: str, source: str, job: str | None = None) -> int:
        cur = self.db.execute(
            "INSERT INTO sync_runs (school, source, started_at, status, job_id) VALUES (?, ?, ?, 'running', ?)",
            [school, source, utcnow(), job],
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

    def add_warning(self, run_id: int, issue: Issue | str) -> None:
        """A warning about a run that has already finished (e.g. from work done after it committed)."""
        self.add_issues(run_id, [Issue.of(issue)])

    def add_issues(self, run_id: int, issues: Iterable[Issue]) -> None:
        rows = [(run_id, *stored_issue(issue)) for issue in issues]
        if not rows:
            return
        with self.db.atomic():
            self.conn.executemany(f"INSERT INTO run_issues (run_id, {ISSUE_COLUMNS}) VALUES (?, {ISSUE_MARKS})", rows)
            self.db.execute("UPDATE sync_runs SET warnings = coalesce(warnings, 0) + ? WHERE id=?", [len(rows), run_id])

    def last_state(self, school: str, source: str) -> dict[str, Any]:
        """The connector state left by the last successful run of this source (delta cursors...)."""
        row = self.conn.execute(
            "SELECT state FROM sync_runs WHERE school=? AND source=? AND status='ok' ORDER BY id DESC LIMIT 1",
            [school, source],
        ).fetchone()
        return json.loads(row[0]) if row and row[0] else {}

    def run(self, run_id: int) -> RunRow | None:
        rows = list(self.db.query("SELECT * FROM sync_runs WHERE id=?", [run_id]))
        return _decode_run(rows[0]) if rows else None

    def runs(self, school: str | None = None, limit: int = 50) -> list[RunRow]:
        where, params = ("WHERE school=?", [school]) if school else ("", [])
        sql = f"SELECT * FROM sync_runs {where} ORDER BY id DESC LIMIT ?"
        return [_decode_run(r) for r in self.db.query(sql, [*params, limit])]

    def latest_runs(self) -> list[RunRow]:
        """The newest run of every (school, source)."""
        sql = ("SELECT * FROM sync_runs WHERE id IN (SELECT max(id) FROM sync_runs GROUP BY school, source) "
               "ORDER BY school, source")
        return [_decode_run(r) for r in self.db.query(sql)]

    def job_run(self, job: str) -> RunRow | None:
        rows = list(self.db.query(
            "SELECT * FROM sync_runs WHERE job_id=? AND status IN ('ok', 'held') ORDER BY id LIMIT 1", [job]))
        return _decode_run(rows[0]) if rows else None

    def changes(self, run_id: int, entity: str | None = None, limit_per_entity: int = 0) -> list[ChangeRow]:
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
                for r in rows]  # type: ignore[misc]

    def issues(self, run_id: int) -> list[Issue]:
        sql = f"SELECT {ISSUE_COLUMNS} FROM run_issues WHERE run_id=? ORDER BY id"
        return [Issue.from_row(r) for r in self.conn.execute(sql, [run_id])]

    def live_counts(self, school: str) -> dict[str, int]:
        return {
            entity: self.conn.execute(
                f"SELECT count(*) FROM {q(entity)} WHERE school=? AND deleted_at IS NULL", [school]
            ).fetchone()[0]
            for entity in TABLES
        }

    def live_ids(self, school: str, source: str, entity: str, ids: Sequence[str], *,
                 schools_only: bool = False) -> set[str]:
        """One query per chunk: the ids go in as one JSON array (no limit on bound parameters) and are
        looked up in the table's primary key."""
        if entity not in TABLES:
            raise ValueError(f"unknown entity {entity!r}")
        kind = " AND type = 'school'" if schools_only else ""
        sql = (f"SELECT sourced_id FROM {q(entity)} WHERE school=? AND source=? AND deleted_at IS NULL{kind} "
               f"AND sourced_id IN (SELECT value FROM json_each(?))")
        return {r[0] for r in self.conn.execute(sql, [school, source, json.dumps(list(ids))])}

    def live_rows(self, school: str, entity: str, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        yield from self.conn.execute(shared.live_rows_sql(entity, columns, "?"), [school])

    def extra_keys(self, school: str, entity: str) -> list[str]:
        sql = (f"SELECT DISTINCT j.key FROM {q(entity)} t, json_each(t.extra) j "
               f"WHERE t.school=? AND t.deleted_at IS NULL AND t.extra IS NOT NULL ORDER BY j.key")
        return [k for (k,) in self.conn.execute(sql, [school])]

    # -- handing a roster to another source ---------------------------------------------------
    def move_source(self, school: str, old: str, new: str) -> dict[str, int]:
        """One UPDATE per roster table in one transaction (the key's ``source`` column changes in place)."""
        shared.refuse_move(school, old, new, self.pending_hold(school, old))
        with self.db.atomic():
            return shared.move_rows(school, old, new,
                                    lambda sql, params: bool(self.conn.execute(sql, params).fetchone()),
                                    lambda sql, params: self.conn.execute(sql, params).rowcount, "?")

    # -- people ---------------------------------------------------------------------------------
    def duplicate_people(self, school: str | None, keys: Sequence[str]) -> list[dict[str, Any]]:
        where, params = ("AND u.school = ?", [school]) if school else ("", [])
        person = ("json_group_array(json_object('source', u.source, 'sourced_id', u.sourced_id, 'person_id', "
                  "u.person_id, 'role', u.role, 'given_name', u.given_name, 'family_name', u.family_name))")
        out: list[dict[str, Any]] = []
        for key in keys:
            value = identity.key_sql(key, "u")
            sql = (f"SELECT u.school, {value} AS v, {person} FROM users u WHERE u.deleted_at IS NULL {where} "
                   f"AND v IS NOT NULL GROUP BY u.school, v HAVING count(*) > 1")
            out += [{"school": sc, "reason": f"same {key}", "value": v, "people": json.loads(people)}
                    for sc, v, people in self.conn.execute(sql, params)]
        sql = (f"SELECT u.school, d.birth_date, {person} FROM users u JOIN demographics d ON d.school = u.school "
               f"AND d.source = u.source AND d.sourced_id = u.sourced_id AND d.deleted_at IS NULL "
               f"WHERE u.deleted_at IS NULL {where} AND d.birth_date IS NOT NULL "
               f"GROUP BY u.school, lower(trim(u.given_name)), lower(trim(u.family_name)), d.birth_date "
               f"HAVING count(*) > 1")
        out += [{"school": sc, "reason": "same name and birth date", "value": mask("demographics", "birth_date", v),
                 "people": json.loads(people)} for sc, v, people in self.conn.execute(sql, params)]
        for group in out:
            group["people"].sort(key=lambda p: (p["source"], p["sourced_id"]))
        return sorted(out, key=lambda g: (g["school"], g["reason"], str(g["value"])))

    # -- notifications ----------------------------------------------------------------------------
    def record_notification(self, channel: str, kind: str, status: str, detail: str | None = None,
                            run_id: int | None = None) -> None:
        self.db.execute("INSERT INTO notifications (run_id, channel, kind, status, detail, at) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        [run_id, channel, kind, status, redact(detail) if detail else None, utcnow()])

    def notifications(self, channel: str | None = None, kind: str | None = None, run_id: int | None = None,
                      limit: int = 100) -> list[NotificationRow]:
        wheres, params = [], []
        for column, value in (("channel", channel), ("kind", kind), ("run_id", run_id)):
            if value is not None:
                wheres.append(f"{column} = ?")
                params.append(value)
        where = f"WHERE {' AND '.join(wheres)}" if wheres else ""
        sql = f"SELECT * FROM notifications {where} ORDER BY id DESC LIMIT ?"
        return list(self.db.query(sql, [*params, limit]))  # type: ignore[arg-type]

    # -- one sync per source ------------------------------------------------------------------
    def source_lock(self, school: str, source: str) -> AbstractContextManager[bool]:
        """An OS file lock in ``<database>.locks/`` (see :mod:`rostersync.store.locks`)."""
        return locks.source_lock(self.path, school, source)

    # -- staging and apply --------------------------------------------------------------------
    def staging_path(self, run_id: int) -> Path:
        folder = self.path.with_name(self.path.name + ".staging")
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder / f"run-{run_id}.db"

    def staging(self, run_id: int) -> StagingArea:
        return StagingArea(self.staging_path(run_id), run_id)

    def apply(self, run_id: int, school: str, source: str, staging: StagingArea, policy: ApplyPolicy,
              state: dict[str, Any] | None = None, *, expect: str = "running") -> ApplyOutcome:
        """Diff staging against the live roster and, in one transaction, apply it with its audit.

        The diff is written to ``changes`` first; then the safeguards look at the counts. A dry run
        rolls everything back; a held run commits only its pending ``changes`` rows and keeps its
        staging file for ``approve``/``discard``; otherwise the roster rows are written too.
        """
        staging.finish()
        carried = staging.entities()
        staging.close()
        now = utcnow()
        preview: list[dict[str, Any]] = []
        self.conn.execute("ATTACH DATABASE ? AS stg", [str(staging.path)])
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self._fence(run_id, expect)
                # a re-applied hold starts afresh: its pending changes and the warnings recorded with it
                self.conn.execute("DELETE FROM changes WHERE run_id=?", [run_id])
                self.conn.execute("DELETE FROM run_issues WHERE run_id=?", [run_id])
                self.conn.execute("DROP TABLE IF EXISTS temp._rekeys")
                # diffed in name order: ``changes`` is indexed on (run_id, entity), so each entity's audit
                # rows then append at the index's end rather than split pages in its middle (half the
                # cost for millions of rows); the counts keep the dependency order
                diffed = {entity: self._diff_entity(TABLES[entity], mode, run_id, school, source, policy)
                          for entity, mode, _c in sorted(carried)}
                counts = {entity: {**diffed[entity], **before} for entity, _m, before in carried}
                reasons = policy.safeguards.reasons(counts, _sources(self.conn)) if policy.safeguards else []
                # filtered rows are reported, not warned about: a school's own rules left them out
                warnings = self.conn.execute("SELECT count(*) FROM stg._issues "
                                             "WHERE coalesce(outcome, '') != 'filtered'").fetchone()[0]
                if policy.dry_run:
                    if policy.preview_limit:
                        preview = self.changes(run_id, limit_per_entity=policy.preview_limit)
                    self.conn.execute("ROLLBACK")
                    status = "dry-run"
                else:
                    status = "held" if reasons else "ok"
                    if status == "ok":
                        for entity, _mode, _c in carried:
                            self._write_entity(TABLES[entity], run_id, school, source, now, counts[entity])
                    self.conn.execute(
                        f"INSERT INTO run_issues (run_id, {ISSUE_COLUMNS}) SELECT ?, {ISSUE_COLUMNS} FROM stg._issues",
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

    def _fence(self, run_id: int, expect: str) -> None:
        """The apply fence (see :meth:`rostersync.store.base.Store.apply`), read under the write lock."""
        row = self.conn.execute("SELECT status, job_id FROM sync_runs WHERE id=?", [run_id]).fetchone()
        status, job = row if row else (None, None)
        done = None
        if job is not None:
            done = self.conn.execute("SELECT id FROM sync_runs WHERE job_id=? AND id<>? AND status IN ('ok', 'held') "
                                     "ORDER BY id LIMIT 1", [job, run_id]).fetchone()
        error = fence_error(run_id, status, expect, job, done[0] if done else None)
        if error is not None:
            raise error

    def _diff_entity(self, spec: TableSpec, mode: str, run_id: int, school: str, source: str,
                     policy: ApplyPolicy) -> dict[str, int]:
        """Write one ``changes`` row per insert/update/restore/delete/re-key this entity's staging implies."""
        add_only = policy.add_only
        t = q(spec.entity)
        scope = {"run": run_id, "school": school, "source": source, "entity": spec.entity}
        live_match = "l.school=:school AND l.source=:source AND l.sourced_id=s.sourced_id"
        ex = self.conn.execute
        counts = {"inserted": 0, "updated": 0, "restored": 0, "deleted": 0, "delete_skipped": 0, "unchanged": 0}
        if spec.entity == "users":
            counts["rekeyed"] = 0
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

        gone = _gone(t, mode) + self._kept(spec.entity)
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
        if spec.entity == "users" and policy.identity and counts["inserted"]:
            identity.count_rekeys(counts, identity.rekey(self.conn, run_id, school, source, gone, policy.identity),
                                  add_only)
        counts["unchanged"] = identity.unchanged(counts, staged)
        return counts

    def _kept(self, entity: str) -> str:
        """SQL, `` AND ...`` or nothing: the live row ``l`` is not one whose staged row was refused as invalid
        and left out (``on_invalid = "skip"``): such a row stays as it is rather than being deleted."""
        if not self.conn.execute("SELECT 1 FROM stg.sqlite_master WHERE name = '_kept'").fetchone():
            return ""  # a held run staged before rows could be kept
        found = self.conn.execute("SELECT 1 FROM stg._kept WHERE entity=? LIMIT 1", [entity]).fetchone()
        if not found:
            return ""
        return (f" AND NOT EXISTS (SELECT 1 FROM stg._kept k WHERE k.entity = '{entity}' "
                f"AND k.sourced_id = l.sourced_id)")

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
        rekeyed = counts.get("rekeyed", 0)
        if rekeyed:  # the old rows are closed as re-keyed: their person goes on under the new sourcedId
            identity.close_rekeyed(self.conn, scope)
        written = counts["inserted"] + counts["updated"] + counts["restored"] + rekeyed
        if not written:
            return
        # everything new (a first sync): read staging straight through rather than row by row via changes
        changed = f" AND s.sourced_id IN ({ours} IN ('insert', 'update', 'restore', 'rekey'))"
        only = "" if written == counts["staged"] else changed
        cols = spec.columns
        collist = ", ".join(q(c) for c in cols)
        sets = ", ".join(f"{q(c)}=excluded.{q(c)}" for c in cols)
        person, person_value = "", ""
        if spec.entity == "users":  # a new row is a new person, unless it re-keys one
            person, person_value = ", person_id", ", " + identity.person_id_sql(rekeyed)
        self.conn.execute(
            f"INSERT INTO main.{t} (school, source, {collist}, created_run, updated_run{person}) "
            f"SELECT :school, :source, {', '.join('s.' + q(c) for c in cols)}, :run, :run{person_value} "
            f"FROM stg.{t} s WHERE s._deleted=0{only} "
            f"ON CONFLICT (school, source, sourced_id) DO UPDATE SET {sets}, "
            f"updated_run=:run, deleted_at=NULL, deleted_run=NULL "
            f"WHERE {_differs(t, 'excluded', cols)} OR {t}.deleted_at IS NOT NULL",
            scope,
        )

    # -- holds ----------------------------------------------------------------------------------
    def holds(self) -> list[RunRow]:
        return [_decode_run(r) for r in self.db.query("SELECT * FROM sync_runs WHERE status='held' ORDER BY id")]

    def pending_hold(self, school: str, source: str) -> int | None:
        row = self.conn.execute(
            "SELECT id FROM sync_runs WHERE school=? AND source=? AND status='held' ORDER BY id DESC LIMIT 1",
            [school, source],
        ).fetchone()
        return row[0] if row else None

    def _held(self, run_id: int) -> dict[str, Any]:
        rows = list(self.db.query("SELECT * FROM sync_runs WHERE id=?", [run_id]))
        return shared.held(run_id, rows[0] if rows else None)

    def approve(self, run_id: int, identity: tuple[str, ...] = ()) -> ApplyOutcome:
        """Apply a held run exactly as it was staged (safeguards off; the run's own mode)."""
        run = self._held(run_id)
        newer = self.conn.execute(
            "SELECT id FROM sync_runs WHERE school=? AND source=? AND id>? AND status='ok'",
            [run["school"], run["source"], run_id],
        ).fetchone()
        if newer:
            raise shared.stale_hold(run_id, newer[0])
        path = self.staging_path(run_id)
        if not path.is_file():
            raise ConfigError(f"the staged data of run {run_id} is gone ({path}); discard it and sync again")
        policy = ApplyPolicy(safeguards=None, add_only=run["mode"] == "add-only", identity=identity)
        state = json.loads(run["state"]) if run["state"] else {}
        outcome = self.apply(run_id, run["school"], run["source"], StagingArea.reopen(path, run_id), policy, state,
                             expect="held")
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


def _sources(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Entity -> the files (or URLs) its staged rows came from, for messages about a hold."""
    if not conn.execute("SELECT 1 FROM stg.sqlite_master WHERE name = '_entity_files'").fetchone():
        return {}  # a staging file written before entities recorded their files
    return {entity: json.loads(names) for entity, names in conn.execute(
        "SELECT entity, json_group_array(name) FROM (SELECT * FROM stg._entity_files ORDER BY rowid) GROUP BY entity")}


def _public(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Counts as reported: without the internal staged/bulk markers."""
    return {e: {k: v for k, v in c.items() if k not in ("staged", "bulk")} for e, c in counts.items()}


def _decode_run(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["counts"] = json.loads(row["counts"]) if row.get("counts") else {}
    out.pop("state", None)
    return out
