"""Vendor CSV exports synced through their column maps (``format`` = the map's name), end to end through
the CLI into a real SQLite file: Tyler SIS's data-warehouse extract (students completed by their latest
DWEnrollment row, schools derived from it), Realtime's positional EDS-layout student file, and the
student file districts send ASB Works. Fixtures: tests/data/<sis>/district (see SOURCES.md there)."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from conftest import edit_csv, roster_snapshot
from formats_fixtures import DATA, add_school, copy_fixture, query, row, sync, warnings
from rostersync.csvbundle import read_bundle
from rostersync.formats import map_raw
from rostersync.plugins import get_formats

pytest_plugins = ["sftp_fixtures"]  # sshd, sftp_school, drops

TYLER = DATA / "tyler-sis" / "district"
NOT_IMPORTED = ("DWProgServices.csv: not imported: programme participation (ELL, special education, free/reduced "
                "lunch...) is sensitive and not part of the roster")


def _ids(value: str | None) -> list[str]:
    return json.loads(value) if value else []


def _inserted(run: dict) -> dict[str, int]:
    return {entity: c["inserted"] for entity, c in run["counts"].items()}


def _changed(run: dict) -> dict[str, int]:
    """Every count that means a change, per entity, leaving out the zeros."""
    keys = ("inserted", "updated", "restored", "deleted")
    return {f"{e}.{k}": c[k] for e, c in run["counts"].items() for k in keys if c.get(k)}


def test_tyler_extract_syncs_through_its_column_map(cli, project, db_path):
    add_school(cli, "district", TYLER, format="tyler-sis-dw")
    run = sync(cli, "district")
    assert run["status"] == "ok", run["error"]
    assert _inserted(run) == {"orgs": 2, "users": 20}

    # schools derived from DWEnrollment's SchoolID (leading zeros kept), named by id: no names in the extract
    assert query(db_path, "SELECT sourced_id, name, type, identifier FROM orgs ORDER BY 1") == [
        ("001", "001", "school", "001"), ("002", "002", "school", "002")]
    ava = row(db_path, "users", "1001")
    assert (ava["given_name"], ava["middle_name"], ava["family_name"], ava["role"], ava["identifier"]) == (
        "Ava", "Marie", "Adams", "student", "1001")
    assert (_ids(ava["grades"]), _ids(ava["grades_raw"]), _ids(ava["org_sourced_ids"])) == (["KG"], ["K"], ["001"])
    # unknown DWStudents columns kept; Gender and ELLDescription only ever in opt-in demographics
    assert json.loads(ava["extra"]) == {"Homeroom": "R100"}
    assert b"English Learner" not in db_path.read_bytes()
    assert query(db_path, "SELECT count(*) FROM demographics") == [(0,)]

    # 1010 moved school in January: the later DWEnrollment row wins although the file lists it first
    jade = row(db_path, "users", "1010")
    assert (_ids(jade["grades"]), _ids(jade["org_sourced_ids"]), jade["primary_org_sourced_id"]) == (
        ["06"], ["002"], "002")
    assert query(db_path, "SELECT primary_org_sourced_id, count(*) FROM users GROUP BY 1") == [("001", 9), ("002", 11)]
    assert query(db_path, "SELECT grades, grades_raw FROM users WHERE sourced_id IN ('1004', '1012') ORDER BY 1") == [
        ('["01"]', '["1"]'), ('["06"]', '["6"]')]
    assert warnings(cli, run["run"]) == [NOT_IMPORTED]


def test_validate_reports_what_the_sync_imports(cli, project):
    result = cli("validate", str(TYLER), "--format", "tyler-sis-dw", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["format"], report["ok"], report["error_count"]) == ("tyler-sis-dw", True, 0)
    assert {e: c["valid"] for e, c in report["counts"].items()} == {"orgs": 2, "users": 20, "demographics": 20}
    assert [g["examples"][0]["message"] for g in report["warnings"]] == [NOT_IMPORTED.split(": ", 1)[1]]


def test_tyler_through_the_installed_script_then_quiet_resync(run_cli, project, db_path):
    assert run_cli("init").returncode == 0
    assert run_cli("schools", "add", "district", "--name", "District").returncode == 0
    enabled = run_cli("enable", "district", "csv-folder", "--set", f"path={TYLER}", "--set", "format=tyler-sis-dw")
    assert enabled.returncode == 0, enabled.stderr
    first = run_cli("sync", "district", "--json")
    assert first.returncode == 0, first.stderr
    assert _inserted(json.loads(first.stdout)[0]) == {"orgs": 2, "users": 20}
    again = run_cli("sync", "district", "--full", "--json")  # --full: read it again, not skip it as unchanged
    assert again.returncode == 0, again.stderr
    resync = json.loads(again.stdout)[0]
    assert resync["status"] == "ok" and _changed(resync) == {}
    assert {e: c["unchanged"] for e, c in resync["counts"].items()} == {"orgs": 2, "users": 20}
    validated = run_cli("validate", str(TYLER), "--format", "tyler-sis-dw")
    assert validated.returncode == 0 and "tyler-sis-dw bundle, valid - 0 error(s), 1 warning(s)" in validated.stdout


def test_a_changed_grade_is_exactly_one_update(cli, project, tmp_path, db_path):
    bundle = copy_fixture("tyler-sis/district", tmp_path / "tyler")
    add_school(cli, "district", bundle, format="tyler-sis-dw")
    assert sync(cli, "district")["status"] == "ok"

    def promoted(rows):
        return [*rows, {"StudentID": "1003", "SchoolID": "001", "Grade": "02", "EntryDate": "02/03/2025",
                        "ExitDate": ""}]

    edit_csv(bundle / "DWEnrollment.csv", promoted)
    run = sync(cli, "district")
    assert run["status"] == "ok", run["error"]
    assert _changed(run) == {"users.updated": 1}
    changes = json.loads(cli("changes", str(run["run"]), "--json").output)
    assert [(c["entity"], c["sourced_id"], c["action"]) for c in changes] == [("users", "1003", "update")]
    assert _ids(row(db_path, "users", "1003")["grades"]) == ["02"]


def test_a_broken_row_names_file_line_and_column_and_changes_nothing(cli, project, tmp_path, db_path):
    bundle = copy_fixture("tyler-sis/district", tmp_path / "tyler")
    add_school(cli, "district", bundle, format="tyler-sis-dw")
    assert sync(cli, "district")["status"] == "ok"
    before = roster_snapshot(db_path)

    def bad_date(rows):
        rows[5]["EntryDate"] = "31/02/2025"  # 1005, line 7
        return rows

    def no_family_name(rows):
        rows[2]["LastName"] = ""  # 1003, line 4
        return rows

    edit_csv(bundle / "DWEnrollment.csv", bad_date)
    run = sync(cli, "district")
    assert run["status"] == "failed"
    assert run["error"].startswith("DWEnrollment.csv:7:EntryDate: '31/02/2025' is not a date")
    assert roster_snapshot(db_path) == before

    edit_csv(bundle / "DWStudents.csv", no_family_name)
    report = json.loads(cli("validate", str(bundle), "--format", "tyler-sis-dw", "--json").output)
    assert not report["ok"]
    found = {(g["file"], g["column"], e["line"], e["message"]) for g in report["errors"] for e in g["examples"]}
    assert found == {("DWEnrollment.csv", "EntryDate", 7, "'31/02/2025' is not a date (expected MM/DD/YYYY, "
                                                         "M/D/YY or YYYY-MM-DD)"),
                     ("DWStudents.csv", "LastName", 4, "required value is empty")}
    assert sync(cli, "district")["status"] == "failed"
    assert roster_snapshot(db_path) == before


def test_missing_and_ambiguous_files_are_reported_together_before_reading(cli, project, tmp_path, db_path):
    bundle = copy_fixture("tyler-sis/district", tmp_path / "tyler")
    add_school(cli, "district", bundle, format="tyler-sis-dw")
    assert sync(cli, "district")["status"] == "ok"
    before = roster_snapshot(db_path)
    (bundle / "DWEnrollment.csv").unlink()
    (bundle / "DWStudents.csv").rename(bundle / "dwstudents_0106.CSV")
    (bundle / "DWStudents_0105.csv").write_text("StudentID,LastName,FirstName\n")
    run = sync(cli, "district")
    assert run["status"] == "failed"
    assert "the tyler-sis-dw bundle is incomplete; nothing was imported" in run["error"]
    assert ("2 files match DWStudents* (DWStudents_0105.csv, dwstudents_0106.CSV): an export has one; remove the "
            "older ones") in run["error"]
    assert "DWEnrollment* is missing: it holds each student's grade and school" in run["error"]
    assert roster_snapshot(db_path) == before


def test_tyler_demographics_are_opt_in_and_keep_the_sensitive_columns(cli, project, db_path):
    add_school(cli, "district", TYLER, format="tyler-sis-dw", demographics="true")
    assert sync(cli, "district")["status"] == "ok"
    assert query(db_path, "SELECT sex, count(*) FROM demographics GROUP BY 1 ORDER BY 1") == [
        ("female", 10), ("male", 9), ("other", 1)]
    assert json.loads(row(db_path, "demographics", "1004")["extra"]) == {"ELLDescription": "English Learner"}
    assert json.loads(row(db_path, "users", "1004")["extra"]) == {"Homeroom": "R100"}


def _big_extract(folder: Path, students: int) -> dict[str, tuple[str, str]]:
    """DWStudents and a shuffled DWEnrollment with 1-3 rows per student; the latest row of each."""
    rng = random.Random(7)
    folder.mkdir()
    latest: dict[str, tuple[str, str]] = {}
    enrollment = []
    for n in range(students):
        sid = f"S{n:06d}"
        dates = rng.sample(range(1, 28), rng.randint(1, 3))
        for day in dates:
            grade, school = f"{rng.randint(1, 12):02d}", f"{rng.randint(1, 3):03d}"
            enrollment.append([sid, school, grade, f"2025-01-{day:02d}"])
            if day == max(dates):
                latest[sid] = (grade, school)
    rng.shuffle(enrollment)
    with (folder / "DWStudents.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["StudentID", "LastName", "FirstName"])
        writer.writerows([sid, "Last", "First"] for sid in latest)
    with (folder / "DWEnrollment.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["StudentID", "SchoolID", "Grade", "EntryDate"])
        writer.writerows(enrollment)
    return latest


def test_the_latest_row_wins_across_batches(tmp_path):
    """More rows than a batch (5000) and a lookup chunk (500): every student gets their latest row."""
    latest = _big_extract(tmp_path / "big", 6000)
    formats = get_formats()
    got: dict[str, tuple[str, str]] = {}
    batches = 0
    for raw in read_bundle(tmp_path / "big", "tyler-sis-dw"):
        mapped = map_raw(formats, raw)
        assert not mapped.errors
        if mapped.entity == "users":
            batches += 1
            got.update((u.sourced_id, (u.grades[0], u.primary_org_sourced_id)) for u in mapped.records)
    assert batches == 2 and got == latest


def _sample_orgs(cli, db_path: Path, sis: str, fmt: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    """Sync tests/data/<sis>/district (2 schools, 4 students) with format ``fmt``; its orgs."""
    add_school(cli, "district", DATA / sis / "district", format=fmt)
    run = sync(cli, "district")
    assert run["status"] == "ok", run["error"]
    assert _inserted(run) == {"orgs": 2, "users": 4}
    assert warnings(cli, run["run"]) == []
    return query(db_path, "SELECT sourced_id, name FROM orgs ORDER BY 1")


def test_realtime_eds_student_file(cli, project, db_path):
    assert _sample_orgs(cli, db_path, "realtime", "realtime-eds") == [
        ("0015", "Hawthorne Elementary"), ("0040", "Lincoln Middle School")]
    noah = row(db_path, "users", "50002")
    assert (noah["given_name"], noah["middle_name"], noah["phone"], _ids(noah["grades"]), _ids(noah["grades_raw"])) == (
        "Noah", "James", "973-555-0102", ["07"], ["7"])
    assert noah["user_ids"] == '["{state_id:9900112234}"]'
    extra = json.loads(noah["extra"])
    assert (extra["Father"], extra["Emerg_Contact_2"], extra["StudentPers_guid"]) == (
        "Tom Baker", "Tom Baker", "A1B2C3D4-0002")
    assert not {"DOB", "Gender", "Ethnicity", "School_Name"} & set(extra)
    assert _ids(row(db_path, "users", "50003")["grades"]) == ["KG"]


def test_realtime_file_with_a_skipped_column_is_refused(cli, project, tmp_path, db_path):
    """Realtime's layout is positional: a field left out shifts ethnicity into gender, so the header must match."""
    bundle = copy_fixture("realtime/district", tmp_path / "realtime")
    path = bundle / "students_20250106.csv"
    rows = list(csv.reader(path.open(newline="")))
    path.write_text("".join(",".join(f'"{v}"' for v in r[:6] + r[7:]) + "\r\n" for r in rows))
    add_school(cli, "district", bundle, format="realtime-eds")
    run = sync(cli, "district")
    assert run["status"] == "failed"
    assert run["error"].startswith("students_20250106.csv:1:Gender: column 7 is 'Gender' but the realtime-eds layout "
                                   "has 'Ethnicity' there")
    assert roster_snapshot(db_path) == {t: [] for t in roster_snapshot(db_path)}


