"""One run's staged rows, in a private SQLite file of its own (never mixed with live rows).

A run writes what it fetched, batch by batch, into its staging area; the reference checks
(:mod:`rostersync.integrity`) run set-based SQL on it; then the store applies it to the live roster
in one transaction and discards it (a held run keeps it for ``approve``). Staging is SQLite whatever
the store: a file per run costs nothing to create or drop, and every check reads it in SQLite's C.

Besides one table per entity (the stored columns, ``_deleted`` for a delta's tombstones, and the
``_line``/``_file`` each row came from) it holds:

* ``_entities`` - each entity the run carries, its mode (bulk/delta) and counts;
* ``_issues`` - the run's warnings, structured (:class:`rostersync.issues.Issue`);
* ``_files`` - the files rows came from, for ``file:line`` in reports;
* ``_out_of_scope`` - ids the school's scope dropped, so references to them are not called dangling;
* ``_entity_files`` - the first files (or URLs) each entity's rows came from, so a hold can say
  "users.csv has a header and no rows".
* ``_filtered`` - ids the school's selective-sync rules dropped (:mod:`rostersync.selection`): rows that
  refer to them are filtered in turn, and references to them are not called dangling either;
* ``_kept`` - ids of rows refused as invalid under the ``on_invalid = "skip"`` policy: the store leaves
  their live rows as they are instead of deleting them (a bad row is not a record that left).
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, nullcontext
from pathlib import Path

from rostersync.batches import MappedBatch
from rostersync.errors import DataError, RostersyncError
from rostersync.issues import COLUMNS, Issue
from rostersync.masking import mask
from rostersync.model import ENTITIES
from rostersync.secrets import redact
from rostersync.store.schema import TABLES, StoredRows
from rostersync.store.sqlfiles import create_private, q

#: ``_issues`` columns, quoted ("column" is an SQL keyword)
ISSUE_COLUMNS = ", ".join(map(q, COLUMNS))
#: how many of an entity's files or URLs staging remembers for messages (an API sends hundreds of pages)
SOURCES_KEPT = 4


class StagingArea:
    """One run's staged rows, in a private SQLite file of its own (discarded after apply)."""

    def __init__(self, path: Path, run_id: int) -> None:
        self.path = path
        self.run_id = run_id
        self.conn: sqlite3.Connection | None = None
        if path.exists():
            path.unlink()
        create_private(path)
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute(
            "CREATE TABLE _entities (entity TEXT PRIMARY KEY, mode TEXT NOT NULL, position INTEGER, "
            "fetched INTEGER NOT NULL DEFAULT 0, out_of_scope INTEGER NOT NULL DEFAULT 0, "
            "filtered INTEGER NOT NULL DEFAULT 0)"
        )
        self.conn.execute(f"CREATE TABLE _issues ({ISSUE_COLUMNS})")
        self.conn.execute("CREATE TABLE _files (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
        self.conn.execute("CREATE TABLE _out_of_scope (entity TEXT, sourced_id TEXT)")
        # _entity_files: the first files (or URLs: an API batch is named by its first page) each entity's
        # rows came from, in reading order, at most SOURCES_KEPT of them, for messages about a hold
        self.conn.execute("CREATE TABLE _entity_files (entity TEXT, name TEXT)")
        self._entity_files: set[tuple[str, str]] = set()
        self.conn.execute("CREATE TABLE _filtered (entity TEXT, sourced_id TEXT, PRIMARY KEY (entity, sourced_id)) "
                          "WITHOUT ROWID")
        self.conn.execute("CREATE TABLE _kept (entity TEXT, sourced_id TEXT, PRIMARY KEY (entity, sourced_id)) "
                          "WITHOUT ROWID")
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
        area._file_ids, area.on_duplicate, area._entity_files = {}, "error", set()
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
        if (entity, batch.location) not in self._entity_files:
            self._entity_files.add((entity, batch.location))
            if sum(e == entity for e, _name in self._entity_files) <= SOURCES_KEPT:
                self.conn.execute("INSERT INTO _entity_files VALUES (?, ?)", [entity, batch.location])
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
                    first = dupes[0][1]
                    raise DataError(first.message, first.file or entity, first.line, "sourcedId") from None
                # the duplicate policy "skip": keep the first row of each sourcedId, warn about the others
                self.conn.execute("BEGIN")
                self.conn.executemany(f"DELETE FROM {q(entity)} WHERE rowid = ?", [(d[0],) for d in dupes])
                self.warn([_skipped(issue) for _rowid, issue in dupes])
                self.conn.execute("COMMIT")
                self.conn.execute(index)
            self._indexed.add(entity)

    def _staged_duplicates(self, entity: str) -> list[tuple[int, Issue]]:
        """(rowid, issue) of every staged row repeating an earlier row's sourcedId."""
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
            out.append((rowid, _duplicate(entity, sid, where, line, first, first_where or where)))
        return out

    def _file_id(self, location: str) -> int:
        if location not in self._file_ids:
            self.conn.execute("INSERT OR IGNORE INTO _files (name) VALUES (?)", [location])
            self._file_ids[location] = self.conn.execute("SELECT id FROM _files WHERE name=?", [location]).fetchone()[0]
        return self._file_ids[location]

    def _duplicates(self, batch: MappedBatch, lines: Sequence[int | None]) -> Iterator[tuple[int, Issue]]:
        """(index in batch, issue) for each record whose sourcedId is already staged or repeats."""
        seen: dict[str, int | None] = {}
        for n, (record, line) in enumerate(zip(batch.records, lines, strict=True)):
            sid = record.sourced_id
            earlier = self.conn.execute(
                f"SELECT s._line, f.name FROM {q(batch.entity)} s LEFT JOIN _files f ON f.id = s._file "
                f"WHERE s.sourced_id=?", [sid]
            ).fetchone()
            if sid in seen or earlier:
                first, where = (seen.get(sid), batch.location) if sid in seen else earlier
                yield n, _duplicate(batch.entity, sid, batch.location, line, first, where)
            else:
                seen[sid] = line

    def _raise_duplicate(self, batch: MappedBatch, lines: Sequence[int | None]) -> None:
        for n, issue in self._duplicates(batch, lines):
            raise DataError(issue.message, batch.location, lines[n], "sourcedId")

    def _skip_duplicates(self, batch: MappedBatch, rows: list[tuple], lines: Sequence[int | None]) -> list[tuple]:
        """The duplicate policy "skip" for a batch: keep the first row of each sourcedId, warn about the others."""
        dupes = dict(self._duplicates(batch, lines))
        self.warn([_skipped(issue) for issue in dupes.values()])
        return [row for n, row in enumerate(rows) if n not in dupes]

    def count_out_of_scope(self, entity: str, n: int, ids: Sequence[str] = ()) -> None:
        """Rows the source sent that belong to other schools (not staged, reported in the counts).
        ``ids`` (when others may refer to them) lets the reference checks tell them from dangling ids."""
        if n:
            self.conn.execute("UPDATE _entities SET out_of_scope = out_of_scope + ? WHERE entity=?", [n, entity])
        if ids:
            self.conn.executemany("INSERT INTO _out_of_scope (entity, sourced_id) VALUES (?, ?)",
                                  [(entity, i) for i in ids])

    def count_filtered(self, entity: str, issues: Sequence[Issue], ids: Sequence[str] = ()) -> None:
        """Rows the school's selective-sync rules left out (not staged): counted, reported one by one
        (``issues``, outcome ``filtered``), and their ``ids`` noted so rows referring to them follow."""
        if issues:
            self.conn.execute("UPDATE _entities SET filtered = filtered + ? WHERE entity=?", [len(issues), entity])
            self.warn(issues)
        if ids:
            self.conn.executemany("INSERT OR IGNORE INTO _filtered (entity, sourced_id) VALUES (?, ?)",
                                  [(entity, i) for i in ids])

    def filtered_ids(self, entity: str, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` the selective-sync rules left out of ``entity`` in this run (one query)."""
        if not ids:
            return set()
        sql = "SELECT value FROM json_each(?) WHERE value IN (SELECT sourced_id FROM _filtered WHERE entity=?)"
        return {r[0] for r in self.conn.execute(sql, [json.dumps(list(ids)), entity])}

    def has_filtered(self, entity: str) -> bool:
        return self.conn.execute("SELECT 1 FROM _filtered WHERE entity=? LIMIT 1", [entity]).fetchone() is not None

    def keep(self, entity: str, ids: Iterable[str]) -> None:
        """Rows of ``entity`` refused as invalid and left out: their live rows stay as they are."""
        self.conn.executemany("INSERT OR IGNORE INTO _kept (entity, sourced_id) VALUES (?, ?)",
                              [(entity, i) for i in ids])

    def entities(self) -> list[tuple[str, str, dict[str, int]]]:
        """(entity, mode, counts before the diff: fetched, out_of_scope, filtered) per entity carried, in
        dependency order: what a store's apply reports besides its own diff counts."""
        sql = "SELECT entity, mode, fetched, out_of_scope, {} FROM _entities ORDER BY position"
        with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) if self.conn is None \
                else nullcontext(self.conn) as conn:  # a held run's staging is reopened read-only for approve
            older = not any(c[1] == "filtered" for c in conn.execute("PRAGMA table_info(_entities)"))
            rows = conn.execute(sql.format("0" if older else "filtered")).fetchall()  # staged before filtering
        return [(e, m, {"fetched": f, "out_of_scope": o, "filtered": x}) for e, m, f, o, x in rows]

    def out_of_scope_ids(self, entity: str, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` this school's scope dropped from ``entity`` in this run."""
        if not ids:
            return set()
        self.index_out_of_scope()
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            sql = f"SELECT sourced_id FROM _out_of_scope WHERE entity=? AND sourced_id IN ({marks})"
            found.update(r[0] for r in self.conn.execute(sql, [entity, *chunk]))
        return found

    def index_out_of_scope(self) -> None:
        """Index the dropped ids for look-ups (once they are read; inserting into an index costs more)."""
        self.conn.execute("CREATE INDEX IF NOT EXISTS _out_of_scope_ids ON _out_of_scope (entity, sourced_id)")

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

    def warn(self, issues: Iterable[Issue | str]) -> None:
        """Record warnings (skipped or repaired rows) for the run's report; a plain string is a message."""
        rows = [stored_issue(issue) for issue in map(Issue.of, issues)]
        marks = ", ".join("?" * len(COLUMNS))
        self.conn.executemany(f"INSERT INTO _issues ({ISSUE_COLUMNS}) VALUES ({marks})", rows)

    def issues(self) -> list[Issue]:
        """The warnings recorded so far, in order."""
        return [Issue.from_row(r) for r in self.conn.execute(f"SELECT {ISSUE_COLUMNS} FROM _issues ORDER BY rowid")]

    def summary(self) -> list[tuple[str, int, int]]:
        """(entity, rows fetched, rows staged) per entity carried, in dependency order."""
        entities = self.conn.execute("SELECT entity, fetched FROM _entities ORDER BY position").fetchall()
        return [(entity, fetched, self.conn.execute(f"SELECT count(*) FROM {q(entity)}").fetchone()[0])
                for entity, fetched in entities]

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


def stored_issue(issue: Issue) -> tuple:
    """An issue's row as every store writes it: its value masked (:func:`rostersync.masking.mask`) and
    secrets redacted from its file name, message and value."""
    level, code, entity, file, line, column, sourced_id, message, value, outcome = issue.row()
    return (level, code, entity, file and redact(file), line, column, sourced_id, redact(message),
            mask(entity, column, value), outcome)


def _duplicate(entity: str, sid: str, file: str, line: int | None, first: int | None,
               first_file: str | None) -> Issue:
    """The error of a sourcedId staged twice: this row's place, and where the first one was."""
    also = "" if not first else (f" (first seen on line {first})" if first_file == file
                                 else f" (first seen at {first_file}:{first})")
    return Issue(f"duplicate sourcedId {sid!r}{also}: sourcedIds must be unique", "error", "duplicate", entity,
                 file, line, "sourcedId", sid)


def _skipped(duplicate: Issue) -> Issue:
    """The duplicate policy "skip": a warning that the row was left out."""
    return Issue(f"skipped: {duplicate.message}", "warning", duplicate.code, duplicate.entity, duplicate.file,
                 duplicate.line, duplicate.column, duplicate.sourced_id, duplicate.sourced_id, "skipped")
