"""The failures an operator meets first, each named by file, line and column, each leaving the roster
exactly as it was; and the per-check policies (error vs skip-and-report)."""

from __future__ import annotations

import csv
import io

import pytest
from conftest import edit_csv, roster_snapshot
from formats_fixtures import add_school, query, sync, warnings


def _synced(cli, db_path):  # type: ignore[no-untyped-def]
    """Lincoln synced once; returns the roster to compare against after a failed run."""
    assert sync(cli, "lincoln")["status"] == "ok"
    return roster_snapshot(db_path)


def _failed(cli) -> str:  # type: ignore[no-untyped-def]
    run = sync(cli, "lincoln")
    assert run["status"] == "failed", run
    return run["error"]


def test_missing_users_csv_names_the_manifest_line_and_every_missing_file(cli, school_with_bundle, bundle, db_path):
    before = _synced(cli, db_path)
    (bundle / "users.csv").unlink()
    (bundle / "courses.csv").unlink()
    error = _failed(cli)
    assert "the oneroster-1.1 bundle is incomplete; nothing was imported" in error
    assert ("manifest.csv:9:value: manifest.csv declares file.users=bulk but users.csv is not in the bundle "
            "(users.csv: students, teachers, guardians and administrators") in error
    assert "manifest.csv:6:value: manifest.csv declares file.courses=bulk but courses.csv is not in the bundle" in error
    assert roster_snapshot(db_path) == before


def test_a_column_missing_from_a_header(cli, school_with_bundle, bundle, db_path):
    before = _synced(cli, db_path)
    path = bundle / "users.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    drop = rows[0].index("givenName")
    out = io.StringIO()
    csv.writer(out).writerows([r[:drop] + r[drop + 1:] for r in rows])
    path.write_text(out.getvalue(), encoding="utf-8")
    assert "users.csv:1:givenName: header lacks required column(s) givenName" in _failed(cli)
    assert roster_snapshot(db_path) == before


@pytest.mark.parametrize(("file", "index", "column", "value", "expected"), [
    ("classes.csv", 1, "classType", "lecture", "classes.csv:3:classType: 'lecture' is not one of: homeroom, scheduled"),
    ("academicSessions.csv", 1, "startDate", "2026-13-45",
     "academicSessions.csv:3:startDate: '2026-13-45' is not a date (expected YYYY-MM-DD)"),
], ids=["unknown enum value", "malformed date"])
def test_a_bad_value(cli, school_with_bundle, bundle, db_path, file, index, column, value, expected):
    before = _synced(cli, db_path)

    def bad(rows):
        rows[index][column] = value
        return rows

    edit_csv(bundle / file, bad)
    assert expected in _failed(cli)
    assert roster_snapshot(db_path) == before


def test_a_duplicate_sourced_id(cli, school_with_bundle, bundle, db_path):
    before = _synced(cli, db_path)
    edit_csv(bundle / "users.csv", lambda rows: [*rows, dict(rows[3])])
    error = _failed(cli)
    assert "users.csv:759:sourcedId: duplicate sourcedId 'le-tch-004' (first seen on line 5)" in error
    assert roster_snapshot(db_path) == before


def test_many_bad_rows_are_counted_in_the_first_error(cli, school_with_bundle, bundle, db_path):
    def bad_roles(rows):
        for r in rows[:3]:
            r["role"] = "wizard"
        return rows

    edit_csv(bundle / "users.csv", bad_roles)
    error = _failed(cli)
    assert "users.csv:2:role: 'wizard' is not one of" in error
    assert "(and 2 more invalid row(s) in users.csv; rostersync validate lists them all)" in error


def test_duplicate_policy_skip_keeps_the_first_row_and_warns(cli, school_with_bundle, bundle, db_path):
    assert cli("enable", "lincoln", "csv-folder", "--set", "on_duplicate=skip").exit_code == 0
    edit_csv(bundle / "classes.csv", lambda rows: [*rows, {**rows[0], "title": "Second copy"}])
    run = sync(cli, "lincoln")
    assert run["status"] == "ok"
    assert ("classes.csv:66:sourcedId: skipped: duplicate sourcedId 'cls-le-KG-math-fall' (first seen on line 2): "
            "sourcedIds must be unique") in warnings(cli, run["run"])


def test_student_with_no_known_org_is_skipped_by_default_and_refused_on_request(cli, project, bundle, db_path):
    def edit(rows):
        for r in rows:
            if r["sourcedId"] == "le-stu-0001":
                r["orgSourcedIds"] = "dist-maple,sch-lincoln"  # a district and a school: fine
            if r["sourcedId"] == "le-stu-0002":
                r["orgSourcedIds"] = "sch-nowhere,sch-lincoln"  # one org that exists is enough
            if r["sourcedId"] == "le-stu-0004":
                r["orgSourcedIds"] = "dist-maple"  # no school, but a known org: kept (issue 15)
            if r["sourcedId"] == "le-stu-0003":
                r["orgSourcedIds"] = "sch-nowhere"  # no known org at all
        return rows

    edit_csv(bundle / "users.csv", edit)
    line = next(i for i, r in enumerate(csv.DictReader((bundle / "users.csv").open(encoding="utf-8")), start=2)
                if r["sourcedId"] == "le-stu-0003")
    add_school(cli, "district", bundle)  # no org ids: the whole district
    run = sync(cli, "district")
    assert run["status"] == "ok"
    issues = warnings(cli, run["run"])
    assert (f"users.csv:{line}:orgSourcedIds: student 'le-stu-0003' has no known org: none of its orgs "
            f"(sch-nowhere) is in this bundle; row skipped") in issues
    assert not [w for w in issues if "le-stu-0001" in w or "le-stu-0002" in w or "le-stu-0004" in w]
    assert query(db_path, "SELECT org_sourced_ids FROM users WHERE sourced_id='le-stu-0004'") == [('["dist-maple"]',)]
    # its enrollments now refer to a user that is not imported: skipped too, each reported
    dangling = [w for w in issues if "refers to user 'le-stu-0003'" in w]
    assert dangling and all(w.startswith("enrollments.csv:") and w.endswith("row skipped") for w in dangling)
    assert query(db_path, "SELECT count(*) FROM enrollments WHERE user_sourced_id='le-stu-0003'") == [(0,)]

    assert cli("enable", "district", "csv-folder", "--set", "on_no_school=error").exit_code == 0
    before = roster_snapshot(db_path)
    run = sync(cli, "district")
    assert run["status"] == "failed"
    assert f"users.csv:{line}:orgSourcedIds: student 'le-stu-0003' has no known org" in run["error"]
    assert roster_snapshot(db_path) == before
