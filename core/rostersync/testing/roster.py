"""What a school sees of a roster, whichever way it arrived: the stored rows to compare two syncs by.

Two sources that delivered the same roster (a OneRoster API and the CSV bundle it serves, an SFTP drop
and the same files in a folder) must store the same rows, apart from the columns that say which
source it was and when and how it last touched a record. :func:`roster_rows` reads one source's live
rows that way, sorted; :func:`differences` says in words where two such snapshots part (the
conformance kit's failure message); :func:`roster_by_source` gives every source's rows of one
database at once.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import attrs

from rostersync.store.schema import BOOKKEEPING, IDENTITY_COLUMNS

ROSTER_TABLES = ("orgs", "academic_sessions", "courses", "classes", "users", "enrollments", "demographics")
#: Columns that say when and how a source last touched a record, not what the record is: a bulk CSV
#: row leaves status and dateLastModified blank (the CSV binding says it must), the same record from a
#: spec-exact API carries ``active`` and a date-time (the REST binding requires both).
PROVENANCE = ("status", "date_last_modified")


@attrs.frozen
class Table:
    columns: tuple[str, ...]
    rows: list[tuple]


Roster = dict[str, Table]


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """What a record is: no source, bookkeeping or provenance, nor the identity a store keeps of its own
    (a user's stable person id: each source's rows get theirs)."""
    columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    return [c for c in columns if c != "source" and c not in BOOKKEEPING and c not in PROVENANCE
            and c not in IDENTITY_COLUMNS.get(table, ())]


def roster_rows(db: Path, source: str, served_as: str | None = None) -> Roster:
    """``source``'s live rows per roster table, without the source, bookkeeping and provenance columns,
    ordered by school and sourcedId; ``extra`` without the ``metadata.original.*`` keys a quirk adds when it
    replaces a value (the convention of the built-in quirks).

    ``served_as="1.2"``: the users as a spec-exact 1.2 server serves a 1.1 bundle's: 1.2 has no plain
    ``administrator`` role, so an administrator is served (and so synced) as ``siteAdministrator``, or
    ``districtAdministrator`` when none of their orgs is a school."""
    out: Roster = {}
    with sqlite3.connect(db) as conn:
        schools = {r[0] for r in conn.execute("SELECT sourced_id FROM orgs WHERE type='school' AND source=?",
                                              [source])}
        for table in ROSTER_TABLES:
            keep = _columns(conn, table)
            select = ", ".join(f'"{c}"' for c in keep)
            rows = conn.execute(f"SELECT {select} FROM {table} WHERE deleted_at IS NULL AND source=? "
                                f"ORDER BY school, sourced_id", [source]).fetchall()
            if "extra" in keep:
                at = keep.index("extra")
                rows = [(*r[:at], _extra(r[at]), *r[at + 1:]) for r in rows]
            if served_as == "1.2" and table == "users":
                rows = [tuple(_administrator_12(list(r), keep, schools)) for r in rows]
            out[table] = Table(tuple(keep), rows)
    return out


def _extra(value: str | None) -> str | None:
    """A record's ``extra`` without what a quirk kept of the values it replaced (``metadata.original.*``):
    the record is compared as it is after the fix."""
    if not value or "metadata.original." not in value:
        return value
    kept = {k: v for k, v in json.loads(value).items() if not k.startswith("metadata.original.")}
    return json.dumps(kept, ensure_ascii=False) if kept else None


def roster_by_source(db: Path, api_version: str = "1.1", api_source: str = "oneroster-api"
                     ) -> dict[str, dict[str, list[tuple]]]:
    """{source: {table: rows}} of every source in ``db``; the sources other than ``api_source`` are shown
    as a ``api_version`` server would serve them (see :func:`roster_rows`)."""
    with sqlite3.connect(db) as conn:
        sources = [r[0] for r in conn.execute("SELECT DISTINCT source FROM users UNION "
                                              "SELECT DISTINCT source FROM orgs")]
    return {s: {t: table.rows for t, table in roster_rows(db, s, None if s == api_source else api_version).items()}
            for s in sources}


def _administrator_12(values: list, columns: list[str], schools: set[str]) -> list:
    role, orgs = columns.index("role"), columns.index("org_sourced_ids")
    if values[role] == "administrator":
        at_school = any(org in schools for org in json.loads(values[orgs] or "[]"))
        values[role] = "siteAdministrator" if at_school else "districtAdministrator"
    return values


def differences(expected: Roster, got: Roster, examples: int = 3) -> list[str]:
    """Where ``got`` differs from ``expected``, table by table: counts, then the first rows only one of
    them has (by sourcedId, with the fields that differ when both have it). Empty: the same roster."""
    problems = []
    for table, want in expected.items():
        have = got.get(table, Table(want.columns, []))
        if have.rows == want.rows:
            continue
        school, key = want.columns.index("school"), want.columns.index("sourced_id")
        mine = {(r[school], r[key]): r for r in have.rows}
        theirs = {(r[school], r[key]): r for r in want.rows}
        missing = [k for k in theirs if k not in mine]
        extra = [k for k in mine if k not in theirs]
        changed = [k for k in theirs if k in mine and mine[k] != theirs[k]]
        notes = [f"{table}: {len(have.rows)} rows, expected {len(want.rows)}"]
        if missing:
            notes.append(f"missing {_ids(missing, examples)}")
        if extra:
            notes.append(f"unexpected {_ids(extra, examples)}")
        for k in changed[:examples]:
            fields = [f"{c}={mine[k][i]!r} (expected {theirs[k][i]!r})"
                      for i, c in enumerate(want.columns) if mine[k][i] != theirs[k][i]]
            notes.append(f"{k[1]}: {', '.join(fields)}")
        if len(changed) > examples:
            notes.append(f"and {len(changed) - examples} more changed rows")
        problems.append("; ".join(notes))
    return problems


def _ids(keys: list[tuple], examples: int) -> str:
    shown = ", ".join(str(k[1]) for k in keys[:examples])
    return f"{shown} (+{len(keys) - examples} more)" if len(keys) > examples else shown
