"""The hostile-input corpus (tests/corpus/, see its README.md), each case through the real CLI.

A school is synced once from ``tests/corpus/_baseline``, on each store (an SQLite file; a PostgreSQL
database). For each case, a copy of that project (config and database) syncs the baseline overlaid
with the case's files (or rewritten by its generator), as ``rostersync sync --json`` in a subprocess.
The outcome must match ``expected.toml``; nothing may print a traceback; and the database must be
what it was: every table dumped row by row, identical except the new run's own rows (its ``sync_runs``
row, and for a held run its pending ``changes`` and staged rows) and, for an ``ok`` case, exactly the
expected changes.
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
from rostersync.config import Config
from rostersync.store import store_at

CORPUS = Path(__file__).parent / "corpus"
BASELINE = CORPUS / "_baseline"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("_"))
#: expected outcome -> (run status, exit code)
OUTCOMES = {"error": ("failed", 1), "held": ("held", 3), "ok": ("ok", 0), "ok-with-warnings": ("ok", 0)}
#: tables whose rows belong to a run (column holding the run id)
RUN_ROWS = {"sync_runs": "id", "changes": "run_id", "run_issues": "run_id"}

pytest_plugins = ("pg_fixtures",)


def rostersync(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ROSTERSYNC_CONFIG"}
    return subprocess.run([rostersync_exe(), *args], cwd=project, env=env, capture_output=True, text=True,
                          timeout=120)


class SqliteProject:
    """The corpus project on an SQLite file (``rostersync.db`` next to the config)."""

    store = "sqlite"

    def __init__(self, project: Path) -> None:
        self.project = project
        self.db = project / "rostersync.db"

    def copy(self, folder: Path, _name: str) -> SqliteProject:
        shutil.copytree(self.project, folder)
        return SqliteProject(folder)

    def query(self, sql: str, params: list[Any]) -> list[Any]:
        with sqlite3.connect(self.db) as conn:
            conn.row_factory = sqlite3.Row
            return conn.execute(sql, params).fetchall()

    def dump(self, skip_run: int | None = None, skip_rows: set[tuple[str, str]] = frozenset()) -> dict[str, Any]:
        """Schema and every row of every table, in rowid order; without run ``skip_run``'s own rows and
        the roster rows named in ``skip_rows`` ((table, sourced_id) pairs)."""
        conn = sqlite3.connect(self.db)
        try:
            schema = sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))
            out: dict[str, Any] = {"schema": schema}
            for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
                cursor = conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid')
                out[table] = _kept(table, [d[0] for d in cursor.description], cursor.fetchall(), skip_run, skip_rows)
            return out
        finally:
            conn.close()

    def staged_runs(self) -> list[int]:
        """Runs whose staging is kept (a held run's, for approve)."""
        return sorted(int(p.stem.split("-")[1]) for p in (self.project / "rostersync.db.staging").iterdir())


class PgProject:
    """The corpus project on a PostgreSQL database; a case works on a copy of it (CREATE DATABASE ...
    TEMPLATE) with its own config pointing there."""

    store = "postgresql"

    def __init__(self, project: Path, server: Any, name: str) -> None:
        self.project, self.server, self.name = project, server, name
        self.url = server.url(name)

    def copy(self, folder: Path, name: str) -> PgProject:
        from rostersync.config import Config

        shutil.copytree(self.project, folder)
        self.server.create_database(name, self.name)
        config = Config.load(folder / "rostersync.toml")
        config.doc["database"]["url"] = self.server.url(name)  # type: ignore[index]
        config.save()
        return PgProject(folder, self.server, name)

    def query(self, sql: str, params: list[Any]) -> list[Any]:
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(self.url, row_factory=dict_row) as conn:
            return conn.execute(sql.replace("?", "%s"), params).fetchall()

    def dump(self, skip_run: int | None = None, skip_rows: set[tuple[str, str]] = frozenset()) -> dict[str, Any]:
        """Columns and every row of every table (sorted: PostgreSQL has no rowid order), as for SQLite."""
        import psycopg

        with psycopg.connect(self.url) as conn:
            out: dict[str, Any] = {"schema": conn.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'public' ORDER BY 1, ordinal_position").fetchall()}
            tables = [t for (t,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
            for table in tables:
                cursor = conn.execute(f'SELECT * FROM "{table}"')
                rows = sorted(cursor.fetchall(), key=repr)
                out[table] = _kept(table, [d.name for d in cursor.description], rows, skip_run, skip_rows)
            return out

    def staged_runs(self) -> list[int]:
        """Runs with rows in the UNLOGGED staging (a held run's, for approve)."""
        from rostersync.store.schema import TABLES

        union = " UNION ".join(f'SELECT run_id FROM "stage_{entity}"' for entity in TABLES)
        return [r["run_id"] for r in self.query(f"SELECT DISTINCT run_id FROM ({union}) s ORDER BY 1", [])]


def _kept(table: str, names: list[str], rows: list[Any], skip_run: int | None,
          skip_rows: set[tuple[str, str]]) -> list[Any]:
    """``rows`` of ``table`` without the run's own rows and the roster rows named in ``skip_rows``."""
    if table in RUN_ROWS or table.startswith("stage_") or table == "run_staging":
        at = names.index(RUN_ROWS.get(table, "run_id"))
        return [r for r in rows if r[at] != skip_run]
    if "sourced_id" in names:
        at = names.index("sourced_id")
        return [r for r in rows if (table, r[at]) not in skip_rows]
    return rows


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def synced(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SqliteProject | PgProject:
    """A project whose school 'hill' (org sch-1) has synced the baseline bundle from ./drop, on each store."""
    project = tmp_path_factory.mktemp("corpus") / "project"
    project.mkdir()
    shutil.copytree(BASELINE, project / "drop")
    setup = [["init"]]
    if request.param == "postgresql":
        server = request.getfixturevalue("pg_server")
        name = f"corpus_{os.getpid()}"
        server.create_database(name)
        setup += [["db", "upgrade"]]
    for args in (*setup, ["schools", "add", "hill", "--name", "Hill School", "--org-id", "sch-1"],
                 ["enable", "hill", "csv-folder", "--set", "path=drop"], ["sync", "hill", "--json"]):
        if args == ["db", "upgrade"]:
            _point_at(project, server.url(name))
        result = rostersync(project, *args)
        assert result.returncode == 0, result.stdout + result.stderr
    [run] = json.loads(result.stdout)
    assert run["status"] == "ok" and run["counts"]["users"]["inserted"] == 6, run  # sch-1's share
    assert run["counts"]["results"]["inserted"] == 3 and run["warnings"] == 0
    shutil.rmtree(project / "drop")
    return PgProject(project, server, name) if request.param == "postgresql" else SqliteProject(project)


def _point_at(project: Path, url: str) -> None:
    from rostersync.config import Config

    config = Config.load(project / "rostersync.toml")
    config.doc["database"]["url"] = url  # type: ignore[index]
    config.save()


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
def test_corpus_case(case: str, synced: SqliteProject | PgProject, tmp_path: Path) -> None:
    expected = tomllib.loads((CORPUS / case / "expected.toml").read_text(encoding="utf-8"))
    status, code = OUTCOMES[expected["outcome"]]
    db = synced.copy(tmp_path / "project", f"case_{abs(hash((case, str(tmp_path)))) % 10**9}")
    materialise(case, expected, db.project / "drop")
    changes = {(c["entity"], c["sourced_id"]) for c in expected.get("changes", [])}
    before = db.dump(skip_rows=changes)

    result = rostersync(db.project, "sync", "hill", "--json")
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output[-3000:]
    assert result.returncode == code, output[-3000:]
    [run] = json.loads(result.stdout)
    assert run["status"] == status, run
    for text in expected.get("message", []):
        assert text in (run["error"] or ""), f"{text!r} not in {run['error']!r}"

    config = Config.load(db.project / "rostersync.toml")
    with store_at(config.database) as store:
        recorded = store.issues(run["run"])
    issues = [str(issue) for issue in recorded]
    actions = [tuple(r) if db.store == "sqlite" else (r["entity"], r["sourced_id"], r["action"]) for r in
               db.query("SELECT entity, sourced_id, action FROM changes WHERE run_id=?", [run["run"]])]
    [stored] = db.query("SELECT status FROM sync_runs WHERE id=?", [run["run"]])
    assert stored["status"] == status
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
    assert db.dump(skip_run=run["run"], skip_rows=changes) == before
    assert db.staged_runs() == ([run["run"]] if status == "held" else [])  # a held run keeps its diff
    _check_changed_values(db, expected)
    if "export" in expected:
        _check_export(db.project, expected["export"])


def _check_changed_values(db: SqliteProject | PgProject, expected: dict[str, Any]) -> None:
    for change in expected.get("changes", []):
        [row] = db.query(f'SELECT * FROM "{change["entity"]}" WHERE sourced_id=?', [change["sourced_id"]])
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
