"""Clever SFTP CSV synced end to end from a committed fixture: derived courses and terms, contacts as
guardians (multi-contact students, shared contacts between siblings), co-teachers, multi-school
teachers, grade names and aliases, US dates, case-insensitive headers, unknown columns."""

from __future__ import annotations

import json

from conftest import edit_csv, roster_snapshot
from formats_fixtures import DATA, add_school, copy_fixture, query, row, sync, warnings


def _ids(value: str | None) -> list[str]:
    return json.loads(value) if value else []


def test_clever_district(cli, project, db_path):
    add_school(cli, "district", DATA / "clever" / "district")
    run = sync(cli, "district")
    assert run["status"] == "ok", run["error"]
    inserted = {entity: c["inserted"] for entity, c in run["counts"].items()}
    assert inserted == {"orgs": 2, "academic_sessions": 2, "courses": 4, "classes": 4, "users": 13, "enrollments": 12}

    # a student with two contacts is two rows; a contact with a Contact_sis_id is shared by siblings
    zoe = row(db_path, "users", "student:100")
    assert (zoe["given_name"], zoe["role"], _ids(zoe["org_sourced_ids"])) == ("Zoe", "student", ["S1"])
    assert sorted(_ids(zoe["agent_sourced_ids"])) == ["contact:C1", "contact:C2"]
    mary = row(db_path, "users", "contact:C1")
    assert (mary["given_name"], mary["family_name"], mary["role"], mary["email"]) == (
        "Mary", "Adams", "parent", "mary@home.example")
    assert sorted(_ids(mary["agent_sourced_ids"])) == ["student:100", "student:101"]
    assert json.loads(mary["extra"]) == {"Contact_relationship": "Mother", "Contact_type": "Parent/Guardian"}
    # contacts without a sis id: one per student and name; repeated student rows need not be adjacent
    max_contacts = _ids(row(db_path, "users", "student:200")["agent_sourced_ids"])
    assert len(max_contacts) == 2
    relatives = query(db_path, "SELECT given_name, family_name, role, agent_sourced_ids FROM users "
                               "WHERE sourced_id IN (?, ?) ORDER BY given_name", *max_contacts)
    assert relatives == [("Ruth", "Brown", "relative", '["student:200"]'), ("Sam", "Brown", "relative",
                                                                              '["student:200"]')]
    # grade names and aliases -> CEDS, raw kept
    grades = query(db_path, "SELECT sourced_id, grades, grades_raw FROM users WHERE role='student' ORDER BY 1")
    assert grades == [("student:100", '["KG"]', '["Kindergarten"]'), ("student:101", '["KG"]', '["K"]'),
                      ("student:200", '["07"]', '["7"]'), ("student:201", '["PK"]', '["-1"]')]
    # unknown columns kept, demographic and contact columns and passwords not
    assert json.loads(zoe["extra"]) == {"Nickname": "Z"}
    assert b"09/01/2020" not in db_path.read_bytes() and b"secret" not in db_path.read_bytes()

    # teachers: a teacher listed once at S1 who teaches at S2 belongs to both; staff roles
    assert _ids(row(db_path, "users", "teacher:T1")["org_sourced_ids"]) == ["S1", "S2"]
    assert row(db_path, "users", "staff:A2")["role"] == "aide"
    assert row(db_path, "users", "staff:A1")["role"] == "administrator"

    # sections -> classes, with derived courses and terms (MM/DD/YYYY and M/D/YYYY give the same term)
    fall = "term:2026-08-17:2027-01-15:Fall 2026"
    classes = query(db_path, "SELECT sourced_id, title, course_sourced_id, term_sourced_ids, class_type FROM classes "
                             "ORDER BY 1")
    assert classes == [
        ("SEC1", "Math K", "course:S1:MK", f'["{fall}"]', "scheduled"),
        ("SEC2", "Homeroom K", "course:S1:HR", f'["{fall}"]', "homeroom"),
        ("SEC3", "Science 7 3", "course:S2:SCI7", '["term:2026-08-17:2027-06-11:Year 2026-27"]', "scheduled"),
        ("SEC4", "Art", "course:S2:Art", None, "scheduled"),
    ]
    assert json.loads(row(db_path, "classes", "SEC3")["extra"]) == {"Room": "Lab"}
    term = row(db_path, "academic_sessions", fall)
    assert (term["title"], term["type"], term["start_date"], term["end_date"], term["school_year"]) == (
        "Fall 2026", "term", "2026-08-17", "2027-01-15", "2027")
    assert row(db_path, "courses", "course:S1:MK")["grades"] == '["KG"]'

    # teacher enrollments from sections: Teacher_id is primary, Teacher_2_id.. co-teachers (deduplicated)
    teachers = query(db_path, "SELECT class_sourced_id, user_sourced_id, \"primary\" FROM enrollments "
                              "WHERE role='teacher' ORDER BY 1, 3 DESC, 2")
    assert teachers == [("SEC1", "teacher:T1", 1), ("SEC1", "teacher:T3", 0), ("SEC2", "teacher:T3", 1),
                        ("SEC2", "teacher:T1", 0), ("SEC3", "teacher:T2", 1), ("SEC3", "teacher:T1", 0),
                        ("SEC4", "teacher:T2", 1)]
    assert query(db_path, "SELECT count(*) FROM enrollments WHERE role='student'") == [(5,)]
    assert row(db_path, "enrollments", "SEC1:student:101")["user_sourced_id"] == "student:101"
    assert warnings(cli, run["run"]) == []


