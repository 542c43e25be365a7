"""Orgs that are not schools: departments, local orgs. Some SIS (Rediker among them) attach users and
classes to departments, or send ``department`` where schools are meant, some with no ``school`` org
at all. Such rows are kept: only a row none of whose orgs is known is skipped (the ``no_school``
check of :mod:`rostersync.integrity`), and :mod:`rostersync.scope` counts an org below a school as
that school's. Two steps on a run's staging file, after the last batch and before the reference
checks, each one set-based SQL statement:

* **Org types treated as schools** (the ``org_types_as_school`` setting, e.g. ``department`` for a
  Rediker tenant with no school orgs): staged orgs of those types are stored as type ``school``, what
  every consumer of the roster looks for. The rest of the run sees them as schools.
* **Attached to the school above.** A user none of whose orgs is a school gets, for each of its orgs,
  the nearest school above it in the staged org tree (``parentSourcedId``) added to its
  ``org_sourced_ids``, after its own orgs: a teacher of the science department belongs to that
  department and to its school. An org tree with no school above leaves the user as sent. Classes
  keep the department as their ``schoolSourcedId`` (a class has one school reference, and the
  department is what the SIS said); scoping a run to the school keeps them all the same.

Only the orgs staged in this run form the tree: a delta that sends users without orgs leaves them
as sent.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from rostersync.model import ORG_TYPES

#: what ``org_types_as_school`` may name: any org type but ``school`` itself
NON_SCHOOL_TYPES = tuple(t for t in ORG_TYPES if t != "school")
#: the deepest org tree followed (real trees are 2-6 deep; a cycle is an error reported elsewhere)
MAX_DEPTH = 64


def check_types(types: Iterable[str]) -> tuple[str, ...]:
    """``types`` as given, or ValueError naming one that is not a non-school org type."""
    out = tuple(t.strip() for t in types if t.strip())
    for kind in out:
        if kind not in NON_SCHOOL_TYPES:
            raise ValueError(f"{kind!r} is not an org type that could be treated as a school "
                             f"(one of: {', '.join(NON_SCHOOL_TYPES)})")
    return out


def treat_as_schools(conn: sqlite3.Connection, types: Iterable[str]) -> int:
    """Store staged orgs of ``types`` as schools; return how many."""
    kinds = tuple(types)
    if not kinds or not _staged(conn, "orgs"):
        return 0
    marks = ", ".join("?" * len(kinds))
    return conn.execute(f"UPDATE orgs SET type = 'school' WHERE type IN ({marks})", kinds).rowcount


def attach_to_schools(conn: sqlite3.Connection) -> int:
    """Add the school above each org of every user that has no school among its orgs; return how many
    users gained one."""
    if not _staged(conn, "orgs") or not _staged(conn, "users"):
        return 0
    school_of = dict(conn.execute(
        "WITH RECURSIVE up(org, node, depth) AS ("
        " SELECT sourced_id, parent_sourced_id, 1 FROM orgs"
        "  WHERE type != 'school' AND parent_sourced_id IS NOT NULL AND _deleted = 0"
        " UNION ALL"
        " SELECT up.org, p.parent_sourced_id, up.depth + 1 FROM up"
        "  JOIN orgs p ON p.sourced_id = up.node AND p.type != 'school' AND p._deleted = 0"
        "  WHERE p.parent_sourced_id IS NOT NULL AND up.depth < ?)"
        " SELECT up.org, min(s.sourced_id) FROM up"
        "  JOIN orgs s ON s.sourced_id = up.node AND s.type = 'school' AND s._deleted = 0 GROUP BY up.org",
        [MAX_DEPTH],
    ).fetchall())
    if not school_of:
        return 0
    lonely = conn.execute(
        "SELECT rowid, org_sourced_ids FROM users u WHERE u._deleted = 0 AND u.org_sourced_ids IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM json_each(u.org_sourced_ids) j JOIN orgs o ON o.sourced_id = j.value "
        "AND o.type = 'school' AND o._deleted = 0)"
    ).fetchall()
    updates = []
    for rowid, text in lonely:
        orgs = json.loads(text)
        attached = list(dict.fromkeys([*orgs, *(school_of[o] for o in orgs if o in school_of)]))
        if len(attached) > len(orgs):
            updates.append((json.dumps(attached, ensure_ascii=False, separators=(",", ":")), rowid))
    if updates:
        conn.execute("BEGIN")
        conn.executemany("UPDATE users SET org_sourced_ids = ? WHERE rowid = ?", updates)
        conn.execute("COMMIT")
    return len(updates)


def _staged(conn: sqlite3.Connection, entity: str) -> bool:
    return conn.execute("SELECT 1 FROM _entities WHERE entity = ?", [entity]).fetchone() is not None
