"""Helpers for the OneRoster API tests (plain functions; the fixtures are in api_fixtures)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from rostersync.testing.roster import ROSTER_TABLES, roster_by_source

__all__ = ["roster_by_source"]  # the roster comparison lives in the package, for the conformance kit too
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


def live_counts(db: Path, source: str = "oneroster-api") -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t} WHERE source=? AND deleted_at IS NULL",
                                [source]).fetchone()[0] for t in ROSTER_TABLES}
