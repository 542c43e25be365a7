"""OneRoster 1.1 (all 14 files) and 1.2 CSV bundles synced end to end from committed fixtures:
encodings, quoted lists, metadata columns, header-only files, delta bundles, roles.csv, zips."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from conftest import edit_csv, roster_snapshot
from formats_fixtures import DATA, add_school, copy_fixture, query, row, sync, warnings, zip_folder
from rostersync.csvbundle import read_bundle
from rostersync.formats.oneroster12_csv import HeldRole


def test_all_fourteen_files_sync_with_bom_cp1252_quoted_lists_and_metadata(cli, project, db_path):
    add_school(cli, "all", DATA / "oneroster-1.1" / "full", demographics="true")
    run = sync(cli, "all")
    assert run["status"] == "ok", run["error"]
    inserted = {entity: c["inserted"] for entity, c in run["counts"].items()}
    assert inserted == {"orgs": 3, "academic_sessions": 3, "courses": 2, "classes": 3, "users": 7, "enrollments": 6,
                        "demographics": 2, "categories": 2, "resources": 2, "line_items": 2, "results": 2,
                        "class_resources": 1, "course_resources": 0}

    # orgs.csv starts with a UTF-8 BOM and uses CRLF; enumerations match in any case
    assert query(db_path, "SELECT sourced_id, type FROM orgs ORDER BY sourced_id") == [
        ("dist-1", "district"), ("sch-a", "school"), ("sch-b", "school")]
    # users.csv is Windows-1252: read as such, with a warning naming the first non-UTF-8 line
    student = row(db_path, "users", "stu-1")
    assert (student["given_name"], student["family_name"], student["middle_name"]) == ("José", "García", "Ángel")
    issues = warnings(cli, run["run"])
    assert any(w.startswith("users.csv:4: not UTF-8") and "Windows-1252" in w for w in issues)
    # quoted lists with spaces, TRUE/False booleans, {type:id} userIds, metadata.* kept in extra
    teacher = row(db_path, "users", "tch-1")
    assert json.loads(teacher["org_sourced_ids"]) == ["sch-a", "sch-b"]
    assert json.loads(teacher["user_ids"]) == ["{LDAP:jsmith}", "{SIS:T1}"] and teacher["enabled_user"] == 1
    assert row(db_path, "users", "stu-2")["enabled_user"] == 0
    assert json.loads(student["extra"]) == {"metadata.nickname": "Pepe", "metadata.house": "Red"}
    assert (json.loads(student["grades"]), json.loads(student["grades_raw"])) == (["05"], ["5"])
    assert json.loads(row(db_path, "users", "par-1")["agent_sourced_ids"]) == ["stu-1", "stu-2"]
    math = row(db_path, "classes", "cls-math-a")
    assert json.loads(math["term_sourced_ids"]) == ["t-fall", "t-spring"] and json.loads(math["periods"]) == ["1", "2"]
    assert row(db_path, "classes", "cls-home-a")["class_type"] == "homeroom"
    # gradebook and resources in their own tables, values exactly as sent
    assert query(db_path, "SELECT sourced_id, score_status, score, comment FROM results ORDER BY 1") == [
        ("rs-1", "fully graded", "8.5", "Good, keep going"), ("rs-2", "not submitted", "0", None)]
    assert row(db_path, "line_items", "li-2")["result_value_max"] == "100.5"
    assert json.loads(row(db_path, "resources", "res-1")["roles"]) == ["teacher", "student"]
    assert row(db_path, "demographics", "stu-1")["hispanic_or_latino_ethnicity"] == 1
    # a header-only bulk file is a statement (no rows), reported so an operator can declare it absent
    assert any(w.startswith("courseResources.csv: has a header but no rows") for w in issues)
    # passwords are never stored
    assert b"hunter2" not in db_path.read_bytes() and b"s3cret" not in db_path.read_bytes()


def test_delta_bundle_applies_changes_tobedeleted_and_keeps_a_row_whose_class_is_absent(cli, project, db_path):
    add_school(cli, "all", DATA / "oneroster-1.1" / "full")
    assert sync(cli, "all")["status"] == "ok"
    before = {t: rows for t, rows in roster_snapshot(db_path).items() if t not in ("users", "enrollments")}
    assert cli("enable", "all", "csv-folder", "--set", f"path={DATA / 'oneroster-1.1' / 'delta'}").exit_code == 0

    run = sync(cli, "all")
    assert run["status"] == "ok", run["error"]
    assert set(run["counts"]) == {"users", "enrollments"}  # absent files leave their entities alone
    users, enrollments = run["counts"]["users"], run["counts"]["enrollments"]
    assert (users["inserted"], users["updated"], users["deleted"]) == (1, 1, 1)
    assert (enrollments["inserted"], enrollments["deleted"]) == (2, 1)
    assert row(db_path, "users", "stu-1")["email"] == "jose@cedar.example"
    assert row(db_path, "users", "stu-2")["deleted_run"] == run["run"]  # a tombstone row with blank fields
    assert row(db_path, "enrollments", "enr-5")["deleted_run"] == run["run"]
    # enr-7's class is not in the delta but is live in the roster: fine. enr-8's class exists nowhere,
    # but classes are absent from the delta: it is kept, its class unresolved (issue 15)
    assert row(db_path, "enrollments", "enr-7")["deleted_at"] is None
    assert row(db_path, "enrollments", "enr-8")["class_sourced_id"] == "cls-ghost"
    assert ("enrollments.csv:4:classSourcedId: enrollments 'enr-8' refers to class 'cls-ghost', which the roster "
            "does not hold, and classes are absent from this run; kept with the reference unresolved"
            ) in warnings(cli, run["run"])
    assert {t: r for t, r in roster_snapshot(db_path).items() if t not in ("users", "enrollments")} == before



def test_a_delta_enrollment_of_a_user_the_same_delta_deletes_dangles(cli, project, db_path, tmp_path):
    """A delta's tobedeleted row is staged too (as a deletion): a reference to it must not resolve, while
    a bulk entity's staged rows always do (the reference check skips the deletion test for bulk)."""
    add_school(cli, "all", DATA / "oneroster-1.1" / "full")
    assert sync(cli, "all")["status"] == "ok"
    delta = copy_fixture("oneroster-1.1/delta", tmp_path / "delta")
    with (delta / "enrollments.csv").open("a", encoding="utf-8", newline="") as handle:
        handle.write("enr-9,active,2026-11-01T00:00:00.000Z,cls-math-a,sch-a,stu-2,student,,,\r\n")
    assert cli("enable", "all", "csv-folder", "--set", f"path={delta}").exit_code == 0
    run = sync(cli, "all")
    assert run["status"] == "ok", run["error"]
    assert query(db_path, "SELECT count(*) FROM enrollments WHERE sourced_id='enr-9'") == [(0,)]
    assert any("'enr-9' refers to user 'stu-2'" in w and w.endswith("row skipped") for w in warnings(cli, run["run"]))

