"""OneRoster bundles of the shapes real districts send (issue 15), each synced through the CLI and
checked with ``rostersync validate``: manifest versions, department orgs, absent entities."""

from __future__ import annotations

import json

from conftest import roster_snapshot
from formats_fixtures import add_school, query, sync, warnings
from shapes import TERM, enrollment, klass, oneroster_bundle, org, user


def _validate(cli, path, *args):  # type: ignore[no-untyped-def]
    result = cli("validate", str(path), "--json", *args)
    return result.exit_code, json.loads(result.output)


def small_district(folder, version="1.1", school="s1", kind="school"):  # type: ignore[no-untyped-def]
    """A district with one school (``school``, an org of type ``kind``), a class, a student and a teacher."""
    return oneroster_bundle(folder, {
        "orgs.csv": [org("d1", "District", "district"), org(school, "Oak", kind, "d1")],
        "academicSessions.csv": [TERM],
        "courses.csv": [("c1", "", "", "", "Math", "M1", "", school)],
        "classes.csv": [klass("k1", "c1", school)],
        "users.csv": [user("u1", "student", school), user("t1", "teacher", school)],
        "enrollments.csv": [enrollment("e1", "k1", school, "u1"), enrollment("e2", "k1", school, "t1", "teacher")],
    }, version=version)


# -- item 4: unknown OneRoster versions ---------------------------------------------------------------
def test_unknown_oneroster_version_is_refused_before_anything_is_read(cli, project, tmp_path, db_path):
    bundle = small_district(tmp_path / "b")
    add_school(cli, "oak", bundle)
    assert sync(cli, "oak")["status"] == "ok"
    before = roster_snapshot(db_path)
    small_district(bundle, version="7.3")
    (bundle / "users.csv").write_text("sourcedId,role\nu1\n", encoding="utf-8")  # never read

    run = sync(cli, "oak")
    assert run["status"] == "failed"
    assert run["error"] == ("manifest.csv:3:value: oneroster.version is '7.3'; rostersync reads OneRoster 1.0, 1.1 "
                            "and 1.2 bundles (check the SIS's export settings)")
    assert roster_snapshot(db_path) == before

    code, report = _validate(cli, bundle)
    assert code == 1 and report["error_count"] == 1
    assert report["errors"][0]["file"] == "manifest.csv" and report["errors"][0]["column"] == "value"
    assert "oneroster.version is '7.3'" in report["errors"][0]["examples"][0]["message"]


def test_oneroster_10_is_read_as_11_with_a_warning(cli, project, tmp_path, db_path):
    bundle = small_district(tmp_path / "b", version="1.0")
    add_school(cli, "oak", bundle)
    run = sync(cli, "oak")
    assert run["status"] == "ok", run["error"]
    assert run["counts"]["users"]["inserted"] == 2
    expected = ("manifest.csv:3:value: oneroster.version is 1.0: read as OneRoster 1.1, whose files and columns "
                "1.0 mostly shares; check the result, or export OneRoster 1.1")
    assert warnings(cli, run["run"]) == [expected]

    code, report = _validate(cli, bundle)
    assert code == 0 and report["format"] == "oneroster-1.1"
    assert [g["examples"][0]["line"] for g in report["warnings"]] == [3]
    # an errata release is its version
    small_district(bundle, version="1.1.1")
    assert _validate(cli, bundle)[1]["warning_count"] == 0


# -- item 2: departments and other non-school orgs -----------------------------------------------------
def department_district(folder):  # type: ignore[no-untyped-def]
    """Oak school with a science department; a district-level 'local' org with no school above it."""
    return oneroster_bundle(folder, {
        "orgs.csv": [org("d1", "District", "district"), org("s1", "Oak", "school", "d1"),
                     org("sci", "Oak Science", "department", "s1"), org("lea", "Outreach", "local", "d1"),
                     org("s2", "Pine", "school", "d1")],
        "academicSessions.csv": [TERM],
        "courses.csv": [("c1", "", "", "", "Biology", "B1", "", "sci")],
        "classes.csv": [klass("k1", "c1", "sci")],
        "users.csv": [user("t1", "teacher", "sci"), user("u1", "student", "sci"), user("u2", "student", "lea"),
                      user("u3", "student", "ghost"), user("u4", "student", "s2")],
        "enrollments.csv": [enrollment("e1", "k1", "sci", "t1", "teacher"), enrollment("e2", "k1", "sci", "u1")],
    })


