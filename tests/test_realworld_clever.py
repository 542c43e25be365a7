"""Clever drops of the shapes real districts send (issue 15), each synced through the CLI and checked
with ``rostersync validate``: legacy dates and line endings, a vendor's courses.csv, students
enrolled at a second school of the district."""

from __future__ import annotations

import json

from conftest import roster_snapshot
from formats_fixtures import add_school, query, row, sync, warnings
from shapes import clever_drop


def _validate(cli, path):  # type: ignore[no-untyped-def]
    result = cli("validate", str(path), "--json")
    return result.exit_code, json.loads(result.output)


# -- item 1: dates as spreadsheets and older Clever exports write them ------------------------------
FALL = ("8/17/26", "1/15/27", "08/17/2026", "01/15/2027", "2026-08-17", "2027-01-15")
DOBS = ("3/4/12", "12/31/09", "07/04/2011", "2010-05-06")


def legacy_drop(folder, students=1000, teachers=20, sections=40):  # type: ignore[no-untyped-def]
    """~1,000 students as an old Mac-era SIS writes them: bare-CR line endings, no final newline,
    every date form Clever files carry (M/D/YY, M/D/YYYY, MM/DD/YYYY, YYYY-MM-DD)."""
    school = lambda n: f"S{n % 2 + 1}"  # noqa: E731
    files = {
        "schools.csv": [("S1", "Oak Elementary", "101"), ("S2", "Pine Middle", "201")],
        "teachers.csv": [(school(t), f"T{t}", f"t{t}@example.org", "Teacher", f"No{t}") for t in range(teachers)],
        "sections.csv": [(school(s), f"SEC{s}", f"T{s % teachers}", f"Section {s}", f"C{s % 10}", f"Course {s % 10}",
                          "Fall 2026", *FALL[2 * (s % 3): 2 * (s % 3) + 2]) for s in range(sections)],
        "students.csv": [(school(n), f"{n}", "Kid", f"No{n}", "5", DOBS[n % 4], "", "", "") for n in range(students)],
        "enrollments.csv": [(school(s), f"SEC{s}", f"{n}") for n in range(students) for s in range(sections)
                            if s % 2 == n % 2 and (s + n) % 5 == 0],
    }
    return clever_drop(folder, files, newline="\r", final_newline=False)


def test_legacy_clever_export_with_every_date_form_syncs(cli, project, tmp_path, db_path):
    drop = legacy_drop(tmp_path / "legacy")
    raw = (drop / "students.csv").read_bytes()
    assert b"\n" not in raw and not raw.endswith(b"\r") and b"3/4/12" in raw

    code, report = _validate(cli, drop)
    assert code == 0 and report["ok"], report["errors"]
    assert report["counts"]["users"] == {"rows": 1020, "valid": 1020}

    add_school(cli, "district", drop, demographics="true")
    run = sync(cli, "district")
    assert run["status"] == "ok", run["error"]
    inserted = {entity: c["inserted"] for entity, c in run["counts"].items()}
    enrolled = len(list(drop.joinpath("enrollments.csv").read_bytes().split(b"\r"))) - 1
    assert inserted == {"orgs": 2, "academic_sessions": 1, "courses": 10, "classes": 40, "users": 1020,
                        "demographics": 1000, "enrollments": enrolled + 40}
    # the three spellings of the fall term are one term, stored in ISO form
    term = query(db_path, "SELECT sourced_id, start_date, end_date, school_year FROM academic_sessions")
    assert term == [("term:2026-08-17:2027-01-15:Fall 2026", "2026-08-17", "2027-01-15", "2027")]
    births = {r[0]: r[1] for r in query(db_path, "SELECT sourced_id, birth_date FROM demographics")}
    assert [births[f"student:{n}"] for n in range(4)] == ["2012-03-04", "2009-12-31", "2011-07-04", "2010-05-06"]
    # line numbers count bare-CR lines: the last student is on line 1,001
    assert row(db_path, "users", "student:999")["given_name"] == "Kid"
    assert warnings(cli, run["run"]) == []


