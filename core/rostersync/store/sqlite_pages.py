"""The SQLite store's paged reads for the web view, and its audit log of operator actions.

Each method is one index lookup or range (the indexes of migration 3), so a page costs the same in
a roster of a million people as in one of a hundred; :class:`rostersync.store.sqlite.SqliteStore`
inherits them. The methods are documented on the protocol (:class:`rostersync.store.base.Store`).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable
from typing import Any

from rostersync.issues import COLUMNS, Issue
from rostersync.store.base import ActionRow, ChangeRow, EnrollmentRow, PersonRow, RunRow
from rostersync.store.sqlfiles import q

PERSON_COLUMNS = ("school", "source", "sourced_id", "role", "given_name", "family_name", "preferred_given_name",
                  "identifier", "email", "username", "status", "deleted_at")
#: the last character a prefix range reaches (a name starting with the prefix sorts below prefix + this)
_TOP = chr(0x10FFFF)
#: names are searched from this many characters on (shorter: exact ids and emails only)
NAME_MIN = 2


def _rows(conn: sqlite3.Connection, sql: str, params: Any) -> list[dict[str, Any]]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur]


def _change(row: dict[str, Any]) -> ChangeRow:
    return row | {"fields": json.loads(row["fields"]) if row["fields"] else None}  # type: ignore[return-value]


def _prefix(column: str, key: str) -> str:
    """SQL: ``column`` starts with the parameter ``key``, ignoring (ASCII) case, as a range over its
    NOCASE index (LIKE would need the pattern's wildcards escaped, and would not use the index then)."""
    return f"{q(column)} >= :{key} COLLATE NOCASE AND {q(column)} < :{key}_end COLLATE NOCASE"


def name_terms(text: str) -> list[dict[str, str]]:
    """The readings of a name search: each a {column: prefix} all of which must match."""
    text = " ".join(text.split())
    if len(text) < NAME_MIN:
        return []
    terms = [{"family_name": text}, {"given_name": text}]
    if "," in text:
        family, _, given = (part.strip() for part in text.partition(","))
        if family and given:
            terms.append({"family_name": family, "given_name": given})
    elif " " in text:
        given, _, family = text.rpartition(" ")
        terms.append({"given_name": given, "family_name": family})
    return terms


def name_hits(text: str, select: str, condition: Callable[[str, str, str], str]) -> list[str]:
    """One query per reading of a name search (:func:`name_terms`): ``select`` with the conditions
    ``condition(column, key, prefix)`` gives (it also binds its parameters under ``key``), ANDed."""
    hits = []
    for n, term in enumerate(name_terms(text)):
        parts = [condition(column, f"t{n}_{column}", prefix) for column, prefix in term.items()]
        hits.append(f"{select} WHERE {' AND '.join(parts)}")
    return hits


def issue_page_sql(mark: str) -> str:
    """A page of a run's warnings (parameters: run id, limit, offset)."""
    return (f"SELECT {', '.join(map(q, COLUMNS))} FROM run_issues WHERE run_id = {mark} ORDER BY id "
            f"LIMIT {mark} OFFSET {mark}")


def person_enrollments_sql(mark: str) -> str:
    """A person's enrollments with their classes (parameters: school, source, sourcedId, limit, offset)."""
    p = mark
    return ("SELECT e.sourced_id, e.class_sourced_id, c.title AS class_title, c.class_code, c.periods, e.role, "
            "e.\"primary\", e.begin_date, e.end_date, e.status, e.deleted_at, e.created_run, e.deleted_run "
            "FROM enrollments e LEFT JOIN classes c ON c.school = e.school AND c.source = e.source "
            "AND c.sourced_id = e.class_sourced_id "
            f"WHERE e.school = {p} AND e.source = {p} AND e.user_sourced_id = {p} "
            f"ORDER BY e.deleted_at IS NOT NULL, c.title IS NULL, c.title, e.sourced_id LIMIT {p} OFFSET {p}")


class PageReads:
    """Mixed into the SQLite store, whose ``db`` (sqlite-utils) and ``conn`` these use."""

    db: Any
    conn: sqlite3.Connection

    def _runs(self, sql: str, params: Any) -> list[RunRow]:
        from rostersync.store.sqlite import _decode_run

        return [_decode_run(r) for r in _rows(self.conn, sql, params)]  # type: ignore[misc]

    def run_page(self, *, school: str | None = None, source: str | None = None, status: str | None = None,
                 before: int | None = None, limit: int = 50) -> list[RunRow]:
        params = {"before": before, "school": school, "source": source, "status": status, "limit": limit}
        where = ["id < :before" if before is not None else "1"]
        where += [f"{key} = :{key}" for key in ("school", "source", "status") if params[key] is not None]
        sql = f"SELECT * FROM sync_runs WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT :limit"
        return self._runs(sql, params)

    def change_page(self, run_id: int, *, entity: str | None = None, action: str | None = None,
                    after: int = 0, limit: int = 50) -> list[ChangeRow]:
        params = {"run": run_id, "entity": entity, "action": action, "after": after, "limit": limit}
        if entity is None:
            # a run's changes are written together: walk the table's own id order from the run's first
            # change (found in the run_id index) instead of sorting every change of a large run
            first = self.conn.execute("SELECT min(id) FROM changes WHERE run_id = ?", [run_id]).fetchone()[0]
            params["after"] = max(after, (first or 0) - 1)
            where = "+run_id = :run AND id > :after"  # '+': the rowid range, not the run_id index
        else:
            where = "run_id = :run AND entity = :entity AND id > :after"
        if action is not None:
            where += " AND action = :action"
        sql = f"SELECT * FROM changes WHERE {where} ORDER BY id LIMIT :limit"
        return [_change(r) for r in _rows(self.conn, sql, params)]

    def issue_page(self, run_id: int, *, offset: int = 0, limit: int = 50) -> list[Issue]:
        return [Issue.from_row(r) for r in self.conn.execute(issue_page_sql("?"), [run_id, limit, offset])]

    def find_people(self, text: str, *, school: str | None = None, offset: int = 0,
                    limit: int = 50) -> list[PersonRow]:
        text = text.strip()
        if not text:
            return []
        params: dict[str, Any] = {"q": text, "school": school, "limit": limit, "offset": offset}
        hits = ["SELECT rowid FROM users WHERE sourced_id = :q",
                "SELECT rowid FROM users WHERE identifier = :q",
                "SELECT rowid FROM users WHERE email = :q COLLATE NOCASE"]

        def starts(column: str, key: str, prefix: str) -> str:
            params[key], params[f"{key}_end"] = prefix, prefix + _TOP
            return _prefix(column, key)

        hits += name_hits(text, "SELECT rowid FROM users", starts)
        sql = (f"WITH hits(rid) AS ({' UNION '.join(hits)}) "
               f"SELECT {', '.join(map(q, PERSON_COLUMNS))} FROM users WHERE rowid IN hits "
               f"AND (:school IS NULL OR school = :school) "
               f"ORDER BY family_name COLLATE NOCASE, given_name COLLATE NOCASE, school, source, sourced_id "
               f"LIMIT :limit OFFSET :offset")
        return _rows(self.conn, sql, params)  # type: ignore[return-value]

    def person(self, school: str, source: str, sourced_id: str) -> dict[str, Any] | None:
        rows = _rows(self.conn, "SELECT * FROM users WHERE school = ? AND source = ? AND sourced_id = ?",
                     [school, source, sourced_id])
        return rows[0] if rows else None

    def person_enrollments(self, school: str, source: str, sourced_id: str, *, offset: int = 0,
                           limit: int = 50) -> list[EnrollmentRow]:
        return _rows(self.conn, person_enrollments_sql("?"), [school, source, sourced_id, limit, offset])  # type: ignore[return-value]

    def person_changes(self, school: str, source: str, sourced_id: str, *, before: int | None = None,
                       limit: int = 50) -> list[ChangeRow]:
        sql = ("SELECT * FROM changes WHERE entity = 'users' AND school = ? AND source = ? AND sourced_id = ? "
               "AND id < ? ORDER BY id DESC LIMIT ?")
        params = [school, source, sourced_id, before if before is not None else 2**62, limit]
        return [_change(r) for r in _rows(self.conn, sql, params)]

    def record_action(self, action: str, *, actor: str, origin: str, run_id: int | None = None,
                      detail: str | None = None) -> None:
        at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with self.db.atomic():
            self.conn.execute(
                "INSERT INTO audit_log (at, action, run_id, school, source, actor, origin, detail) "
                "SELECT ?, ?, ?, (SELECT school FROM sync_runs WHERE id = ?), "
                "(SELECT source FROM sync_runs WHERE id = ?), ?, ?, ?",
                [at, action, run_id, run_id, run_id, actor, origin, detail])

    def actions(self, *, run_id: int | None = None, before: int | None = None, limit: int = 50) -> list[ActionRow]:
        where = "id < :before" + (" AND run_id = :run" if run_id is not None else "")
        sql = f"SELECT * FROM audit_log WHERE {where} ORDER BY id DESC LIMIT :limit"
        params = {"run": run_id, "before": before if before is not None else 2**62, "limit": limit}
        return _rows(self.conn, sql, params)  # type: ignore[return-value]