def test_oneroster_12_roles_are_folded_into_users_and_stored(cli, project, db_path):
    add_school(cli, "all", DATA / "oneroster-1.2" / "bundle")
    run = sync(cli, "all")
    assert run["status"] == "ok", run["error"]
    teacher = row(db_path, "users", "tch-1")
    # roles.csv lists the secondary role first; the primary role decides role and leads the org list
    assert teacher["role"] == "teacher" and json.loads(teacher["org_sourced_ids"]) == ["sch-a", "sch-b"]
    assert teacher["primary_org_sourced_id"] == "sch-a"
    assert (teacher["preferred_given_name"], teacher["pronouns"], teacher["user_master_identifier"]) == (
        "Jay", "she/her", "MI-T1")
    assert json.loads(teacher["extra"]) == {"resourceSourcedIds": "res-1,res-2",
                                            "roles": "primary teacher@sch-a; secondary teacher@sch-b"}
    student = row(db_path, "users", "stu-1")
    assert json.loads(student["extra"]) == {"metadata.jp.kanaGivenName": "アレックス"}
    assert row(db_path, "users", "adm-1")["role"] == "districtAdministrator"
    assert row(db_path, "classes", "cls-b")["class_type"] == "ext:lab"  # a 1.2 extension value
    assert query(db_path, "SELECT count(*) FROM roles") == [(5,)]
    profile = row(db_path, "user_profiles", "up-1")
    assert (profile["user_sourced_id"], profile["username"]) == ("tch-1", "jsmith.lms")
    assert b"do-not-store" not in db_path.read_bytes()
    assert any(w.startswith("scoreScales.csv: not imported") for w in warnings(cli, run["run"]))


