"""Helpers for the OneRoster API tests (plain functions; the fixtures are in api_fixtures)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from rostersync.store.schema import BOOKKEEPING, IDENTITY_COLUMNS

ROSTER_TABLES = ("orgs", "academic_sessions", "courses", "classes", "users", "enrollments", "demographics")
SECRET_ENV = "ROSTERSYNC_TEST_API_SECRET"
#: Settings that keep retries fast in tests (the defaults are for real servers).
FAST = {"backoff": "0.01", "timeout": "10"}

DEMOGRAPHICS = [
    ["sourcedId", "status", "dateLastModified", "birthDate", "sex", "americanIndianOrAlaskaNative", "asian",
     "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces",
     "hispanicOrLatinoEthnicity", "countryOfBirthCode", "stateOfBirthAbbreviation", "cityOfBirth",
     "publicSchoolResidenceStatus"],
    ["le-stu-0001", "", "", "2020-03-04", "female", "false", "true", "false", "false", "false", "false", "false",
     "US", "CA", "Fresno", ""],
    ["le-stu-0002", "", "", "2020-05-06", "male", "", "", "", "", "true", "", "true", "", "", "", ""],
    ["rm-stu-0001", "", "", "2014-01-02", "male", "", "", "", "", "", "", "", "", "", "", ""],
]


def add_demographics(bundle: Path) -> None:
    """Give the sample bundle a demographics.csv (the embedded sample has none)."""
    import csv

    with (bundle / "demographics.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(DEMOGRAPHICS)
    manifest = bundle / "manifest.csv"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("file.demographics,absent",
                                                                     "file.demographics,bulk"), encoding="utf-8")


#: Columns that say when and how a source last touched a record, not what the record is: a bulk CSV
#: row leaves status and dateLastModified blank (the CSV binding says it must), the same record from a
#: spec-exact API carries ``active`` and a date-time (the REST binding requires both).
PROVENANCE = ("status", "date_last_modified")


def roster_by_source(db: Path, api_version: str = "1.1") -> dict[str, dict[str, list[tuple]]]:
    """{source: {table: rows}}, rows without the source, bookkeeping and provenance columns, sorted:
    what a school sees, whichever way it arrived.

    ``api_version="1.2"``: the other sources' users are shown as a spec-exact 1.2 server serves them:
    1.2 has no plain ``administrator`` role, so a 1.1 bundle's administrator is served (and so synced)
    as ``siteAdministrator``, or ``districtAdministrator`` when none of their orgs is a school."""
    out: dict[str, dict[str, list[tuple]]] = {}
    with sqlite3.connect(db) as conn:
        schools = {r[0] for r in conn.execute("SELECT sourced_id FROM orgs WHERE type='school'")}
        for table in ROSTER_TABLES:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            keep = [c for c in columns if c != "source" and c not in BOOKKEEPING and c not in PROVENANCE
                    and c not in IDENTITY_COLUMNS.get(table, ())]
            select = ", ".join(f'"{c}"' for c in keep)
            rows = conn.execute(f"SELECT source, {select} FROM {table} WHERE deleted_at IS NULL "
                                f"ORDER BY school, sourced_id").fetchall()
            for row in rows:
                values = list(row[1:])
                if api_version == "1.2" and table == "users" and row[0] != "oneroster-api":
                    values = _administrator_12(values, keep, schools)
                out.setdefault(row[0], {t: [] for t in ROSTER_TABLES})[table].append(tuple(values))
    return out


def _administrator_12(values: list, columns: list[str], schools: set[str]) -> list:
    role, orgs = columns.index("role"), columns.index("org_sourced_ids")
    if values[role] == "administrator":
        at_school = any(org in schools for org in json.loads(values[orgs] or "[]"))
        values[role] = "siteAdministrator" if at_school else "districtAdministrator"
    return values


def live_counts(db: Path, source: str = "oneroster-api") -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t} WHERE source=? AND deleted_at IS NULL",
                                [source]).fetchone()[0] for t in ROSTER_TABLES}