def test_impossible_clever_date_names_file_line_and_column(cli, project, tmp_path, db_path):
    drop = legacy_drop(tmp_path / "legacy", students=40)
    add_school(cli, "district", drop)
    assert sync(cli, "district")["status"] == "ok"
    before = roster_snapshot(db_path)
    sections = (drop / "sections.csv").read_bytes().split(b"\r")
    sections[7] = sections[7].replace(b"1/15/27", b"2/30/27")  # SEC6, line 8
    (drop / "sections.csv").write_bytes(b"\r".join(sections))

    run = sync(cli, "district")
    assert run["status"] == "failed"
    refused = "'2/30/27' is not a date (expected MM/DD/YYYY, M/D/YY or YYYY-MM-DD)"
    assert f"sections.csv:8:Term_end: {refused}" in run["error"]
    assert roster_snapshot(db_path) == before

    code, report = _validate(cli, drop)
    assert code == 1
    errors = {(g["file"], g["column"]): g["examples"] for g in report["errors"]}
    assert errors[("sections.csv", "Term_end")] == [{"line": 8, "message": refused}]


def test_two_digit_years_follow_a_window_around_this_year():
    import datetime as dt

    from rostersync.formats.fields import century, us_date

    in_2026 = dt.date(2026, 9, 1)
    assert [century(y, in_2026) for y in (0, 26, 45, 46, 99)] == [2000, 2026, 2045, 1946, 1999]
    assert century(10, dt.date(2099, 1, 1)) == 2110  # the window moves with the calendar
    assert us_date("2/29/24") == "2024-02-29"


# -- item 9: a vendor's courses.csv; derived rows are records, not CSV text --------------------------
def small_drop(folder, **extra_files):  # type: ignore[no-untyped-def]
    files = {
        "schools.csv": [("S1", "Oak Elementary", "101"), ("S,2", "Pine, Middle", "201")],
        "teachers.csv": [("S1", "T1", "t1@example.org", "Ann", "Lee")],
        "sections.csv": [("S1", "SEC1", "T1", "Algebra 1A", "C1", "Algebra (sections)", "Fall", "8/17/26", "1/15/27"),
                         ("S1", "SEC2", "T1", "Algebra 1B", "C1", "Algebra (sections)", "Fall", "8/17/26", "1/15/27"),
                         ("S,2", "SEC3", "T1", "Band", "C9", "Band", "Fall", "8/17/26", "1/15/27")],
        "students.csv": [("S1", "A,1", "Zoe", "Adams", "5", "", "Mary Adams", "Mother", "")],
        "enrollments.csv": [("S1", "SEC1", "A,1")],
    }
    return clever_drop(folder, {**files, **extra_files}, headers={
        "courses.csv": ("School_id", "Course_number", "Course_name", "Course_description", "Subject", "Grade")})


def test_clever_courses_csv_gives_course_ids_names_and_numbers(cli, project, tmp_path, db_path):
    drop = small_drop(tmp_path / "drop", **{"courses.csv": [
        ("S1", "C1", "Algebra I", "First-year algebra", "Math", "9,10"),
        ("S1", "C2", "Geometry", "", "Math", "10"),
    ]})
    code, report = _validate(cli, drop)
    assert code == 0, report["errors"]
    assert report["counts"]["courses"] == {"rows": 3, "valid": 3}
    not_listed = ("course 'course:S,2:C9' is not in courses.csv; made from the sections naming it")
    assert report["warnings"] == [{"file": "sections.csv", "column": "Course_number", "count": 1,
                                   "examples": [{"line": 4, "message": not_listed}]}]

    add_school(cli, "district", drop)
    run = sync(cli, "district")
    assert run["status"] == "ok", run["error"]
    courses = query(db_path, "SELECT sourced_id, title, course_code, org_sourced_id, grades, subjects, extra "
                             "FROM courses ORDER BY 1")
    assert courses == [
        ("course:S,2:C9", "Band", "C9", "S,2", None, None, None),
        ("course:S1:C1", "Algebra I", "C1", "S1", '["09","10"]', '["Math"]',
         '{"Course_description": "First-year algebra"}'),
        ("course:S1:C2", "Geometry", "C2", "S1", '["10"]', '["Math"]', None),
    ]
    assert query(db_path, "SELECT sourced_id, course_sourced_id FROM classes ORDER BY 1") == [
        ("SEC1", "course:S1:C1"), ("SEC2", "course:S1:C1"), ("SEC3", "course:S,2:C9")]
    assert warnings(cli, run["run"]) == [f"sections.csv:4:Course_number: {not_listed}"]