def test_users_and_classes_of_departments_are_kept_and_attached_to_the_school(cli, project, tmp_path, db_path):
    bundle = department_district(tmp_path / "b")
    skipped = ("users.csv:5:orgSourcedIds: student 'u3' has no known org: none of its orgs (ghost) is in this "
               "bundle; row skipped")
    code, report = _validate(cli, bundle)
    assert code == 0 and report["counts"]["users"] == {"rows": 5, "valid": 4, "skipped": 1}
    assert report["warnings"] == [{"file": "users.csv", "column": "orgSourcedIds", "count": 1, "examples": [
        {"line": 5, "message": skipped.split("orgSourcedIds: ", 1)[1]}]}]

    add_school(cli, "district", bundle)
    run = sync(cli, "district")
    assert run["status"] == "ok", run["error"]
    orgs = dict(query(db_path, "SELECT sourced_id, org_sourced_ids FROM users"))
    # attached to the department and the school above it; a local org with no school above stays as sent
    assert orgs == {"t1": '["sci","s1"]', "u1": '["sci","s1"]', "u2": '["lea"]', "u4": '["s2"]'}
    assert query(db_path, "SELECT sourced_id, school_sourced_id FROM classes") == [("k1", "sci")]
    assert query(db_path, "SELECT count(*) FROM enrollments") == [(2,)]
    assert warnings(cli, run["run"]) == [skipped]

    # a sync scoped to Oak keeps its department's teacher, students, class and enrollments
    add_school(cli, "oak", bundle, "s1")
    run = sync(cli, "oak")
    assert run["status"] == "ok", run["error"]
    kept = query(db_path, "SELECT sourced_id FROM users WHERE school='oak' ORDER BY 1")
    assert kept == [("t1",), ("u1",)]
    assert query(db_path, "SELECT count(*) FROM enrollments WHERE school='oak'") == [(2,)]
    assert query(db_path, "SELECT sourced_id FROM classes WHERE school='oak'") == [("k1",)]


def test_departments_treated_as_schools_on_request(cli, project, tmp_path, db_path):
    bundle = small_district(tmp_path / "b", school="oak", kind="department")  # a Rediker tenant: no school orgs
    assert _validate(cli, bundle, "--org-types-as-school", "department")[1]["ok"]
    bad = cli("validate", str(bundle), "--org-types-as-school", "classroom")
    assert bad.exit_code == 2 and "'classroom' is not an org type that could be treated as a school" in bad.output

    add_school(cli, "oak", bundle, "oak")
    run = sync(cli, "oak")  # kept without the setting too, attached to the department
    assert run["status"] == "ok" and run["counts"]["users"]["inserted"] == 2
    assert query(db_path, "SELECT type FROM orgs WHERE sourced_id='oak'") == [("department",)]

    refused = cli("enable", "oak", "csv-folder", "--set", "org_types_as_school=classroom")
    assert refused.exit_code == 2 and "org_types_as_school" in refused.output
    assert cli("enable", "oak", "csv-folder", "--set", "org_types_as_school=department").exit_code == 0
    run = sync(cli, "oak")
    assert run["status"] == "ok", run["error"]
    assert query(db_path, "SELECT sourced_id, type FROM orgs ORDER BY 1") == [("d1", "district"), ("oak", "school")]
    assert run["counts"]["orgs"]["updated"] == 1 and warnings(cli, run["run"]) == []


# -- item 3: references into an entity the manifest declares absent ----------------------------------
def test_reference_into_an_absent_entity_keeps_the_row(cli, project, tmp_path, db_path):
    full = small_district(tmp_path / "full")
    partial = small_district(tmp_path / "partial")
    (partial / "courses.csv").unlink()
    oneroster_bundle(partial, {}, modes={"courses": "absent"} | {
        name: "bulk" for name in ("orgs", "academicSessions", "classes", "users", "enrollments")})
    unresolved = ("classes.csv:2:courseSourcedId: classes 'k1' refers to course 'c1', which the roster does not "
                  "hold, and courses are absent from this run; kept with the reference unresolved")

    code, report = _validate(cli, partial)
    assert code == 0 and report["counts"]["classes"] == {"rows": 1, "valid": 1}
    assert report["counts"]["enrollments"] == {"rows": 2, "valid": 2}
    assert report["unverified_references"] == 1 and report["warning_count"] == 0

    add_school(cli, "oak", partial, on_dangling="error")  # not dangling: the source chose not to say
    run = sync(cli, "oak")
    assert run["status"] == "ok", run["error"]
    assert query(db_path, "SELECT sourced_id, course_sourced_id FROM classes") == [("k1", "c1")]
    assert query(db_path, "SELECT count(*) FROM enrollments") == [(2,)]
    assert warnings(cli, run["run"]) == [unresolved]

    # once the roster holds the course, the same partial bundle resolves it silently
    assert cli("enable", "oak", "csv-folder", "--set", f"path={full}").exit_code == 0
    assert sync(cli, "oak")["status"] == "ok"
    assert cli("enable", "oak", "csv-folder", "--set", f"path={partial}").exit_code == 0
    run = sync(cli, "oak")
    assert run["status"] == "ok" and warnings(cli, run["run"]) == []
    assert query(db_path, "SELECT count(*) FROM classes WHERE deleted_at IS NULL") == [(1,)]
