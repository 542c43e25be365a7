"""The hostile-input corpus (tests/corpus/, see its README.md), each case through the real CLI.

A school is synced once from ``tests/corpus/_baseline``. For each case, a copy of that project (config
and database) syncs the baseline overlaid with the case's files (or rewritten by its generator), as
``rostersync sync --json`` in a subprocess. The outcome must match ``expected.toml``; nothing may print a
traceback; and the database must be what it was: every table dumped row by row, identical except the
new run's own rows (its ``sync_runs`` row, and for a held run its pending ``changes``) and, for an ``ok``
case, exactly the expected changes.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from conftest import rostersync_exe
from corpus_inputs import GENERATORS
from rostersync.store import store_at

CORPUS = Path(__file__).parent / "corpus"
BASELINE = CORPUS / "_baseline"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("_"))
#: expected outcome -> (run status, exit code)
OUTCOMES = {"error": ("failed", 1), "held": ("held", 3), "ok": ("ok", 0), "ok-with-warnings": ("ok", 0)}
#: tables whose rows belong to a run (column holding the run id)
RUN_ROWS = {"sync_runs": "id", "changes": "run_id", "run_issues": "run_id"}


def rostersync(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ROSTERSYNC_CONFIG"}
    return subprocess.run([rostersync_exe(), *args], cwd=project, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose school 'hill' (org sch-1) has synced the baseline bundle from ./drop."""
    project = tmp_path_factory.mktemp("corpus") / "project"
    project.mkdir()
    shutil.copytree(BASELINE, project / "drop")
    for args in (["init"], ["schools", "add", "hill", "--name", "Hill School", "--org-id", "sch-1"],
                 ["enable", "hill", "csv-folder", "--set", "path=drop"], ["sync", "hill", "--json"]):
        result = rostersync(project, *args)
        assert result.returncode == 0, result.stdout + result.stderr
    [run] = json.loads(result.stdout)
    assert run["status"] == "ok" and run["counts"]["users"]["inserted"] == 6, run  # sch-1's share
    assert run["counts"]["results"]["inserted"] == 3 and run["warnings"] == 0
    shutil.rmtree(project / "drop")
    return project


def dump(db: Path, skip_run: int | None = None, skip_rows: set[tuple[str, str]] = frozenset()) -> dict[str, Any]:
    """Schema and every row of every table, in rowid order; without run ``skip_run``'s own rows and the
    roster rows named in ``skip_rows`` ((table, sourced_id) pairs)."""
    conn = sqlite3.connect(db)
    try:
        out: dict[str, Any] = {"schema": sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))}
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            cursor = conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid')
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
            if table in RUN_ROWS:
                at = names.index(RUN_ROWS[table])
                rows = [r for r in rows if r[at] != skip_run]
            elif "sourced_id" in names:
                at = names.index("sourced_id")
                rows = [r for r in rows if (table, r[at]) not in skip_rows]
            out[table] = rows
        return out
    finally:
        conn.close()


def materialise(case: str, expected: dict[str, Any], drop: Path) -> None:
    """The baseline, minus ``delete``, overlaid with the case's files, then its generator if any."""
    shutil.copytree(BASELINE, drop)
    for name in expected.get("delete", []):
        (drop / name).unlink()
    for path in (CORPUS / case).iterdir():
        if path.name != "expected.toml":
            shutil.copyfile(path, drop / path.name)
    if "generate" in expected:
        GENERATORS[expected["generate"]](drop)


def test_the_corpus_has_every_category_the_issue_asks_for():
    categories = {tomllib.loads((CORPUS / c / "expected.toml").read_text())["category"] for c in CASES}
    assert len(CASES) >= 40
    assert {"missing file", "empty file", "header only", "header", "row width", "quoting", "bytes", "encoding",
            "size", "identity", "reference", "hierarchy", "date", "enumeration", "number", "manifest", "zip",
            "drop folder", "formula"} <= categories


@pytest.mark.parametrize("case", CASES)
def test_corpus_case(case: str, synced: Path, tmp_path: Path) -> None:
    expected = tomllib.loads((CORPUS / case / "expected.toml").read_text(encoding="utf-8"))
    status, code = OUTCOMES[expected["outcome"]]
    project = tmp_path / "project"
    shutil.copytree(synced, project)
    db = project / "rostersync.db"
    materialise(case, expected, project / "drop")
    changes = {(c["entity"], c["sourced_id"]) for c in expected.get("changes", [])}
    before = dump(db, skip_rows=changes)

    result = rostersync(project, "sync", "hill", "--json")
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output[-3000:]
    assert result.returncode == code, output[-3000:]
    [run] = json.loads(result.stdout)
    assert run["status"] == status, run
    for text in expected.get("message", []):
        assert text in (run["error"] or ""), f"{text!r} not in {run['error']!r}"

    with store_at(db) as store:
        recorded = store.issues(run["run"])
    issues = [str(issue) for issue in recorded]
    with sqlite3.connect(db) as conn:
        actions = conn.execute("SELECT entity, sourced_id, action FROM changes WHERE run_id=?", [run["run"]]).fetchall()
        stored_status = conn.execute("SELECT status FROM sync_runs WHERE id=?", [run["run"]]).fetchone()[0]
    assert stored_status == status
    for text in expected.get("warnings", []):
        assert any(text in m for m in issues), f"{text!r} not among the run's warnings {issues}"
    if expected["outcome"] == "ok":
        assert issues == []
    if status == "ok":
        assert sorted(actions) == sorted((c["entity"], c["sourced_id"], c["action"])
                                         for c in expected.get("changes", []))
    elif status == "failed":  # a failed run keeps only the rows it refused, for its report
        assert actions == [] and all((i.level, i.code, i.outcome) == ("error", "invalid", "rejected")
                                     for i in recorded)

    # the database: the same but for this run's own rows and the expected changes
    assert dump(db, skip_run=run["run"], skip_rows=changes) == before
    staging = sorted(p.name for p in (project / "rostersync.db.staging").iterdir())
    assert staging == ([f"run-{run['run']}.db"] if status == "held" else [])  # a held run keeps its diff
    _check_changed_values(db, expected)
    if "export" in expected:
        _check_export(project, expected["export"])


def _check_changed_values(db: Path, expected: dict[str, Any]) -> None:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        for change in expected.get("changes", []):
            row = conn.execute(f'SELECT * FROM "{change["entity"]}" WHERE sourced_id=?',
                               [change["sourced_id"]]).fetchone()
            if change["action"] == "delete":
                assert row["deleted_at"] is not None
            for column, value in change.get("fields", {}).items():
                assert row[column] == value, (change, column)


def _check_export(project: Path, spec: dict[str, Any]) -> None:
    for flag, key in (("", "escaped"), ("--raw", "raw")):
        out = project / f"export{flag}"
        result = rostersync(project, "export", "hill", "--out", str(out), *([flag] if flag else []))
        assert result.returncode == 0, result.stdout + result.stderr
        text = (out / spec["file"]).read_text(encoding="utf-8")
        for fragment in spec[key]:
            assert fragment in text, (flag, fragment)
