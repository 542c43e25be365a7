"""Shared fixtures: a copy of the sample district to edit, a project folder, and CLI runners.

``cli`` drives the click app in-process (fast, exact exit codes); ``run_cli`` runs the installed
``rostersync`` console script in a subprocess, as an operator or a cron job would.
"""

from __future__ import annotations

import csv
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rostersync.cli import main
from rostersync.demo import sample_bundle
from rostersync.model import ENTITIES
from rostersync.process import tune

tune()  # what the CLI does at start-up, for the tests that call the library directly

ROSTER_TABLES = tuple(ENTITIES)  # every roster table the store creates, gradebook and roles included


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """A private, editable copy of the embedded sample district (OneRoster 1.1 CSV)."""
    target = tmp_path / "bundle"
    shutil.copytree(sample_bundle(), target)
    return target


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty operator folder; ROSTERSYNC_CONFIG points at its (not yet created) config."""
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.setenv("ROSTERSYNC_CONFIG", str(folder / "rostersync.toml"))
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def cli(project: Path) -> Callable[..., Result]:
    """Invoke the CLI in-process: ``cli("sync", "lincoln")``; asserts nothing about the outcome."""
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def rostersync_exe() -> str:
    """The installed console script (of the interpreter running the tests)."""
    exe = shutil.which("rostersync", path=os.path.dirname(sys.executable)) or shutil.which("rostersync")
    assert exe, "the rostersync console script is not installed (pip install -e .)"
    return exe


@pytest.fixture
def run_cli(project: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the installed console script in a subprocess."""
    exe = rostersync_exe()

    def run(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run([exe, *args], capture_output=True, text=True, cwd=project, timeout=300,
                              **kwargs)  # type: ignore[call-overload]

    return run


@pytest.fixture
def school_with_bundle(cli: Callable[..., Result], bundle: Path) -> str:
    """A configured school 'lincoln' (org sch-lincoln) syncing ``bundle`` via csv-folder."""
    assert cli("init").exit_code == 0
    assert cli("schools", "add", "lincoln", "--name", "Lincoln Elementary", "--org-id", "sch-lincoln").exit_code == 0
    assert cli("enable", "lincoln", "csv-folder", "--set", f"path={bundle}").exit_code == 0
    return "lincoln"


def roster_snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every row of every roster table, ordered: equal snapshots mean an unchanged roster."""
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY school, source, sourced_id").fetchall()
                for t in ROSTER_TABLES}


def edit_csv(path: Path, edit: Callable[[list[dict[str, str]]], list[dict[str, str]]]) -> None:
    """Rewrite a CSV file through ``edit(rows) -> rows``, keeping its header."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    rows = edit(rows)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def db_path(project: Path) -> Iterator[Path]:
    yield project / "rostersync.db"


def sessions_around_today(bundle: Path) -> None:
    """Date the sample district's sessions around today: fall is the current term whatever day the tests
    run, spring the next one, both in a school year containing today."""
    import datetime as dt

    today = dt.date.today()
    dates = {"sy-2027": (-100, 300), "term-fall": (-100, 30), "term-spring": (40, 300)}

    def shift(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        for row in rows:
            start, end = dates[row["sourcedId"]]
            row["startDate"] = str(today + dt.timedelta(days=start))
            row["endDate"] = str(today + dt.timedelta(days=end))
        return rows

    edit_csv(bundle / "academicSessions.csv", shift)
