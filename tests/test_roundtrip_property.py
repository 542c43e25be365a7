"""Property: a valid roster, however odd its values, comes back out of ``rostersync export --raw`` exactly as
it went in: write the OneRoster CSV files -> ``rostersync sync`` -> ``export --raw`` -> compare cell by cell.

Values are drawn wide: any Unicode text (quotes, commas, line breaks, right-to-left and astral
characters, formula-like ``=``/``@``/``+``/``-`` starts, leading spaces) except NUL (refused by policy),
identifiers with punctuation, dates across centuries, every enumeration value, ``metadata.*`` columns.
Only the canonical spellings are generated (enumerations, lower-case booleans, CEDS grade codes), since
the store normalises the others on purpose. ``ROSTERSYNC_FUZZ_EXAMPLES`` raises the example count.
"""

from __future__ import annotations

import csv
import os
import string
import tempfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rostersync.cli import main
from rostersync.export import FILES
from rostersync.grades import CEDS_GRADES
from rostersync.model import CLASS_TYPES, ENROLLMENT_ROLES, SESSION_TYPES, USER_ROLES

ID_CHARS = string.ascii_letters + string.digits + "-_.=+@'#éß中"
ids = st.text(ID_CHARS, min_size=1, max_size=10)
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=16)
required = text.filter(lambda s: s.strip() != "")
dates = st.dates().map(lambda d: d.isoformat())  # 0001-01-01 .. 9999-12-31
stamps = st.one_of(st.just(""), st.datetimes().map(lambda d: d.isoformat(timespec="milliseconds") + "Z"))
status = st.sampled_from(("", "active", "inactive"))
boolean = st.sampled_from(("true", "false"))
grades = st.lists(st.sampled_from(CEDS_GRADES), unique=True, max_size=3).map(",".join)
metadata_names = st.lists(st.text(string.ascii_letters + "._", min_size=1, max_size=8).map(lambda s: "metadata." + s),
                          unique=True, max_size=2)


@st.composite
def rosters(draw: st.DrawFn) -> dict[str, list[dict[str, str]]]:
    """file name -> rows (column -> cell), a consistent district: every reference resolves."""
    pool = draw(st.lists(ids, unique=True, min_size=24, max_size=24))
    take = iter(pool).__next__

    def common() -> dict[str, str]:
        return {"sourcedId": take(), "status": draw(status), "dateLastModified": draw(stamps)}

    def extra(names: list[str]) -> dict[str, str]:
        return {n: draw(text) for n in names}

    district = {**common(), "name": draw(required), "type": "district", "identifier": draw(text), "parentSourcedId": ""}
    schools = [{**common(), "name": draw(required), "type": "school", "identifier": draw(text),
                "parentSourcedId": district["sourcedId"]} for _ in range(draw(st.integers(1, 2)))]
    year = {**common(), "title": draw(required), "type": "schoolYear", "startDate": draw(dates), "endDate": draw(dates),
            "parentSourcedId": "", "schoolYear": draw(required)}
    terms = [{**common(), "title": draw(required), "type": draw(st.sampled_from(SESSION_TYPES)),
              "startDate": draw(dates), "endDate": draw(dates), "parentSourcedId": year["sourcedId"],
              "schoolYear": year["schoolYear"]} for _ in range(draw(st.integers(1, 2)))]
    school_ids = [s["sourcedId"] for s in schools]
    courses = [{**common(), "schoolYearSourcedId": year["sourcedId"], "title": draw(required), "courseCode": draw(text),
                "grades": draw(grades), "orgSourcedId": draw(st.sampled_from(school_ids)), "subjects": "",
                "subjectCodes": ""} for _ in range(draw(st.integers(1, 2)))]
    classes = []
    for _ in range(draw(st.integers(1, 3))):
        course = draw(st.sampled_from(courses))
        classes.append({**common(), "title": draw(required), "grades": draw(grades),
                        "courseSourcedId": course["sourcedId"], "classCode": draw(text),
                        "classType": draw(st.sampled_from(CLASS_TYPES)), "location": draw(text),
                        "schoolSourcedId": course["orgSourcedId"],
                        "termSourcedIds": ",".join(draw(st.lists(st.sampled_from([t["sourcedId"] for t in terms]),
                                                                 unique=True, min_size=1))),
                        "subjects": "", "subjectCodes": "", "periods": ""})
    user_meta = draw(metadata_names)
    users = []
    for _ in range(draw(st.integers(1, 5))):
        users.append({**common(), "enabledUser": draw(boolean),
                      "orgSourcedIds": ",".join(draw(st.lists(st.sampled_from(school_ids), unique=True, min_size=1))),
                      "role": draw(st.sampled_from(USER_ROLES)), "username": draw(required),
                      "userIds": ",".join(f"{{{t}:{i}}}" for t, i in draw(st.lists(st.tuples(ids, ids), max_size=2))),
                      "givenName": draw(required), "familyName": draw(required), "middleName": draw(text),
                      "identifier": draw(text), "email": draw(text), "sms": draw(text), "phone": draw(text),
                      "agentSourcedIds": "", "grades": draw(grades), **extra(user_meta)})
    enrollments = []
    for _ in range(draw(st.integers(0, 6))):
        cls = draw(st.sampled_from(classes))
        enrollments.append({**common(), "classSourcedId": cls["sourcedId"], "schoolSourcedId": cls["schoolSourcedId"],
                            "userSourcedId": draw(st.sampled_from(users))["sourcedId"],
                            "role": draw(st.sampled_from(ENROLLMENT_ROLES)),
                            "primary": draw(st.sampled_from(("", "true", "false"))),
                            "beginDate": draw(st.one_of(st.just(""), dates)),
                            "endDate": draw(st.one_of(st.just(""), dates))})
    return {"orgs.csv": [district, *schools], "academicSessions.csv": [year, *terms], "courses.csv": courses,
            "classes.csv": classes, "users.csv": users, "enrollments.csv": enrollments}


