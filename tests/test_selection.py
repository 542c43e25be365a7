"""Selective sync through the CLI: filtered rows never enter the roster (not inserted then deleted), are
counted and reported, and a changed rule is an ordinary diff, previewed by a dry run and held by the
safeguards like any other; terms by date ("current"), class codes by glob."""

from __future__ import annotations

import csv
import json
import sqlite3

from conftest import sessions_around_today


def _run(result):  # type: ignore[no-untyped-def]
    assert result.exit_code in (0, 3), result.output
    return json.loads(result.output)[0]


def _grades(db):  # type: ignore[no-untyped-def]
    with sqlite3.connect(db) as conn:
        every = conn.execute("SELECT DISTINCT grades FROM users WHERE role='student'").fetchall()
        live = conn.execute("SELECT DISTINCT grades FROM current_users WHERE role='student'").fetchall()
    return sorted(json.loads(g)[0] for (g,) in every), sorted(json.loads(g)[0] for (g,) in live)


def _students(bundle, grade):  # type: ignore[no-untyped-def]
    with (bundle / "users.csv").open(encoding="utf-8") as handle:
        return sum(r["role"] == "student" and r["orgSourcedIds"] == "sch-lincoln" and r["grades"] == grade
                   for r in csv.DictReader(handle))


def test_a_grade_filter_keeps_rows_out_and_a_changed_filter_is_a_normal_diff(cli, school_with_bundle, bundle,
                                                                             db_path):
    assert cli("schools", "select", "lincoln", "--grades", "KG,01").exit_code == 0
    first = _run(cli("sync", "lincoln", "--json"))
    assert first["counts"]["users"]["filtered"] == sum(_students(bundle, g) for g in ("02", "03", "04", "05"))
    assert first["counts"]["classes"]["filtered"] == 32
    assert first["counts"]["enrollments"]["filtered"] == 816  # the filtered students' and classes' enrollments
    assert _grades(db_path) == (["01", "KG"], ["01", "KG"])  # never inserted, not even as deleted rows
    with sqlite3.connect(db_path) as conn:
        audited = conn.execute("SELECT count(*) FROM changes c JOIN users u ON u.sourced_id = c.sourced_id "
                               "WHERE u.grades NOT IN ('[\"KG\"]', '[\"01\"]')").fetchone()
        dangling = conn.execute("SELECT count(*) FROM run_issues WHERE code='dangling'").fetchone()
    assert audited == (0,) and dangling == (0,)  # references to filtered rows are not dangling

    assert cli("schools", "select", "lincoln", "--grades", "KG,01,02").exit_code == 0
    preview = cli("sync", "lincoln", "--dry-run", "--show")
    assert preview.exit_code == 0 and "insert" in preview.output
    dry = _run(cli("sync", "lincoln", "--dry-run", "--json"))
    assert dry["status"] == "dry-run" and dry["counts"]["users"]["inserted"] == _students(bundle, "02")
    assert _grades(db_path)[1] == ["01", "KG"]  # a dry run changes nothing

    assert cli("schools", "select", "lincoln", "--grades", "KG").exit_code == 0  # narrower: a big delete
    held = _run(cli("sync", "lincoln", "--json"))
    assert held["status"] == "held" and "enrollments (enrollments.csv): would delete" in held["error"]
    assert _grades(db_path)[1] == ["01", "KG"]
    approved = cli("approve", str(held["run"]), "--json")
    assert approved.exit_code == 0, approved.output
    assert _grades(db_path) == (["01", "KG"], ["KG"])  # grade 01 soft-deleted by the diff, audited
    changes = json.loads(cli("changes", str(held["run"]), "--entity", "users", "--json").output)
    assert {c["action"] for c in changes} == {"delete"} and len(changes) == _students(bundle, "01")


def test_terms_by_date_and_class_codes_by_glob(cli, school_with_bundle, bundle, db_path):
    sessions_around_today(bundle)
    assert cli("schools", "select", "lincoln", "--terms", "current", "--exclude-classes", "LE-KG-*").exit_code == 0
    run = _run(cli("sync", "lincoln", "--json"))
    with sqlite3.connect(db_path) as conn:
        classes = conn.execute("SELECT DISTINCT term_sourced_ids FROM classes").fetchall()
        codes = conn.execute("SELECT count(*) FROM classes WHERE class_code LIKE 'LE-KG-%'").fetchone()
    assert classes == [('["term-fall"]',)] and codes == (0,)
    report = json.loads(cli("report", str(run["run"]), "--format", "json").output)
    reasons = {r["reason"] for r in report["records"] if r["entity"] == "classes"}
    assert any("is not among the selected terms (Fall 2026 [current])" in r for r in reasons)
    assert any(r.startswith("class code 'LE-KG-") and "is excluded (LE-KG-*)" in r for r in reasons)

    assert cli("schools", "select", "lincoln", "--clear", "--terms", "current,next").exit_code == 0
    both = _run(cli("sync", "lincoln", "--json"))
    assert both["counts"]["classes"]["filtered"] == 0 and both["counts"]["classes"]["inserted"] > 0


def test_an_unknown_rule_is_refused(cli, school_with_bundle, project):
    with (project / "rostersync.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[schools.lincoln.select]\ngrade = ["KG"]\n')
    result = cli("status")
    assert result.exit_code == 2 and "unknown select rule(s) grade" in result.output
