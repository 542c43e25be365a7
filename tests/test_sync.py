"""The spine end to end through the CLI: first sync, idempotent re-sync, exact diffs, failed runs."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

from conftest import edit_csv, roster_snapshot


def _json(result) -> object:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_first_sync_imports_only_the_schools_share(cli, school_with_bundle, db_path):
    runs = _json(cli("sync", "lincoln", "--json"))
    assert [r["status"] for r in runs] == ["ok"]
    counts = runs[0]["counts"]
    # reported in dependency order (apply diffs in name order for the audit index; the report is not)
    assert list(counts) == ["orgs", "academic_sessions", "courses", "classes", "users", "enrollments"]
    assert counts["users"]["inserted"] == 384  # 150 students + their guardians + 9 teachers + 1 admin
    assert counts["users"]["out_of_scope"] == 373  # Roosevelt's people
    assert counts["enrollments"]["inserted"] == 1032
    assert counts["orgs"]["inserted"] == 2  # the school and its district
    with sqlite3.connect(db_path) as conn:
        schools = {r[0] for r in conn.execute("SELECT school_sourced_id FROM classes")}
        assert schools == {"sch-lincoln"}
        changes = conn.execute("SELECT count(*), min(action), max(action) FROM changes").fetchone()
    assert changes == (sum(c["inserted"] for c in counts.values()), "insert", "insert")


def test_resync_is_a_no_op_then_one_update_and_one_delete(cli, school_with_bundle, bundle, db_path):
    assert cli("sync", "lincoln").exit_code == 0
    second = _json(cli("sync", "lincoln", "--json"))[0]
    assert second["status"] == "skipped" and "unchanged since it was imported" in second["error"]
    assert _json(cli("changes", str(second["run"]), "--json")) == []
    forced = _json(cli("sync", "lincoln", "--full", "--json"))[0]  # re-read and diffed: still nothing
    assert forced["status"] == "ok"
    assert all(c["inserted"] == c["updated"] == c["deleted"] == 0 for c in forced["counts"].values())
    assert forced["counts"]["users"]["unchanged"] == 384
    assert _json(cli("changes", str(forced["run"]), "--json")) == []

    def rename(rows):
        for row in rows:
            if row["sourcedId"] == "le-stu-0001":
                row["familyName"] = "Renamed"
        return rows

    edit_csv(bundle / "users.csv", rename)
    edit_csv(bundle / "enrollments.csv", lambda rows: [r for r in rows if r["sourcedId"] != "enr-00050"])
    third = _json(cli("sync", "lincoln", "--json"))[0]
    totals = {k: sum(c[k] for c in third["counts"].values()) for k in ("inserted", "updated", "deleted")}
    assert totals == {"inserted": 0, "updated": 1, "deleted": 1}

    changes = _json(cli("changes", str(third["run"]), "--json"))
    assert len(changes) == 2
    update = next(c for c in changes if c["action"] == "update")
    assert (update["entity"], update["sourced_id"]) == ("users", "le-stu-0001")
    assert update["fields"]["family_name"][1] == "Renamed"
    delete = next(c for c in changes if c["action"] == "delete")
    assert (delete["entity"], delete["sourced_id"]) == ("enrollments", "enr-00050")
    # deletes are soft: the row stays, marked with the run that removed it
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT deleted_run FROM enrollments WHERE sourced_id='enr-00050'").fetchone() == (
            third["run"],)
        assert conn.execute("SELECT count(*) FROM current_enrollments WHERE sourced_id='enr-00050'").fetchone() == (0,)


def test_a_record_that_comes_back_is_restored_on_the_same_row(cli, school_with_bundle, bundle, db_path):
    original = (bundle / "enrollments.csv").read_text(encoding="utf-8")
    assert cli("sync", "lincoln").exit_code == 0
    edit_csv(bundle / "enrollments.csv", lambda rows: [r for r in rows if r["sourcedId"] != "enr-00050"])
    assert cli("sync", "lincoln").exit_code == 0
    (bundle / "enrollments.csv").write_text(original, encoding="utf-8")
    run = _json(cli("sync", "lincoln", "--json"))[0]
    assert run["counts"]["enrollments"]["restored"] == 1
    assert [c["action"] for c in _json(cli("changes", str(run["run"]), "--json"))] == ["restore"]
    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT deleted_at, created_run FROM enrollments WHERE sourced_id='enr-00050'").fetchone()
    assert row == (None, 1)


def test_one_resync_can_insert_update_restore_and_delete(cli, school_with_bundle, bundle, db_path):
    """All four kinds of change in one run: each counted once, audited once, applied to its row."""
    enrollments = bundle / "enrollments.csv"
    assert cli("sync", "lincoln").exit_code == 0
    edit_csv(enrollments, lambda rows: [r for r in rows if r["sourcedId"] != "enr-00050"])
    assert cli("sync", "lincoln").exit_code == 0

    def four_changes(rows):
        kept = [r for r in rows if r["sourcedId"] != "enr-00051"]  # delete
        kept.append({**rows[0], "sourcedId": "enr-new-1"})  # insert
        return kept

    edit_csv(enrollments, four_changes)
    edit_csv(enrollments, lambda rows: [*rows, {**rows[0], "sourcedId": "enr-00050"}])  # restore
    edit_csv(bundle / "users.csv", lambda rows: [{**r, "familyName": "Renamed"} if r["sourcedId"] == "le-stu-0001"
                                                 else r for r in rows])  # update
    run = _json(cli("sync", "lincoln", "--json"))[0]
    enr, users = run["counts"]["enrollments"], run["counts"]["users"]
    assert (enr["inserted"], enr["restored"], enr["deleted"], users["updated"]) == (1, 1, 1, 1)
    changes = {(c["entity"], c["sourced_id"]): c for c in _json(cli("changes", str(run["run"]), "--json"))}
    assert {k: c["action"] for k, c in changes.items()} == {
        ("enrollments", "enr-new-1"): "insert", ("enrollments", "enr-00050"): "restore",
        ("enrollments", "enr-00051"): "delete", ("users", "le-stu-0001"): "update"}
    assert changes[("enrollments", "enr-new-1")]["fields"] is None
    assert changes[("users", "le-stu-0001")]["fields"]["family_name"][1] == "Renamed"
    with sqlite3.connect(db_path) as conn:
        rows = dict(conn.execute("SELECT sourced_id, coalesce(deleted_run, 0) FROM enrollments WHERE sourced_id IN "
                                 "('enr-new-1', 'enr-00050', 'enr-00051')"))
        created = conn.execute("SELECT created_run FROM enrollments WHERE sourced_id='enr-new-1'").fetchone()
    assert rows == {"enr-new-1": 0, "enr-00050": 0, "enr-00051": run["run"]}
    assert created == (run["run"],)


def test_broken_users_csv_fails_with_file_and_line_and_changes_nothing(cli, run_cli, school_with_bundle,
                                                                       bundle, db_path):
    assert cli("sync", "lincoln").exit_code == 0
    before = roster_snapshot(db_path)
    lines = (bundle / "users.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[41] = "le-stu-0031,,,true,sch-lincoln,student\r\n"  # line 42: too few fields
    (bundle / "users.csv").write_text("".join(lines), encoding="utf-8")
    edit = (bundle / "enrollments.csv")  # other files changed too: none of it may be applied
    edit_csv(edit, lambda rows: rows[:10])

    result = run_cli("sync", "lincoln")
    assert result.returncode == 1
    assert "users.csv:42" in result.stderr
    assert "fields but the header has" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert roster_snapshot(db_path) == before
    history = json.loads(run_cli("history", "--json").stdout)
    assert history[0]["status"] == "failed" and "users.csv:42" in history[0]["error"]


def test_a_bad_value_names_file_line_and_column(cli, school_with_bundle, bundle, db_path):
    assert cli("sync", "lincoln").exit_code == 0
    before = roster_snapshot(db_path)

    def bad_role(rows):
        rows[4]["role"] = "wizard"
        return rows

    edit_csv(bundle / "users.csv", bad_role)
    result = cli("sync", "lincoln")
    assert result.exit_code == 1
    assert "users.csv:6:role" in result.output and "'wizard' is not one of" in result.output
    assert roster_snapshot(db_path) == before


def test_duplicate_sourced_id_is_refused_naming_both_lines(cli, school_with_bundle, bundle, db_path):
    edit_csv(bundle / "classes.csv", lambda rows: [*rows, dict(rows[0])])
    result = cli("sync", "lincoln")
    assert result.exit_code == 1
    assert "classes.csv:66:sourcedId" in result.output and "first seen on line 2" in result.output
    assert roster_snapshot(db_path) == {t: [] for t in roster_snapshot(db_path)}


def test_manifest_promising_a_missing_file_names_both(cli, school_with_bundle, bundle, db_path):
    (bundle / "courses.csv").unlink()
    result = cli("sync", "lincoln")
    assert result.exit_code == 1
    assert "file.courses=bulk" in result.output and "courses.csv is not in the bundle" in result.output


def test_delta_manifest_applies_only_sent_rows_and_tobedeleted(cli, school_with_bundle, bundle, db_path):
    assert cli("sync", "lincoln").exit_code == 0
    manifest = (bundle / "manifest.csv").read_text(encoding="utf-8")
    manifest = manifest.replace("file.users,bulk", "file.users,delta")
    for entity in ("academicSessions", "classes", "courses", "enrollments", "orgs"):
        manifest = manifest.replace(f"file.{entity},bulk", f"file.{entity},absent")
    (bundle / "manifest.csv").write_text(manifest, encoding="utf-8")
    for name in ("academicSessions", "classes", "courses", "enrollments", "orgs"):
        (bundle / f"{name}.csv").unlink()

    def delta(rows):
        keep = [r for r in rows if r["sourcedId"] in ("le-stu-0002", "le-stu-0003")]
        keep[0].update(status="tobedeleted", dateLastModified="2026-11-01T00:00:00.000Z")
        keep[1].update(status="active", dateLastModified="2026-11-01T00:00:00.000Z", email="new@example.org")
        return keep

    edit_csv(bundle / "users.csv", delta)
    run = _json(cli("sync", "lincoln", "--json"))[0]
    assert list(run["counts"]) == ["users"]  # absent entities are left alone
    assert run["counts"]["users"] == {"fetched": 2, "current": 384, "inserted": 0, "updated": 1, "restored": 0,
                                      "deleted": 1, "delete_skipped": 0, "unchanged": 0, "out_of_scope": 0,
                                      "filtered": 0, "rekeyed": 0}
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM current_users").fetchone() == (383,)
        assert conn.execute("SELECT count(*) FROM current_enrollments").fetchone() == (1032,)


def test_sync_all_and_status(cli, school_with_bundle, bundle):
    assert cli("schools", "add", "roosevelt", "--name", "Roosevelt Middle", "--org-id", "sch-roosevelt").exit_code == 0
    assert cli("enable", "roosevelt", "csv-folder", "--set", f"path={bundle}").exit_code == 0
    runs = _json(cli("sync", "--all", "--json"))
    assert [(r["school"], r["status"]) for r in runs] == [("lincoln", "ok"), ("roosevelt", "ok")]
    status = _json(cli("status", "--json"))
    assert {(s["school"], s["status"], s["users"]) for s in status} == {("lincoln", "ok", 384),
                                                                        ("roosevelt", "ok", 373)}
    assert len(_json(cli("history", "roosevelt", "--json"))) == 1


def test_human_output_has_a_summary_table(cli, school_with_bundle):
    result = cli("sync", "lincoln")
    assert result.exit_code == 0
    assert "lincoln/csv-folder: run 1 ok" in result.output
    assert "enrollments" in result.output and "1032" in result.output


def test_demo_runs_in_a_fresh_folder_from_the_installed_script(run_cli, tmp_path: Path):
    result = run_cli("demo", "--dir", str(tmp_path / "demo"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    lincoln, roosevelt = report["schools"]
    assert (lincoln["students"], lincoln["teachers"], lincoln["parents"]) == (150, 9, 224)
    assert roosevelt["students"] == 150 and roosevelt["classes"] == 24 and roosevelt["enrollments"] == 1224
    assert Path(report["database"]).is_file()
    human = run_cli("demo", "--dir", str(tmp_path / "demo2"))
    assert human.returncode == 0 and "students" in human.stdout and "Roosevelt Middle" in human.stdout


def test_database_is_private(cli, school_with_bundle, db_path):
    assert cli("sync", "lincoln").exit_code == 0
    assert db_path.stat().st_mode & 0o777 == 0o600
    staging = db_path.with_name(db_path.name + ".staging")
    assert staging.stat().st_mode & 0o777 == 0o700
    assert list(staging.iterdir()) == []  # staging is discarded after apply


def test_check_reports_each_step_without_touching_the_roster(cli, school_with_bundle, bundle, db_path):
    result = cli("check", "lincoln", "--json")
    assert result.exit_code == 0, result.output
    steps = json.loads(result.output)
    assert [(s["step"], s["ok"]) for s in steps] == [("folder", True), ("required files", True)]
    assert "users.csv (bulk)" in steps[1]["detail"]
    (bundle / "users.csv").unlink()
    failed = cli("check", "lincoln", "--json")
    assert failed.exit_code == 1
    assert "users.csv is not in the bundle" in json.loads(failed.output)[1]["detail"]
    assert roster_snapshot(db_path) == {t: [] for t in roster_snapshot(db_path)}


def test_export_round_trips_through_a_sync(cli, school_with_bundle, tmp_path, db_path):
    """Export a synced school, sync the export as another school: the same roster rows."""
    assert cli("sync", "lincoln").exit_code == 0
    out = tmp_path / "export"
    result = cli("export", "lincoln", "--out", str(out), "--raw", "--json")
    assert result.exit_code == 0, result.output
    assert {r["file"]: r["rows"] for r in json.loads(result.output)}["users.csv"] == 384
    header = (out / "users.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.endswith("password,metadata.transport,metadata.rostersync.personId")
    assert cli("schools", "add", "copy", "--name", "Copy").exit_code == 0
    assert cli("enable", "copy", "csv-folder", "--set", f"path={out}").exit_code == 0
    assert cli("sync", "copy").exit_code == 0
    skip = {"school", "source", "created_run", "updated_run", "deleted_at", "deleted_run", "person_id", "rekeyed_to"}
    with sqlite3.connect(db_path) as conn:
        for table in ("orgs", "academic_sessions", "courses", "classes", "users", "enrollments"):
            cols = ", ".join(f'"{r[1]}"' for r in conn.execute(f"PRAGMA table_info({table})") if r[1] not in skip)

            def rows(school, table=table, cols=cols):
                # the export's person ids come back as a metadata column (in extra) of the copy
                unexported = """nullif(json_remove(extra, '$."metadata.rostersync.personId"'), '{}')"""
                plain = cols.replace('"extra"', unexported)
                sql = f"SELECT {plain} FROM {table} WHERE school=? ORDER BY sourced_id"
                return conn.execute(sql, [school]).fetchall()

            assert rows("copy") == rows("lincoln"), table
        ids = dict(conn.execute("SELECT sourced_id, person_id FROM users WHERE school='lincoln'").fetchall())
        exported = {r["sourcedId"]: r["metadata.rostersync.personId"]
                    for r in csv.DictReader((out / "users.csv").open(encoding="utf-8"))}
        assert exported == ids and all(ids.values())


def test_export_defuses_formula_cells(cli, school_with_bundle, bundle, tmp_path):
    def inject(rows):
        rows[1]["givenName"] = '=HYPERLINK("http://evil.example","x")'
        rows[2]["familyName"] = "@SUM(1+1)"
        return rows

    edit_csv(bundle / "users.csv", inject)
    assert cli("sync", "lincoln").exit_code == 0
    assert cli("export", "lincoln", "--out", str(tmp_path / "x")).exit_code == 0
    text = (tmp_path / "x" / "users.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK(" in text and "'@SUM(1+1)" in text
    assert ",=HYPERLINK" not in text


def test_a_oneroster_bundle_without_manifest_is_reported_as_such(cli, school_with_bundle, bundle):
    """Regression: auto-detection took a manifest-less OneRoster bundle (it has enrollments.csv) for
    an incomplete Clever drop and listed Clever's files as missing."""
    (bundle / "manifest.csv").unlink()
    result = cli("sync", "lincoln")
    assert result.exit_code == 1
    assert "manifest.csv is missing" in result.output and "schools.csv" not in result.output


def test_a_changed_setting_re_reads_an_unchanged_bundle(cli, school_with_bundle, bundle):
    assert _json(cli("sync", "lincoln", "--json"))[0]["status"] == "ok"
    assert _json(cli("sync", "lincoln", "--json"))[0]["status"] == "skipped"
    assert cli("schools", "set", "lincoln", "--mode", "add-only").exit_code == 0
    assert _json(cli("sync", "lincoln", "--json"))[0]["status"] == "ok"
