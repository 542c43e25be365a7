"""The run report through the CLI: every rejected, skipped and filtered record with its place and reason,
stored with the run (read back by a later process), held runs naming their safeguard, failed runs their
refused rows, sensitive values masked."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

from conftest import edit_csv

BAD = ("le-stu-0001", "le-stu-0002", "le-stu-0003")
DANGLING = ("enr-00050", "enr-00051")
AIDES = [f"le-aide-{n}" for n in range(1, 6)]


def _json(result):  # type: ignore[no-untyped-def]
    assert result.exit_code in (0, 3), result.output
    return json.loads(result.output)


def _ten_problems(bundle):  # type: ignore[no-untyped-def]
    """3 rows with a bad role, 2 enrollments of a class that does not exist, 5 aides (filtered by role)."""
    def users(rows):
        for row in rows:
            if row["sourcedId"] in BAD:
                row["role"] = "wizard"
        template = next(r for r in rows if r["role"] == "teacher")
        return [*rows, *({**template, "sourcedId": sid, "role": "aide", "username": sid, "email": ""} for sid in AIDES)]

    edit_csv(bundle / "users.csv", users)
    edit_csv(bundle / "enrollments.csv", lambda rows: [{**r, "classSourcedId": "cls-gone"} if r["sourcedId"] in DANGLING
                                                       else r for r in rows])


def test_a_run_with_bad_dangling_and_filtered_rows_lists_all_ten(cli, school_with_bundle, bundle, db_path, run_cli):
    assert cli("sync", "lincoln").exit_code == 0  # a clean roster first
    _ten_problems(bundle)
    assert cli("enable", "lincoln", "csv-folder", "--set", "on_invalid=skip").exit_code == 0
    assert cli("schools", "select", "lincoln", "--exclude-roles", "aide").exit_code == 0
    result = cli("sync", "lincoln")
    assert result.exit_code == 0, result.output
    assert "Report: rostersync report 2" in result.output

    later = run_cli("report", "2", "--format", "json")  # another process, reading what the store kept
    assert later.returncode == 0, later.stderr
    report = json.loads(later.stdout)
    records = report["records"]
    assert sorted((r["kind"], r["sourced_id"]) for r in records) == sorted(
        [("rejected", sid) for sid in BAD] + [("skipped", sid) for sid in DANGLING]
        + [("filtered", sid) for sid in AIDES])
    by_id = {r["sourced_id"]: r for r in records}
    assert by_id["le-stu-0001"]["location"].startswith("users.csv:") and by_id["le-stu-0001"]["field"] == "role"
    assert by_id["le-stu-0001"]["value"] == "wizard" and "'wizard' is not one of" in by_id["le-stu-0001"]["reason"]
    assert by_id["enr-00050"]["location"].startswith("enrollments.csv:")
    assert by_id["enr-00050"]["value"] == "cls-gone" and "which is not in this bundle" in by_id["enr-00050"]["reason"]
    assert by_id["le-aide-1"]["reason"] == "role 'aide' is excluded (aide)" and by_id["le-aide-1"]["field"] == "role"
    assert all(r["location"] and r["reason"] for r in records)
    users = report["counts"]["users"]
    assert (users["rejected"], users["filtered"], users["deleted"]) == (3, 5, 0)
    assert report["counts"]["enrollments"]["skipped"] == 2

    # a rejected row is not a record that left: the three students are still there, unchanged
    with sqlite3.connect(db_path) as conn:
        live = conn.execute("SELECT count(*) FROM current_users WHERE sourced_id IN (?, ?, ?) AND role='student'",
                            BAD).fetchone()
        aides = conn.execute("SELECT count(*) FROM users WHERE sourced_id LIKE 'le-aide-%'").fetchone()
    assert live == (3,) and aides == (0,)  # filtered rows never entered the roster

    table = cli("report", "2")
    assert table.exit_code == 0 and "Records (10)" in table.output and "rejected" in table.output
    sheet = list(csv.DictReader(io.StringIO(cli("report", "2", "--format", "csv").output)))
    assert len(sheet) == 10 and set(sheet[0]) == {"kind", "entity", "sourced_id", "location", "field", "value",
                                                 "reason"}


def test_a_failed_run_reports_the_rows_it_refused(cli, school_with_bundle, bundle):
    _ten_problems(bundle)
    result = cli("sync", "lincoln", "--json")
    assert result.exit_code == 1
    report = _json(cli("report", "1", "--format", "json"))
    assert report["run"]["status"] == "failed" and "wizard" in report["run"]["error"]
    assert sorted(r["sourced_id"] for r in report["records"] if r["kind"] == "rejected") == sorted(BAD)


def test_a_held_run_names_its_safeguard_and_largest_changes(cli, school_with_bundle, bundle):
    assert cli("sync", "lincoln").exit_code == 0
    edit_csv(bundle / "enrollments.csv", lambda rows: rows[::2])
    held = cli("sync", "lincoln", "--json")
    assert held.exit_code == 3
    run = json.loads(held.output)[0]["run"]
    report = _json(cli("report", str(run), "--format", "json"))
    assert report["run"]["status"] == "held"
    assert any(r.startswith("enrollments (enrollments.csv): would delete") and "> 10%" in r
               for r in report["held"]["reasons"])
    largest = report["held"]["largest"][0]
    assert largest["entity"] == "enrollments" and largest["deleted"] > 100
    assert len(largest["examples"]) == 20 and {e["action"] for e in largest["examples"]} == {"delete"}
    assert report["held"]["approve"] == f"rostersync approve {run}"
    text = cli("report", str(run)).output
    assert "Held by a safeguard" in text and "enrollments (enrollments.csv): would delete" in text


def test_sensitive_values_are_masked_when_recorded(cli, school_with_bundle, bundle, db_path):
    def bad(rows):
        rows[1]["email"] = "not-an-email@@x"  # stays text: emails are not parsed; make the role bad instead
        rows[1]["role"] = "sorcerer"
        return rows

    edit_csv(bundle / "users.csv", bad)
    assert cli("enable", "lincoln", "csv-folder", "--set", "on_invalid=skip").exit_code == 0
    assert cli("sync", "lincoln").exit_code == 0
    from rostersync.masking import mask

    assert mask("demographics", "birthDate", "2012-04-01") == "***"
    assert mask("users", "birthDate", "2012-04-01") == "***"
    assert mask("users", "email", "jane.doe@example.org") == "j***@example.org"
    assert mask("users", "phone", "555-0100-42") == "***42"
    assert mask("users", "role", "sorcerer") == "sorcerer"
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT value, outcome FROM run_issues WHERE code='invalid'").fetchall() == [
            ("sorcerer", "rejected")]