def test_clever_demographics_are_opt_in_and_parsed(cli, project, db_path):
    add_school(cli, "district", DATA / "clever" / "district", demographics="true")
    assert sync(cli, "district")["status"] == "ok"
    zoe = row(db_path, "demographics", "student:100")
    assert (zoe["birth_date"], zoe["sex"], zoe["white"], zoe["hispanic_or_latino_ethnicity"]) == (
        "2020-09-01", "female", 1, 0)
    assert json.loads(zoe["extra"]) == {"Ell_status": "N", "Race": "W"}
    assert row(db_path, "demographics", "student:101")["birth_date"] == "2021-03-04"  # M/D/YYYY
    assert row(db_path, "demographics", "student:201")["sex"] == "other"
    assert query(db_path, "SELECT count(*) FROM demographics") == [(4,)]


def test_clever_scoped_to_one_school_keeps_its_multi_school_teacher(cli, project, db_path):
    add_school(cli, "pine", DATA / "clever" / "district", "S2")
    run = sync(cli, "pine")
    assert run["status"] == "ok", run["error"]
    users = [r[0] for r in query(db_path, "SELECT sourced_id FROM users WHERE role != 'relative' ORDER BY 1")]
    assert users == ["staff:A2", "student:200", "student:201", "teacher:T1", "teacher:T2"]
    assert query(db_path, "SELECT sourced_id FROM classes ORDER BY 1") == [("SEC3",), ("SEC4",)]
    assert ("SEC3", "teacher:T1") in query(db_path, "SELECT class_sourced_id, user_sourced_id FROM enrollments")
    assert not [w for w in warnings(cli, run["run"]) if "skipped" in w]  # S1's rows are out of scope, not dangling


def test_clever_missing_files_are_all_reported_and_nothing_changes(cli, project, tmp_path, db_path):
    bundle = copy_fixture("clever/district", tmp_path / "clever")
    add_school(cli, "district", bundle)
    assert sync(cli, "district")["status"] == "ok"
    before = roster_snapshot(db_path)
    (bundle / "students.csv").unlink()
    (bundle / "sections.csv").unlink()
    run = sync(cli, "district")
    assert run["status"] == "failed"
    assert "the clever bundle is incomplete; nothing was imported" in run["error"]
    assert "students.csv is missing: it holds students" in run["error"]
    assert "sections.csv is missing: it holds sections with their course, term and teachers" in run["error"]
    assert roster_snapshot(db_path) == before


def test_clever_unknown_co_teacher_is_skipped_or_refused_by_policy(cli, project, tmp_path, db_path):
    bundle = copy_fixture("clever/district", tmp_path / "clever")

    def ghost(rows):
        rows[2]["Teacher_2_id"] = "T9"
        return rows

    edit_csv(bundle / "sections.csv", ghost)
    add_school(cli, "district", bundle)
    run = sync(cli, "district")
    assert run["status"] == "ok"
    assert ("sections.csv:4:Teacher_id: enrollments 'SEC3:teacher:T9' refers to user 'teacher:T9', which is not in "
            "this bundle; row skipped") in warnings(cli, run["run"])
    assert query(db_path, "SELECT count(*) FROM enrollments WHERE user_sourced_id='teacher:T9'") == [(0,)]

    assert cli("enable", "district", "csv-folder", "--set", "on_dangling=error").exit_code == 0
    before = roster_snapshot(db_path)
    failed = sync(cli, "district")
    assert failed["status"] == "failed"
    assert "sections.csv:4:Teacher_id: enrollments 'SEC3:teacher:T9' refers to user 'teacher:T9'" in failed["error"]
    assert roster_snapshot(db_path) == before