def test_asb_works_student_file(cli, project, db_path):
    assert _sample_orgs(cli, db_path, "asb-works", "asb-works") == [
        ("Acalanes High", "Acalanes High"), ("Campolindo High", "Campolindo High")]
    sofia = row(db_path, "users", "900125")
    assert (sofia["identifier"], sofia["email"], _ids(sofia["grades"]), _ids(sofia["org_sourced_ids"])) == (
        "0451", "sofia.r@students.example.org", ["11"], ["Campolindo High"])
    assert json.loads(sofia["extra"]) == {"Mailing Address": "5 Moraga Way", "City": "Moraga", "State": "CA",
                                          "Zip Code": "94556"}


def test_tyler_drop_over_sftp_syncs_and_checks_with_its_map(cli, sshd, sftp_school, drops, db_path):
    """The tyler-sis connector (kind sftp) reads the map its format names, for sync and for check's required
    files: an operator gives only the server, the account and the folder."""
    import shutil

    from sftp_helpers import as_json, enable
    from sftp_helpers import sync as sftp_sync

    shutil.copytree(TYLER, drops, dirs_exist_ok=True)
    sshd.chown(drops)
    config = Path("rostersync.toml")  # school lincoln is scoped to org 002: its 11 students, 1010 included
    config.write_text(config.read_text().replace('"sch-lincoln"', '"002"'))
    enable(cli, sshd, drops, auth="key", connector="tyler-sis")
    steps = as_json(cli("check", "lincoln", "--json"))
    assert [s["ok"] for s in steps] == [True] * len(steps)
    assert steps[-1]["detail"] == "DWStudents.csv (bulk), DWEnrollment.csv (bulk)"
    run = sftp_sync(cli)
    assert run["status"] == "ok", run["error"]
    assert _inserted(run) == {"orgs": 1, "users": 11}
    assert _ids(row(db_path, "users", "1010")["org_sourced_ids"]) == ["002"]


def test_a_student_without_an_enrollment_row_is_left_out_with_a_warning(cli, project, tmp_path, db_path):
    bundle = copy_fixture("tyler-sis/district", tmp_path / "tyler")
    with (bundle / "DWStudents.csv").open("a", newline="") as handle:
        handle.write("1099,Ghost,Gail,,F,,R100\r\n")
    add_school(cli, "district", bundle, format="tyler-sis-dw")
    run = sync(cli, "district")
    assert run["status"] == "ok" and _inserted(run) == {"orgs": 2, "users": 20}
    assert any(w.startswith("DWStudents.csv:22:") and "'1099' has no known org" in w for w in warnings(cli, run["run"]))


def test_a_zipped_extract_reads_the_same(cli, project, tmp_path):
    from formats_fixtures import zip_folder

    archive = zip_folder(TYLER, tmp_path / "tyler.zip", prefix="DW_20250106")
    report = json.loads(cli("validate", str(archive), "--format", "tyler-sis-dw", "--json").output)
    assert report["ok"] and {e: c["valid"] for e, c in report["counts"].items()} == {
        "orgs": 2, "users": 20, "demographics": 20}
