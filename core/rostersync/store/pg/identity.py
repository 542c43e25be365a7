"""The PostgreSQL store's side of identity continuity (:mod:`rostersync.identity`), set-based SQL only:
the same pairing as SQLite's (:mod:`rostersync.store.sqlite_identity`, whose rules the docstrings there
give), inside the apply transaction, with temporary tables dropped at its commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rostersync.store import sqlite_identity
from rostersync.store.pg.migrations import STAGE_PREFIX
from rostersync.store.sqlfiles import q

STAGE = q(STAGE_PREFIX + "users")


def _user_id(alias: str, types: Sequence[str]) -> str:
    """SQL: the identifier of the first userIds entry (stored ``["{type:id}", ...]``) whose type is one of ``types``."""
    kind = "substr(j.v, 2, strpos(j.v, ':') - 2)"
    normal = f"lower(replace(replace(replace({kind}, '_', ''), '-', ''), ' ', ''))"
    listed = ", ".join(f"'{t}'" for t in types)
    return (f"(SELECT nullif(trim(substr(j.v, strpos(j.v, ':') + 1, length(j.v) - strpos(j.v, ':') - 1)), '') "
            f"FROM json_array_elements_text({alias}.user_ids::json) WITH ORDINALITY j(v, n) "
            f"WHERE {normal} IN ({listed}) ORDER BY j.n LIMIT 1)")


def key_sql(key: str, alias: str) -> str:
    """SQL: the value of identifier ``key`` of the users row ``alias`` (NULL when it has none)."""
    return sqlite_identity.key_sql(key, alias, _user_id)


def rekey(conn: Any, p: dict[str, Any], gone: str, keys: Sequence[str], fields: str) -> int:
    """Pair the run's leaving users (live rows ``l`` meeting ``gone``) with its new ones by ``keys`` in
    precedence order; turn each unambiguous pair's insert and delete into one ``rekey`` change (its
    ``fields``: SQL of the differing columns, live ``l`` to staged ``s``); leave the pairs in ``_rekeys
    (old, new)`` for writing. Returns how many. ``p``: the run, school and source parameters."""
    olds = ", ".join(f"{key_sql(k, 'l')} AS k{i}" for i, k in enumerate(keys))
    news = ", ".join(f"{key_sql(k, 's')} AS k{i}" for i, k in enumerate(keys))
    # one statement: the leaving and the new users with their keys, the pairs each key makes where every
    # key before it is missing on one side (precedence), and of those the unambiguous ones
    def earlier(i: int) -> str:
        return "".join(f" AND (o.k{j} IS NULL OR n.k{j} IS NULL)" for j in range(i))

    joins = " UNION ALL ".join(f"SELECT o.sid AS old, n.sid AS new FROM leaving o JOIN arriving n ON n.k{i} = o.k{i} "
                               f"AND n.role IS NOT DISTINCT FROM o.role{earlier(i)}" for i in range(len(keys)))
    conn.execute(
        f"CREATE TEMP TABLE _rekeys ON COMMIT DROP AS WITH "
        f"leaving AS (SELECT l.sourced_id AS sid, l.role, {olds} FROM users l WHERE l.school=%(school)s "
        f"AND l.source=%(source)s AND l.deleted_at IS NULL AND {gone}), "
        f"arriving AS (SELECT s.sourced_id AS sid, s.role, {news} FROM {STAGE} s WHERE s.run_id=%(run)s "
        f"AND s._deleted = 0 AND s.sourced_id IN (SELECT c.sourced_id FROM changes c WHERE c.run_id=%(run)s "
        f"AND c.entity='users' AND c.action='insert')), "
        f"pairs AS (SELECT DISTINCT old, new FROM ({joins}) x) "
        f"SELECT old, new FROM pairs WHERE old IN (SELECT old FROM pairs GROUP BY old HAVING count(*) = 1) "
        f"AND new IN (SELECT new FROM pairs GROUP BY new HAVING count(*) = 1)", p)
    pairs = conn.execute("SELECT count(*) FROM _rekeys").fetchone()[0]
    if not pairs:
        return 0
    conn.execute("DELETE FROM changes WHERE run_id=%(run)s AND entity='users' AND ((action='insert' AND sourced_id "
                 "IN (SELECT new FROM _rekeys)) OR (action='delete' AND sourced_id IN (SELECT old FROM _rekeys)))", p)
    conn.execute(f"INSERT INTO changes (run_id, entity, school, source, sourced_id, action, fields) "
                 f"SELECT %(run)s, 'users', %(school)s, %(source)s, r.new, 'rekey', {fields} FROM _rekeys r "
                 f"JOIN users l ON l.school=%(school)s AND l.source=%(source)s AND l.sourced_id = r.old "
                 f"JOIN {STAGE} s ON s.run_id=%(run)s AND s.sourced_id = r.new ORDER BY r.new", p)
    return int(pairs)


def finish_rekeys(conn: Any, p: dict[str, Any]) -> None:
    """After the new rows are written: close the old rows of this run's re-keys (soft-deleted by the run,
    naming the sourcedId that replaced them) and give each new row its old row's person id."""
    conn.execute("UPDATE users u SET deleted_at=%(now)s, deleted_run=%(run)s, rekeyed_to=r.new FROM _rekeys r "
                 "WHERE u.school=%(school)s AND u.source=%(source)s AND u.sourced_id = r.old", p)
    conn.execute("UPDATE users u SET person_id = o.person_id FROM _rekeys r JOIN users o ON o.school=%(school)s "
                 "AND o.source=%(source)s AND o.sourced_id = r.old "
                 "WHERE u.school=%(school)s AND u.source=%(source)s AND u.sourced_id = r.new", p)


def duplicate_people_sql(key: str, where: str) -> str:
    """SQL: groups of a school's live users sharing identifier ``key`` (school, value, people as JSON)."""
    return (f"SELECT u.school, v, {PEOPLE} FROM users u, LATERAL (SELECT {key_sql(key, 'u')} AS v) k "
            f"WHERE u.deleted_at IS NULL {where} AND v IS NOT NULL GROUP BY u.school, v HAVING count(*) > 1")


#: SQL: the users of a group, as the JSON list duplicate_people returns
PEOPLE = ("json_agg(json_build_object('source', u.source, 'sourced_id', u.sourced_id, 'person_id', u.person_id, "
          "'role', u.role, 'given_name', u.given_name, 'family_name', u.family_name))")
