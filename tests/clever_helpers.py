"""Helpers for the Clever Data API tests (plain functions; the fixtures are in clever_fixtures).

The district is the committed Clever CSV fixture (tests/data/clever/district); ``later_snapshot`` is a
copy of it with every kind of change a night brings (new, changed and removed students, contacts,
staff, sections, enrollments; a renamed course, a term whose dates moved), for the Events tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result
from conftest import edit_csv
from formats_fixtures import DATA, copy_fixture

DISTRICT = DATA / "clever" / "district"
TOKEN_ENV = "ROSTERSYNC_TEST_CLEVER_TOKEN"
SECRET_ENV = "ROSTERSYNC_TEST_CLEVER_SECRET"
#: keep retries fast in tests (the defaults are for Clever)
FAST = {"backoff": "0.01", "timeout": "10"}


def sync(cli: Callable[..., Result], school: str = "district", *args: str) -> dict[str, Any]:
    """One sync through the CLI (``--json``), the last source's result (exit 1: failed, 3: held)."""
    result = cli("sync", school, "--json", *args)
    assert result.exit_code in (0, 1, 3), result.output
    return json.loads(result.output)[-1]


def totals(run: dict[str, Any], entity: str | None = None) -> dict[str, int]:
    counts = [run["counts"][entity]] if entity else run["counts"].values()
    keys = ("inserted", "updated", "deleted", "restored")
    return {k: sum(c.get(k, 0) for c in counts) for k in keys}


def later_snapshot(target: Path) -> Path:
    """The district a night later: see the module docstring."""
    bundle = copy_fixture("clever/district", target)

    def students(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        kept = []
        for row in rows:
            if row["student_id"] == "201":  # Ivy leaves
                continue
            if row["student_id"] == "200" and row["Contact_name"].startswith("Sam"):  # a contact removed
                continue
            if row["student_id"] == "101":  # Yan moves up a grade
                row["Grade"] = "1"
            if row["Contact_sis_id"] == "C2":  # Tom's phone changes
                row["Contact_phone"] = "5415550199"
            kept.append(row)
        new = dict(kept[0], student_id="300", Student_number="5300", State_id="ST-300", First_name="Una",
                   Last_name="Diaz", Grade="1", Student_email="una@oak.example", Username="udiaz",
                   Contact_relationship="Mother", Contact_type="Parent/Guardian", Contact_name="Rosa Diaz",
                   Contact_phone="5415550140", Contact_email="rosa@home.example", Contact_sis_id="", Nickname="")
        return [*kept, new]

    def sections(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        out = []
        for row in rows:
            if row["Section_id"] == "SEC4":  # Art is cancelled
                continue
            if row["Section_id"] == "SEC2":  # T1 no longer co-teaches homeroom
                row["Teacher_2_id"] = ""
            if row["Section_id"] == "SEC3":  # the year ends later; the course is renamed
                row["Term_end"] = "2027-06-18"
                row["Course_name"] = "Science Seven"
            out.append(row)
        return out

    def enrollments(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        kept = [r for r in rows if r["Student_id"] != "201" and r["Section_id"] != "SEC4"
                and (r["Student_id"], r["Section_id"]) != ("100", "SEC2")]
        return [*kept, {"School_id": "S1", "Section_id": "SEC1", "Student_id": "300"}]

    edit_csv(bundle / "students.csv", students)
    edit_csv(bundle / "sections.csv", sections)
    edit_csv(bundle / "enrollments.csv", enrollments)
    edit_csv(bundle / "staff.csv", lambda rows: [r for r in rows if r["Staff_id"] != "A2"])
    edit_csv(bundle / "teachers.csv", lambda rows: [dict(r, Title="Dr.") if r["Teacher_id"] == "T2" else r
                                                     for r in rows])
    edit_csv(bundle / "schools.csv", lambda rows: [dict(r, School_phone="5415550299") if r["School_id"] == "S2"
                                                    else r for r in rows])
    return bundle
