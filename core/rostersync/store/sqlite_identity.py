"""The SQLite store's side of identity continuity (:mod:`rostersync.identity`), set-based SQL only.

During apply, after the users' inserts and deletes are written to ``changes``: the leaving live rows
and the new staged rows are each read once into a temporary table with their identifier keys, pairs
are found by one equi-join per key (each key applies only where every key before it is missing on
one side: precedence), ambiguous pairs are dropped, and each remaining pair's ``insert`` and
``delete`` changes become one ``rekey`` change. Writing then closes the old rows and gives the new
rows the old rows' person ids. Nothing here runs per row in Python but the audit of the re-keyed
pairs (a handful on a normal night).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from rostersync.identity import STATE_ID_TYPES, normalise_type
from rostersync.store.schema import TABLES
from rostersync.store.sqlfiles import q

#: a new person id: 16 random hex digits (64 bits), made in SQL for each inserted row
NEW_PERSON_ID = "lower(hex(randomblob(8)))"


def _user_id(alias: str, types: Sequence[str]) -> str:
    """SQL: the identifier of the first userIds entry (stored ``["{type:id}", ...]``) whose type is one of ``types``."""
    kind = "substr(j.value, 2, instr(j.value, ':') - 2)"
    normal = f"lower(replace(replace(replace({kind}, '_', ''), '-', ''), ' ', ''))"
    listed = ", ".join(f"'{t}'" for t in types)
    return (f"(SELECT nullif(trim(substr(j.value, instr(j.value, ':') + 1, length(j.value) - instr(j.value, ':') - 1)),"
            f" '') FROM json_each({alias}.user_ids) j WHERE {normal} IN ({listed}) LIMIT 1)")


def key_sql(key: str, alias: str, user_id: Callable[[str, Sequence[str]], str] = _user_id) -> str:
    """SQL: the value of identifier ``key`` of the users row ``alias`` (NULL when it has none);
    ``user_id(alias, types)``: the SQL reading a userIds entry (the PostgreSQL store passes its own)."""
    if key == "state_id":
        return user_id(alias, STATE_ID_TYPES)
    if key.startswith("user_id:"):
        return user_id(alias, [normalise_type(key.removeprefix("user_id:")).replace("'", "''")])
    column = {"student_number": "identifier", "email": "email", "username": "username",
              "master_id": "user_master_identifier"}[key]
    value = f"nullif(trim({alias}.{q(column)}), '')"
    return f"lower({value})" if key in ("email", "username") else value


def rekey(conn: sqlite3.Connection, run_id: int, school: str, source: str, gone: str, keys: Sequence[str]) -> int:
    """Pair this run's leaving users (live rows ``l`` meeting ``gone``) with its new ones (``insert``
    changes) by ``keys`` in precedence order; turn each unambiguous pair's insert and delete into one
    ``rekey`` change; leave the pairs in ``temp._rekeys (old, new)`` for writing. Returns how many."""
    scope = {"run": run_id, "school": school, "source": source}
    width = range(len(keys))
    olds = ", ".join(f"{key_sql(k, 'l')} AS k{i}" for i, k in enumerate(keys))
    news = ", ".join(f"{key_sql(k, 's')} AS k{i}" for i, k in enumerate(keys))
    conn.execute(f"CREATE TEMP TABLE _old AS SELECT l.sourced_id AS sid, l.role, {olds} FROM main.users l "
                 f"WHERE l.school=:school AND l.source=:source AND l.deleted_at IS NULL AND {gone}", scope)
    if not conn.execute("SELECT 1 FROM temp._old LIMIT 1").fetchone():
        conn.execute("DROP TABLE temp._old")
        return 0
    conn.execute(f"CREATE TEMP TABLE _new AS SELECT s.sourced_id AS sid, s.role, {news} FROM stg.users s "
                 f"WHERE s._deleted = 0 AND s.sourced_id IN (SELECT c.sourced_id FROM changes c WHERE c.run_id=:run "
                 f"AND c.entity='users' AND c.action='insert')", scope)
    joins = []
    for i in width:
        conn.execute(f"CREATE INDEX temp._new_k{i} ON _new (k{i})")
        earlier = "".join(f" AND (o.k{j} IS NULL OR n.k{j} IS NULL)" for j in range(i))
        joins.append(f"SELECT o.sid AS old, n.sid AS new FROM temp._old o JOIN temp._new n ON n.k{i} = o.k{i} "
                     f"AND n.role IS o.role{earlier}")
    conn.execute(f"CREATE TEMP TABLE _pairs AS SELECT DISTINCT old, new FROM ({' UNION ALL '.join(joins)})")
    conn.execute("CREATE TEMP TABLE _rekeys AS SELECT old, new FROM temp._pairs WHERE "
                 "old IN (SELECT old FROM temp._pairs GROUP BY old HAVING count(*) = 1) AND "
                 "new IN (SELECT new FROM temp._pairs GROUP BY new HAVING count(*) = 1)")
    for table in ("_old", "_new", "_pairs"):
        conn.execute(f"DROP TABLE temp.{table}")
    pairs = conn.execute("SELECT old, new FROM temp._rekeys ORDER BY new").fetchall()
    if not pairs:
        return 0
    conn.execute("DELETE FROM changes WHERE run_id=:run AND entity='users' AND ((action='insert' AND sourced_id "
                 "IN (SELECT new FROM temp._rekeys)) OR (action='delete' AND sourced_id IN "
                 "(SELECT old FROM temp._rekeys)))", scope)
    conn.executemany("INSERT INTO changes (run_id, entity, school, source, sourced_id, action, fields) "
                     "VALUES (?, 'users', ?, ?, ?, 'rekey', ?)",
                     [(run_id, school, source, new, json.dumps(fields, ensure_ascii=False))
                      for new, fields in _audits(conn, scope)])
    return len(pairs)


def _audits(conn: sqlite3.Connection, scope: dict[str, Any]) -> list[tuple[str, dict[str, list[Any]]]]:
    """(new sourcedId, ``{column: [old, new]}``) per re-keyed pair: the sourcedId and whatever else changed."""
    cols = TABLES["users"].columns
    sel = ", ".join(f"l.{q(c)}" for c in cols) + ", " + ", ".join(f"s.{q(c)}" for c in cols)
    rows = conn.execute(f"SELECT {sel} FROM temp._rekeys r JOIN main.users l ON l.school=:school AND "
                        f"l.source=:source AND l.sourced_id = r.old JOIN stg.users s ON s.sourced_id = r.new "
                        f"ORDER BY r.new", scope)
    n = len(cols)
    out = []
    for row in rows:
        old, new = row[:n], row[n:]
        out.append((new[0], {c: [o, v] for c, o, v in zip(cols, old, new, strict=True) if o != v}))
    return out


def count_rekeys(counts: dict[str, int], rekeyed: int, add_only: bool) -> None:
    """A re-keyed pair is one ``rekeyed`` person, not an insert and a delete (or a skipped delete)."""
    counts["rekeyed"] = rekeyed
    counts["inserted"] -= rekeyed
    counts["delete_skipped" if add_only else "deleted"] -= rekeyed


def unchanged(counts: dict[str, int], staged: int) -> int:
    """Staged rows the diff left as they are: neither inserted, updated, restored nor re-keyed."""
    return staged - counts["inserted"] - counts["updated"] - counts["restored"] - counts.get("rekeyed", 0)


def close_rekeyed(conn: sqlite3.Connection, scope: dict[str, Any]) -> None:
    """Close the old rows of this run's re-keys: soft-deleted by the run, naming the sourcedId that replaced them."""
    conn.execute("UPDATE main.users SET deleted_at=:now, deleted_run=:run, "
                 "rekeyed_to = (SELECT r.new FROM temp._rekeys r WHERE r.old = main.users.sourced_id) "
                 "WHERE school=:school AND source=:source AND sourced_id IN (SELECT old FROM temp._rekeys)", scope)


def person_id_sql(rekeyed: int) -> str:
    """SQL for the person id of a users row inserted from staging ``s``: the re-keyed row's, or a new one."""
    if not rekeyed:
        return NEW_PERSON_ID
    return (f"coalesce((SELECT o.person_id FROM temp._rekeys r JOIN main.users o ON o.school=:school AND "
            f"o.source=:source AND o.sourced_id = r.old WHERE r.new = s.sourced_id), {NEW_PERSON_ID})")
