"""Parent chains must end: an org (or academic session) may not be its own ancestor.

``orgs.parentSourcedId`` builds the district -> school -> department tree and
``academicSessions.parentSourcedId`` the year -> term -> grading period one. A cycle (``a`` -> ``b`` ->
``a``, or an org that is its own parent) is a corrupt export: every program that walks up the tree
to find a student's district loops forever on it. It is always an error (there is no row to skip
that would make the tree right), reported at each member's ``file:line:parentSourcedId``.

Set-based on the staging file: one recursive query per entity follows each row's parents for at most
:data:`MAX_DEPTH` steps (real trees are 2-6 deep) and reports the rows it finds again on their own path.
Only this run's rows are walked: a delta that closes a cycle through live rows is not caught.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from rostersync.integrity import column_label
from rostersync.issues import Issue
from rostersync.store.sqlfiles import q

#: entity -> what its rows are called in messages
PARENTED = {"orgs": "org", "academic_sessions": "academic session"}
MAX_DEPTH = 64


def parent_cycles(conn: sqlite3.Connection, modes: dict[str, str], files: dict[int, str]) -> Iterator[Issue]:
    """A finding for every staged row that is its own ancestor."""
    for entity, what in PARENTED.items():
        if entity not in modes:
            continue
        t = q(entity)
        sql = (
            f"WITH RECURSIVE walk(start, node, depth, path) AS ("
            f" SELECT sourced_id, parent_sourced_id, 1, sourced_id || ' -> ' || parent_sourced_id FROM {t}"
            f"  WHERE _deleted = 0 AND parent_sourced_id IS NOT NULL"
            f" UNION ALL"
            f" SELECT w.start, p.parent_sourced_id, w.depth + 1, w.path || ' -> ' || p.parent_sourced_id"
            f"  FROM walk w JOIN {t} p ON p.sourced_id = w.node AND p._deleted = 0"
            f"  WHERE w.node != w.start AND p.parent_sourced_id IS NOT NULL AND w.depth < {MAX_DEPTH})"
            f" SELECT s._line, s._file, s.sourced_id, w.path FROM walk w JOIN {t} s ON s.sourced_id = w.start"
            f"  AND s._deleted = 0 WHERE w.node = w.start ORDER BY s._line"
        )
        for line, file_id, sourced_id, path in conn.execute(sql):
            file = files.get(file_id, entity)
            yield Issue(f"{what} {sourced_id!r} is its own ancestor ({path}): parentSourcedId chains must end "
                        f"at a top-level {what}", "error", "cycle", entity, file, line,
                        column_label(file, entity, "parent_sourced_id"), sourced_id)