def test_clever_without_courses_csv_derives_courses_and_ids_keep_their_commas(cli, project, tmp_path, db_path):
    """Derived rows are built as records: ids holding a comma (a student 'A,1', a school 'S,2') stay
    whole in the lists that refer to them, where a comma-joined CSV round trip split them."""
    drop = small_drop(tmp_path / "drop")
    add_school(cli, "district", drop)
    run = sync(cli, "district")
    assert run["status"] == "ok", run["error"]
    assert query(db_path, "SELECT sourced_id, title FROM courses ORDER BY 1") == [
        ("course:S,2:C9", "Band"), ("course:S1:C1", "Algebra (sections)")]
    assert json.loads(row(db_path, "users", "teacher:T1")["org_sourced_ids"]) == ["S1", "S,2"]
    contact = json.loads(row(db_path, "users", "student:A,1")["agent_sourced_ids"])
    assert len(contact) == 1
    mary = row(db_path, "users", contact[0])
    assert (mary["given_name"], mary["role"], json.loads(mary["agent_sourced_ids"])) == (
        "Mary", "parent", ["student:A,1"])
    assert warnings(cli, run["run"]) == []


def test_clever_courses_csv_row_without_number_or_name_is_refused(cli, project, tmp_path, db_path):
    drop = small_drop(tmp_path / "drop", **{"courses.csv": [("S1", "C1", "Algebra I", "", "", ""),
                                                             ("S1", "", "", "orphan", "", "")]})
    add_school(cli, "district", drop)
    run = sync(cli, "district")
    assert run["status"] == "failed"
    assert "courses.csv:3:Course_number: a course needs a Course_number (or at least a Course_name)" in run["error"]
    code, report = _validate(cli, drop)
    assert code == 1 and [(g["file"], g["column"]) for g in report["errors"]] == [("courses.csv", "Course_number")]


# -- item 7: a student enrolled at a second school of the district -----------------------------------
def two_school_drop(folder):  # type: ignore[no-untyped-def]
    return clever_drop(folder, {
        "schools.csv": [("S1", "Oak Elementary", "101"), ("S2", "Pine Middle", "201")],
        "teachers.csv": [("S1", "T1", "t1@example.org", "Ann", "Lee"), ("S2", "T2", "t2@example.org", "Bo", "Kim")],
        "sections.csv": [("S1", "SEC1", "T1", "Math 5", "M5", "Math 5", "Year", "8/17/26", "6/11/27"),
                         ("S2", "SEC2", "T2", "Band", "B1", "Band", "Year", "8/17/26", "6/11/27")],
        "students.csv": [("S1", "100", "Zoe", "Adams", "5", "", "Mary Adams", "Mother", "C1"),
                         ("S2", "200", "Max", "Brown", "7", "", "", "", "")],
        # Zoe (of S1) takes band at S2 with Max
        "enrollments.csv": [("S1", "SEC1", "100"), ("S2", "SEC2", "100"), ("S2", "SEC2", "200")],
    })


def test_scoped_clever_sync_keeps_a_students_enrollment_at_a_second_school(cli, project, tmp_path, db_path):
    drop = two_school_drop(tmp_path / "drop")
    add_school(cli, "pine", drop, "S2")
    run = sync(cli, "pine")
    assert run["status"] == "ok", run["error"]
    band = query(db_path, "SELECT e.user_sourced_id, u.given_name FROM enrollments e JOIN users u "
                          "ON u.sourced_id = e.user_sourced_id WHERE e.class_sourced_id='SEC2' ORDER BY 1")
    assert band == [("student:100", "Zoe"), ("student:200", "Max"), ("teacher:T2", "Bo")]
    zoe = row(db_path, "users", "student:100")
    assert (json.loads(zoe["org_sourced_ids"]), zoe["primary_org_sourced_id"]) == (["S1", "S2"], "S1")
    # her guardian follows her to Pine; Oak's section stays out of Pine's roster
    mary = row(db_path, "users", "contact:C1")
    assert sorted(json.loads(mary["org_sourced_ids"])) == ["S1", "S2"]
    assert query(db_path, "SELECT sourced_id FROM classes") == [("SEC2",)]
    assert not [w for w in warnings(cli, run["run"]) if "skipped" in w]

    code, report = _validate(cli, drop)
    assert code == 0 and report["counts"]["enrollments"] == {"rows": 5, "valid": 5}
