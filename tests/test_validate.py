"""``rostersync validate PATH``: every check without a database, problems grouped with examples."""

from __future__ import annotations

import json

import pytest
from conftest import edit_csv
from formats_fixtures import DATA, copy_fixture, zip_folder


def _report(result):  # type: ignore[no-untyped-def]
    return json.loads(result.output)


@pytest.mark.parametrize(("fixture", "fmt", "users"), [
    ("oneroster-1.1/full", "oneroster-1.1", 7),
    ("oneroster-1.1/delta", "oneroster-1.1", 3),
    ("oneroster-1.2/bundle", "oneroster-1.2", 4),
    ("clever/district", "clever", 13),
])
def test_fixture_bundles_are_valid(cli, fixture, fmt, users):
    result = cli("validate", str(DATA / fixture), "--json")
    assert result.exit_code == 0, result.output
    report = _report(result)
    assert (report["ok"], report["format"], report["error_count"]) == (True, fmt, 0)
    assert report["counts"]["users"] == {"rows": users, "valid": users}


def test_validate_lists_every_problem_grouped_with_examples(cli, bundle, project):
    def break_users(rows):
        for r in rows[:4]:
            r["role"] = "wizard"
        rows[5]["enabledUser"] = "maybe"
        return [*rows, dict(rows[10])]

    def break_enrollments(rows):
        rows[0]["classSourcedId"] = "cls-ghost"
        rows[1]["classSourcedId"] = "cls-ghost"
        return rows

    edit_csv(bundle / "users.csv", break_users)
    edit_csv(bundle / "enrollments.csv", break_enrollments)
    lines = (bundle / "academicSessions.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace("2026-08-17", "08/17/2026")
    lines.insert(3, "extra,row,with,too,few\r\n")
    (bundle / "academicSessions.csv").write_text("".join(lines), encoding="utf-8")

    result = cli("validate", str(bundle), "--json", "--examples", "2")
    assert result.exit_code == 1
    report = _report(result)
    errors = {(g["file"], g["column"]): g for g in report["errors"]}
    roles = errors[("users.csv", "role")]
    assert roles["count"] == 4 and len(roles["examples"]) == 2
    assert roles["examples"][0] == {"line": 2, "message": "'wizard' is not one of: administrator, aide, guardian, "
                                                         "parent, proctor, relative, student, teacher, counselor, "
                                                         "districtAdministrator, principal, siteAdministrator, "
                                                         "systemAdministrator"}
    assert errors[("users.csv", "enabledUser")]["examples"] == [
        {"line": 7, "message": "'maybe' is not a boolean (expected true or false)"}]
    assert errors[("users.csv", "sourcedId")]["examples"][0]["message"].startswith(
        "duplicate sourcedId 'le-stu-0001' (first seen on line 12)")
    assert errors[("academicSessions.csv", "startDate")]["examples"] == [
        {"line": 3, "message": "'08/17/2026' is not a date (expected YYYY-MM-DD)"}]
    assert errors[("academicSessions.csv", "")]["examples"][0]["line"] == 4
    # dangling references are skipped and reported as warnings by default
    dangling = {(g["file"], g["column"]): g for g in report["warnings"]}[("enrollments.csv", "classSourcedId")]
    assert dangling["count"] == 2
    assert dangling["examples"][0]["message"] == ("enrollments 'enr-00000' refers to class 'cls-ghost', which is not "
                                                  "in this bundle; row skipped")
    # the enrollments of the five invalid users dangle in turn: skipped and reported as well
    orphans = {(g["file"], g["column"]): g for g in report["warnings"]}[("enrollments.csv", "userSourcedId")]
    assert orphans["count"] > 0
    assert report["counts"]["enrollments"]["skipped"] == 2 + orphans["count"]

    strict = _report(cli("validate", str(bundle), "--json", "--policy", "dangling=error"))
    assert ("enrollments.csv", "classSourcedId") in {(g["file"], g["column"]) for g in strict["errors"]}

    human = cli("validate", str(bundle))
    assert human.exit_code == 1
    assert "invalid" in human.output and "users.csv role: 4" in human.output
    assert "line 2: 'wizard' is not one of" in human.output


def test_validate_a_zip_and_a_bundle_missing_files(cli, tmp_path, project):
    archive = zip_folder(DATA / "clever" / "district", tmp_path / "clever.zip", prefix="nightly")
    assert _report(cli("validate", str(archive), "--json"))["counts"]["classes"]["valid"] == 4
    broken = copy_fixture("clever/district", tmp_path / "broken")
    for name in ("schools.csv", "enrollments.csv"):
        (broken / name).unlink()
    result = cli("validate", str(broken), "--json")
    assert result.exit_code == 1
    message = _report(result)["errors"][0]["examples"][0]["message"]
    assert "schools.csv is missing" in message and "enrollments.csv is missing" in message


def test_validate_rejects_an_unknown_policy_or_format(cli, project):
    assert cli("validate", str(DATA / "clever" / "district"), "--policy", "dangling=ignore").exit_code == 2
    assert cli("validate", str(DATA / "clever" / "district"), "--format", "xml").exit_code == 2


def test_validate_runs_as_an_installed_script(run_cli):
    result = run_cli("validate", str(DATA / "oneroster-1.1" / "full"))
    assert result.returncode == 0, result.stderr
    assert "oneroster-1.1 bundle, valid" in result.stdout and "not UTF-8" in result.stdout


def test_format_warnings_are_grouped_by_their_file_and_line_without_parsing_text(cli, project):
    """The reader's and mapper's warnings travel as structured issues (file, line, column, message)."""
    report = _report(cli("validate", str(DATA / "oneroster-1.1" / "full"), "--json"))
    groups = {(g["file"], g["column"]): g for g in report["warnings"]}
    [example] = groups[("users.csv", "")]["examples"]
    assert example["line"] == 4 and example["message"].startswith("not UTF-8 (first non-UTF-8 byte on this line)")
    assert groups[("courseResources.csv", "")]["examples"][0]["message"].startswith("has a header but no rows")