def test_oneroster_12_scoped_to_one_school_keeps_its_teachers_and_roles(cli, project, db_path):
    add_school(cli, "birch", DATA / "oneroster-1.2" / "bundle", "sch-b")
    run = sync(cli, "birch")
    assert run["status"] == "ok", run["error"]
    assert query(db_path, "SELECT sourced_id FROM users ORDER BY 1") == [("tch-1",)]  # via its secondary role
    assert query(db_path, "SELECT sourced_id FROM roles") == [("r-1",)]
    assert query(db_path, "SELECT sourced_id FROM enrollments") == [("e-2",)]
    assert not [w for w in warnings(cli, run["run"]) if "skipped" in w]  # sch-a's rows are out of scope, not dangling


def test_oneroster_12_user_without_a_role_is_refused(cli, project, tmp_path, db_path):
    bundle = copy_fixture("oneroster-1.2/bundle", tmp_path / "b12")
    roles = (bundle / "roles.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (bundle / "roles.csv").write_text("".join(r for r in roles if ",stu-1," not in r), encoding="utf-8")
    add_school(cli, "all", bundle)
    run = sync(cli, "all")
    assert run["status"] == "failed"
    assert "users.csv:3:sourcedId: user 'stu-1' has no role in roles.csv" in run["error"]
    assert roster_snapshot(db_path) == {t: [] for t in roster_snapshot(db_path)}


def test_oneroster_12_role_orgs_are_taken_as_values_not_re_read_as_csv_text(cli, project, tmp_path, db_path):
    """Regression: the reader used to append each user's orgs to the row as "a,b" text and the role list as
    "primary r@o; ..." text for the mapper to parse again, so an org id holding a comma became two orgs
    that do not exist, and one role at an org holding ";" was taken for several."""
    bundle = copy_fixture("oneroster-1.2/bundle", tmp_path / "b12")
    odd = "sch;c,1"
    edit_csv(bundle / "orgs.csv", lambda rows: [*rows, {**rows[1], "sourcedId": odd, "name": "Odd, School"}])
    edit_csv(bundle / "roles.csv", lambda rows: [{**r, "orgSourcedId": odd} if r["sourcedId"] == "r-4" else r
                                                 for r in rows])
    users = next(b for b in read_bundle(bundle) if b.entity == "users")
    assert users.header == tuple((bundle / "users.csv").read_text(encoding="utf-8").splitlines()[0].split(","))
    assert users.rows.roles["par-1"] == [HeldRole(True, "parent", odd)]  # values, no columns appended

    add_school(cli, "all", bundle)
    run = sync(cli, "all")
    assert run["status"] == "ok", run["error"]
    parent = row(db_path, "users", "par-1")
    assert json.loads(parent["org_sourced_ids"]) == [odd] and parent["primary_org_sourced_id"] == odd
    assert parent["extra"] is None  # one role: no role list kept
    assert not [w for w in warnings(cli, run["run"]) if "par-1" in w]


def test_oneroster_12_delta_deletes_a_user_it_sends_without_roles(cli, project, tmp_path, db_path):
    add_school(cli, "all", DATA / "oneroster-1.2" / "bundle")
    assert sync(cli, "all")["status"] == "ok"
    delta = tmp_path / "delta"
    delta.mkdir()
    (delta / "manifest.csv").write_text(
        "propertyName,value\r\nmanifest.version,1.0\r\noneroster.version,1.2\r\nfile.users,delta\r\n",
        encoding="utf-8")
    header = (DATA / "oneroster-1.2" / "bundle" / "users.csv").read_text(encoding="utf-8").splitlines()[0]
    (delta / "users.csv").write_text(f"{header}\r\npar-1,tobedeleted{',' * (header.count(',') - 1)}\r\n",
                                     encoding="utf-8")
    assert cli("enable", "all", "csv-folder", "--set", f"path={delta}").exit_code == 0
    run = sync(cli, "all")
    assert run["status"] == "ok", run["error"]
    assert row(db_path, "users", "par-1")["deleted_at"] is not None
    assert row(db_path, "users", "tch-1")["deleted_at"] is None
    assert row(db_path, "users", "par-1")["role"] == "parent"  # a deletion keeps the row as it was


def test_oneroster_12_users_csv_that_keeps_role_and_orgs_is_read_as_it_is(cli, project, tmp_path, db_path):
    """A hybrid export: users.csv still has 1.1's role and orgSourcedIds; roles.csv is stored, not joined."""
    bundle = copy_fixture("oneroster-1.2/bundle", tmp_path / "b12")
    lines = (bundle / "users.csv").read_text(encoding="utf-8").splitlines()
    lines[0] += ",role,orgSourcedIds"
    lines[1:] = [line + ',aide,"sch-b,sch-a"' for line in lines[1:]]
    (bundle / "users.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    add_school(cli, "all", bundle)
    run = sync(cli, "all")
    assert run["status"] == "ok", run["error"]
    teacher = row(db_path, "users", "tch-1")
    assert (teacher["role"], json.loads(teacher["org_sourced_ids"])) == ("aide", ["sch-b", "sch-a"])
    assert "roles" not in json.loads(teacher["extra"])


def test_a_format_that_disagrees_with_the_manifest_is_refused(cli, project, db_path):
    add_school(cli, "all", DATA / "oneroster-1.2" / "bundle", format="oneroster-1.1")
    run = sync(cli, "all")
    assert run["status"] == "failed"
    assert "manifest.csv:3:value: oneroster.version is 1.2 but the connector's format is oneroster-1.1" in run["error"]


def test_a_zip_with_one_nested_folder_syncs_like_the_folder(cli, project, tmp_path, db_path):
    archive = zip_folder(DATA / "oneroster-1.1" / "full", tmp_path / "export.zip", prefix="district-export")
    add_school(cli, "zipped", archive)
    add_school(cli, "folder", DATA / "oneroster-1.1" / "full")
    zipped, folder = sync(cli, "zipped"), sync(cli, "folder")
    assert zipped["status"] == folder["status"] == "ok"
    assert zipped["counts"] == folder["counts"]
    assert row(db_path, "users", "stu-1")["given_name"] == "José"
    check = json.loads(cli("check", "zipped", "--json").output)
    assert check[1]["ok"] and check[1]["detail"].startswith("oneroster-1.1: orgs.csv (bulk)")


def test_a_zip_with_a_dotdot_or_absolute_entry_is_refused(cli, project, tmp_path, db_path):
    for n, evil in enumerate(("../outside.csv", "/etc/roster.csv")):
        archive = zip_folder(DATA / "oneroster-1.1" / "full", tmp_path / f"evil{n}.zip")
        with zipfile.ZipFile(archive, "a") as zf:
            zf.writestr(evil, "x\n")
        add_school(cli, f"evil{n}", archive)
        run = sync(cli, f"evil{n}")
        assert run["status"] == "failed"
        assert f"zip entry {evil!r} has an absolute or '..' path" in run["error"]
    assert roster_snapshot(db_path) == {t: [] for t in roster_snapshot(db_path)}
    assert not Path(tmp_path / "outside.csv").exists()
