"""Helpers for the format tests: the committed fixture bundles under tests/data/<format>/, and a school
syncing one of them through the real CLI into a real SQLite file."""

from __future__ import annotations

import json
import shutil
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result

DATA = Path(__file__).parent / "data"


def copy_fixture(name: str, target: Path) -> Path:
    """A private, editable copy of ``tests/data/<name>``."""
    shutil.copytree(DATA / name, target)
    return target


def zip_folder(folder: Path, target: Path, prefix: str = "") -> Path:
    """Zip the files of ``folder`` (under ``prefix/`` when given), as an SIS export would."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, f"{prefix}/{path.name}" if prefix else path.name)
    return target


def add_school(cli: Callable[..., Result], school: str, path: Path, *org_ids: str, **settings: str) -> None:
    """Configure ``school`` (initialising the project once) to sync ``path`` with csv-folder."""
    if not Path("rostersync.toml").exists():
        assert cli("init").exit_code == 0
    args = [x for org in org_ids for x in ("--org-id", org)]
    assert cli("schools", "add", school, "--name", school.title(), *args).exit_code == 0
    sets = [x for k, v in {"path": str(path), **settings}.items() for x in ("--set", f"{k}={v}")]
    result = cli("enable", school, "csv-folder", *sets)
    assert result.exit_code == 0, result.output


def sync(cli: Callable[..., Result], school: str) -> dict[str, Any]:
    """One sync through the CLI, as JSON; fails the test when the CLI crashed."""
    result = cli("sync", school, "--json")
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.output)[0]


def query(db: Path, sql: str, *params: Any) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def row(db: Path, table: str, sourced_id: str) -> dict[str, Any]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        found = conn.execute(f"SELECT * FROM {table} WHERE sourced_id=?", [sourced_id]).fetchone()
    assert found is not None, f"{table} {sourced_id} not in the roster"
    return dict(found)


def warnings(cli: Callable[..., Result], run: int) -> list[str]:
    result = cli("changes", str(run), "--warnings", "--json")
    assert result.exit_code == 0, result.output
    return [w["message"] for w in json.loads(result.output)]
