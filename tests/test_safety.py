"""Safe nightly sync: dry runs, holds on anomalous change, approve/discard, add-only, blackouts,
scheduling with per-source locks, and crash safety under SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from conftest import edit_csv, roster_snapshot, rostersync_exe
from synthetic import write_district


def _json(result):  # type: ignore[no-untyped-def]
    return json.loads(result.output)


def _drop_students(bundle: Path, share: float) -> set[str]:
    """Remove ``share`` of Lincoln's students (and their enrollments) from the bundle."""
    dropped: set[str] = set()

    def users(rows):  # type: ignore[no-untyped-def]
        students = [r["sourcedId"] for r in rows if r["role"] == "student" and r["orgSourcedIds"] == "sch-lincoln"]
        dropped.update(students[: int(len(students) * share)])
        return [r for r in rows if r["sourcedId"] not in dropped]

    edit_csv(bundle / "users.csv", users)
    edit_csv(bundle / "enrollments.csv", lambda rows: [r for r in rows if r["userSourcedId"] not in dropped])
    return dropped


def _change_set(changes):  # type: ignore[no-untyped-def]
    return sorted((c["entity"], c["sourced_id"], c["action"], json.dumps(c["fields"])) for c in changes)


def test_dropping_30_percent_of_students_is_held_then_approved_exactly_as_previewed(
        cli, school_with_bundle, bundle, db_path):
    assert cli("sync", "lincoln").exit_code == 0
    before = roster_snapshot(db_path)
    dropped = _drop_students(bundle, 0.30)
    assert len(dropped) == 45

    preview = cli("sync", "lincoln", "--dry-run", "--json")
    assert preview.exit_code == 0
    held = cli("sync", "lincoln", "--json")
    assert held.exit_code == 3
    run = _json(held)[0]
    assert run["status"] == "held"
    assert "users (users.csv): would delete 45 of 384 rows" in run["error"]
    assert roster_snapshot(db_path) == before  # nothing applied
    assert run["counts"] == _json(preview)[0]["counts"]  # the hold shows what the dry run showed

    holds = _json(cli("holds", "--json"))
    assert [h["id"] for h in holds] == [run["run"]]
    pending = _json(cli("changes", str(run["run"]), "--json"))
    assert {c["sourced_id"] for c in pending if c["entity"] == "users"} == dropped
    blocked = _json(cli("sync", "lincoln", "--json"))[0]
    assert blocked["status"] == "skipped" and f"run {run['run']} is still held" in blocked["error"]
    assert blocked["held_run"] == run["run"]

    approved = cli("approve", str(run["run"]), "--json")
    assert approved.exit_code == 0, approved.output
    assert _json(approved)["counts"] == run["counts"]
    assert _change_set(_json(cli("changes", str(run["run"]), "--json"))) == _change_set(pending)
    with sqlite3.connect(db_path) as conn:
        gone = {r[0] for r in conn.execute("SELECT sourced_id FROM users WHERE deleted_run=?", [run["run"]])}
        assert gone == dropped
        assert conn.execute("SELECT status, approved_at IS NOT NULL FROM sync_runs WHERE id=?",
                            [run["run"]]).fetchone() == ("ok", 1)
    assert _json(cli("holds", "--json")) == []
    assert cli("approve", str(run["run"])).exit_code == 2  # not held any more


def test_discard_leaves_the_roster_exactly_as_it_was(cli, school_with_bundle, bundle, db_path):
    assert cli("sync", "lincoln").exit_code == 0
    before = roster_snapshot(db_path)
    _drop_students(bundle, 0.30)
    run = _json(cli("sync", "lincoln", "--json"))[0]
    assert run["status"] == "held"
    assert cli("discard", str(run["run"])).exit_code == 0
    assert roster_snapshot(db_path) == before
    assert _json(cli("changes", str(run["run"]), "--json")) == []
    assert not any(db_path.with_name(db_path.name + ".staging").iterdir())
    history = _json(cli("history", "--json"))
    assert history[0]["status"] == "discarded"
    assert _json(cli("sync", "lincoln", "--json"))[0]["status"] == "held"  # the export is still short


def test_an_entity_that_comes_back_empty_is_always_held(cli, school_with_bundle, bundle, db_path):
    assert cli("sync", "lincoln").exit_code == 0
    before = roster_snapshot(db_path)
    edit_csv(bundle / "users.csv", lambda rows: [])
    result = cli("sync", "lincoln", "--json")
    assert result.exit_code == 3
    run = _json(result)[0]
    assert run["status"] == "held"
    assert "users.csv has a header and no rows, but the roster holds 384 users" in run["error"]
    assert roster_snapshot(db_path) == before


def test_small_changes_under_the_absolute_minimum_are_not_held(cli, school_with_bundle, bundle):
    assert cli("sync", "lincoln").exit_code == 0
    assert cli("schools", "set", "lincoln", "--min-changes", "1000").exit_code == 0
    _drop_students(bundle, 0.30)
    assert _json(cli("sync", "lincoln", "--json"))[0]["status"] == "ok"


def test_add_only_skips_and_reports_deletes(cli, school_with_bundle, bundle, db_path):
    assert cli("sync", "lincoln").exit_code == 0
    assert cli("schools", "set", "lincoln", "--mode", "add-only").exit_code == 0
    kept = ("enr-00050", "enr-00051")
    edit_csv(bundle / "enrollments.csv", lambda rows: [r for r in rows if r["sourcedId"] not in kept])

    def rename(rows):  # type: ignore[no-untyped-def]
        rows[20]["givenName"] = "Changed"
        return rows

    edit_csv(bundle / "users.csv", rename)
    result = cli("sync", "lincoln")
    assert result.exit_code == 0
    assert "add-only: 2 delete(s) skipped" in result.output
    run = _json(cli("history", "--json"))[0]
    assert run["counts"]["enrollments"]["delete_skipped"] == 2 and run["counts"]["users"]["updated"] == 1
    assert run["mode"] == "add-only"
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM current_enrollments WHERE sourced_id IN "
                            "('enr-00050', 'enr-00051')").fetchone() == (2,)


