"""The PostgreSQL store's paged reads for the web view, and its audit log of operator actions.

The same pages as SQLite's (:mod:`rostersync.store.sqlite_pages`, whose name readings and columns
these share), each an index lookup or range (PostgreSQL's migration 3): names are matched through
``lower(column) LIKE 'prefix%'`` on ``text_pattern_ops`` indexes, which serve a prefix in any locale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from rostersync.issues import Issue
from rostersync.store.base import ActionRow, ChangeRow, EnrollmentRow, PersonRow, RunRow
from rostersync.store.sqlfiles import q
from rostersync.store.sqlite_pages import (
    PERSON_COLUMNS,
    _change,
    issue_page_sql,
    name_hits,
    person_enrollments_sql,
)

#: where a cursor has not been given: above every id
TOP_ID = 2**62
#: a person found exactly by sourcedId, identifier or email (ignoring case)
EXACT_HITS = ("SELECT school, source, sourced_id FROM users WHERE sourced_id = %(q)s",
              "SELECT school, source, sourced_id FROM users WHERE identifier = %(q)s",
              "SELECT school, source, sourced_id FROM users WHERE lower(email) = lower(%(q)s)")


def _like_prefix(text: str) -> str:
    """A LIKE pattern matching values that start with ``text`` (its wildcards escaped), lower-cased."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


class PgPageReads:
    """Mixed into the PostgreSQL store, whose ``db`` (:class:`~rostersync.store.pg.database.Database`)
    these use, a connection per call."""

    db: Any

    def _dicts(self, sql: str, params: Sequence[Any] | dict[str, Any]) -> list[dict[str, Any]]:
        from psycopg.rows import dict_row

        with self.db.connect() as conn:
            return conn.cursor(row_factory=dict_row).execute(sql, params).fetchall()

    def run_page(self, *, school: str | None = None, source: str | None = None, status: str | None = None,
                 before: int | None = None, limit: int = 50) -> list[RunRow]:
        from rostersync.store.pg.store import _decode_run

        params = {"before": before if before is not None else TOP_ID, "school": school, "source": source,
                  "status": status, "limit": limit}
        where = ["id < %(before)s", *(f"{key} = %({key})s" for key in ("school", "source", "status")
                                      if params[key] is not None)]
        sql = f"SELECT * FROM sync_runs WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT %(limit)s"
        return [_decode_run(r) for r in self._dicts(sql, params)]

    def change_page(self, run_id: int, *, entity: str | None = None, action: str | None = None,
                    after: int = 0, limit: int = 50) -> list[ChangeRow]:
        where = "run_id = %(run)s AND id > %(after)s"
        if entity is not None:
            where += " AND entity = %(entity)s"
        if action is not None:
            where += " AND action = %(action)s"
        params = {"run": run_id, "entity": entity, "action": action, "after": after, "limit": limit}
        return [_change(r) for r in self._dicts(f"SELECT * FROM changes WHERE {where} ORDER BY id LIMIT %(limit)s",
                                                params)]

    def issue_page(self, run_id: int, *, offset: int = 0, limit: int = 50) -> list[Issue]:
        with self.db.connect() as conn:
            return [Issue.from_row(r) for r in conn.execute(issue_page_sql("%s"), [run_id, limit, offset])]

    def find_people(self, text: str, *, school: str | None = None, offset: int = 0,
                    limit: int = 50) -> list[PersonRow]:
        params: dict[str, Any] = {"q": text.strip(), "school": school, "limit": limit, "offset": offset}

        def starts(column: str, key: str, prefix: str) -> str:
            params[key] = _like_prefix(prefix)
            return f"lower({q(column)}) LIKE %({key})s"

        if not params["q"]:
            return []
        hits = [*EXACT_HITS, *name_hits(params["q"], "SELECT school, source, sourced_id FROM users", starts)]
        sql = (f"WITH hits AS ({' UNION '.join(hits)}) "
               f"SELECT {', '.join('u.' + q(c) for c in PERSON_COLUMNS)} FROM users u JOIN hits h "
               f"USING (school, source, sourced_id) WHERE (%(school)s::text IS NULL OR u.school = %(school)s) "
               f"ORDER BY lower(u.family_name), lower(u.given_name), u.school, u.source, u.sourced_id "
               f"LIMIT %(limit)s OFFSET %(offset)s")
        return self._dicts(sql, params)  # type: ignore[return-value]

    def person(self, school: str, source: str, sourced_id: str) -> dict[str, Any] | None:
        rows = self._dicts("SELECT * FROM users WHERE school = %s AND source = %s AND sourced_id = %s",
                           [school, source, sourced_id])
        return rows[0] if rows else None

    def person_enrollments(self, school: str, source: str, sourced_id: str, *, offset: int = 0,
                           limit: int = 50) -> list[EnrollmentRow]:
        return self._dicts(person_enrollments_sql("%s"), [school, source, sourced_id, limit, offset])  # type: ignore[return-value]

    def person_changes(self, school: str, source: str, sourced_id: str, *, before: int | None = None,
                       limit: int = 50) -> list[ChangeRow]:
        sql = ("SELECT * FROM changes WHERE entity = 'users' AND school = %s AND source = %s AND sourced_id = %s "
               "AND id < %s ORDER BY id DESC LIMIT %s")
        params = [school, source, sourced_id, before if before is not None else TOP_ID, limit]
        return [_change(r) for r in self._dicts(sql, params)]

    def record_action(self, action: str, *, actor: str, origin: str, run_id: int | None = None,
                      detail: str | None = None) -> None:
        at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with self.db.connect() as conn:
            conn.execute(
                "INSERT INTO audit_log (at, action, run_id, school, source, actor, origin, detail) "
                "SELECT %(at)s, %(action)s, %(run)s, (SELECT school FROM sync_runs WHERE id = %(run)s), "
                "(SELECT source FROM sync_runs WHERE id = %(run)s), %(actor)s, %(origin)s, %(detail)s",
                {"at": at, "action": action, "run": run_id, "actor": actor, "origin": origin, "detail": detail})

    def actions(self, *, run_id: int | None = None, before: int | None = None, limit: int = 50) -> list[ActionRow]:
        where = "id < %(before)s" + (" AND run_id = %(run)s" if run_id is not None else "")
        params = {"run": run_id, "before": before if before is not None else TOP_ID, "limit": limit}
        return self._dicts(f"SELECT * FROM audit_log WHERE {where} ORDER BY id DESC LIMIT %(limit)s",
                           params)  # type: ignore[return-value]