def write_bundle(roster: dict[str, list[dict[str, str]]], folder: Path) -> None:
    folder.mkdir()
    manifest = [["propertyName", "value"], ["manifest.version", "1.0"], ["oneroster.version", "1.1"]]
    for name, rows in roster.items():
        manifest.append([f"file.{name.removesuffix('.csv')}", "bulk"])
        columns = [c for c in FILES[name][1] if c != "password"]
        columns += [k for k in (rows[0] if rows else {}) if k not in columns]
        with (folder / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(columns)
            writer.writerows([[row.get(c, "") for c in columns] for row in rows])
    for name in ("categories", "classResources", "courseResources", "demographics", "lineItems", "resources",
                 "results"):
        manifest.append([f"file.{name}", "absent"])
    with (folder / "manifest.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(manifest)


def read_export(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["sourcedId"]: row for row in csv.DictReader(handle)}


EXAMPLES = int(os.environ.get("ROSTERSYNC_FUZZ_EXAMPLES", "150")) // 5


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rosters())
def test_a_valid_roster_round_trips_through_sync_and_export(roster: dict[str, list[dict[str, Any]]]) -> None:
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_bundle(roster, root / "bundle")
        config = str(root / "rostersync.toml")

        def cli(*args: str) -> str:
            result = runner.invoke(main, ["--config", config, *args], catch_exceptions=False)
            assert result.exit_code == 0, result.output
            return result.output

        cli("init")
        cli("schools", "add", "any", "--name", "Any School")  # no org ids: the whole district
        cli("enable", "any", "csv-folder", "--set", f"path={root / 'bundle'}")
        cli("sync", "any")
        cli("export", "any", "--out", str(root / "out"), "--raw")
        for name, rows in roster.items():
            exported = read_export(root / "out" / name)
            assert set(exported) == {r["sourcedId"] for r in rows}, name
            for row in rows:
                back = exported[row["sourcedId"]]
                assert {c: back.get(c, "") for c in row} == row, (name, row["sourcedId"])