def test_blackout_skips_the_run_and_keeps_the_roster(cli, school_with_bundle, bundle, db_path):
    import datetime as dt

    assert cli("sync", "lincoln").exit_code == 0
    before = roster_snapshot(db_path)
    today = dt.date.today()
    span = f"{today - dt.timedelta(days=1)}..{today + dt.timedelta(days=1)}"
    assert cli("schools", "set", "lincoln", "--blackout", span).exit_code == 0
    _drop_students(bundle, 0.5)
    result = cli("sync", "lincoln", "--json")
    assert result.exit_code == 0
    run = _json(result)[0]
    assert run["status"] == "skipped" and f"blackout {span}" in run["error"]
    assert roster_snapshot(db_path) == before
    assert cli("schools", "set", "lincoln", "--clear-blackouts").exit_code == 0
    assert _json(cli("sync", "lincoln", "--json"))[0]["status"] == "held"


def test_dry_run_shows_changed_records_and_commits_nothing(cli, school_with_bundle, bundle, db_path):
    assert cli("sync", "lincoln").exit_code == 0
    before = roster_snapshot(db_path)

    def rename(rows):  # type: ignore[no-untyped-def]
        rows[3]["familyName"] = "Preview"
        return rows

    edit_csv(bundle / "users.csv", rename)
    result = cli("sync", "lincoln", "--dry-run", "--show")
    assert result.exit_code == 0
    assert "dry run: nothing was changed" in result.output
    assert "family_name:" in result.output and "-> 'Preview'" in result.output
    assert roster_snapshot(db_path) == before
    runs = _json(cli("history", "--json"))
    assert runs[0]["status"] == "dry-run" and runs[0]["counts"]["users"]["updated"] == 1
    assert _json(cli("changes", str(runs[0]["id"]), "--json")) == []


def test_run_due_runs_each_due_source_once(cli, school_with_bundle):
    assert cli("enable", "lincoln", "csv-folder", "--schedule", "*/5 * * * *").exit_code == 0
    first = _json(cli("run", "--due", "--json"))
    assert [(r["school"], r["status"]) for r in first] == [("lincoln", "ok")]
    assert _json(cli("run", "--due", "--json")) == []  # just ran: not due until the next fire
    assert "nothing is due" in cli("run", "--due").output
    assert cli("enable", "lincoln", "csv-folder", "--schedule", "every night").exit_code == 2


@pytest.fixture
def big_school(cli, tmp_path):  # type: ignore[no-untyped-def]
    """Two schools syncing a 20k-student district: a sync takes seconds, long enough to interrupt."""
    bundle = write_district(tmp_path / "district", 20000)
    assert cli("init").exit_code == 0
    for school in ("north", "south"):
        org = "sch-0" if school == "north" else "sch-1"
        assert cli("schools", "add", school, "--name", school, "--org-id", org).exit_code == 0
        assert cli("enable", school, "csv-folder", "--set", f"path={bundle}").exit_code == 0
    return bundle


def test_two_concurrent_run_due_processes_sync_each_source_once(big_school, run_cli, db_path):
    procs = [subprocess.Popen([rostersync_exe(), "run", "--due", "--json"], cwd=db_path.parent,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    ran = [r for out, _err in outputs for r in json.loads(out)]
    assert sorted(r["school"] for r in ran) == ["north", "south"]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT school, count(*) FROM sync_runs GROUP BY school ORDER BY school").fetchall() == [
            ("north", 1), ("south", 1)]


def _wait_for(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the sync never reached the point to interrupt"
        time.sleep(0.005)


def _apply_in_progress(db_path: Path) -> bool:
    """The main database's write lock is held while a staging file exists: the apply transaction."""
    staging = db_path.with_name(db_path.name + ".staging")
    if not staging.exists() or not any(staging.iterdir()):
        return False
    conn = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()


def _staging_growing(db_path: Path) -> bool:
    staging = db_path.with_name(db_path.name + ".staging")
    return staging.exists() and any(f.stat().st_size > 2_000_000 for f in staging.iterdir())


@pytest.mark.parametrize("moment", ["fetch", "apply"])
def test_sigkill_leaves_the_previous_roster_and_the_next_run_completes(big_school, cli, db_path, moment):
    assert _json(cli("sync", "north", "--json"))[0]["status"] == "ok"
    before = roster_snapshot(db_path)
    write_district(big_school, 20000, family_suffix="-renamed")  # 5% of rows change: below the hold thresholds
    proc = subprocess.Popen([rostersync_exe(), "sync", "north"], cwd=db_path.parent, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: _staging_growing(db_path) if moment == "fetch" else _apply_in_progress(db_path))
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert roster_snapshot(db_path) == before

    run = _json(cli("sync", "north", "--json"))[0]
    assert run["status"] == "ok" and run["counts"]["users"]["updated"] == 10000
    history = _json(cli("history", "north", "--json"))
    assert history[1]["status"] == "failed" and history[1]["error"].startswith("interrupted")
    assert list(db_path.with_name(db_path.name + ".staging").iterdir()) == []
