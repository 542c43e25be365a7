"""Security claims of SECURITY.md that no other test covers: private files whatever the umask (database,
its WAL, staging, exports, SFTP downloads), SQL built only from bound values and quoted identifiers,
and formula escaping of every CSV cell rostersync writes, header names included.

Elsewhere: literal secrets refused (test_config.py), secrets never in output/DB/config for SFTP
(test_sftp_secrets.py) and for any connector with -vv (test_secrets_everywhere.py), zip and symlink
refusal (the corpus, test_corpus.py).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import rostersync_exe

CORPUS_BASELINE = Path(__file__).parent / "corpus" / "_baseline"

pytest_plugins = ["sftp_fixtures"]  # sshd, drops


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def run(project: Path, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess whose umask is 0: every file it creates would be world-writable by default."""
    env = {k: v for k, v in os.environ.items() if k != "ROSTERSYNC_CONFIG"}
    result = subprocess.run([rostersync_exe(), *args], cwd=project, env=env, capture_output=True, text=True,
                            timeout=120, preexec_fn=lambda: os.umask(0))
    assert result.returncode == code, result.stdout + result.stderr
    return result


def test_database_staging_and_exports_are_private_even_with_umask_0(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copytree(CORPUS_BASELINE, project / "drop")
    run(project, "init")
    run(project, "schools", "add", "hill", "--name", "Hill", "--org-id", "sch-1")
    run(project, "enable", "hill", "csv-folder", "--set", "path=drop")
    run(project, "sync", "hill")
    users = project / "drop" / "users.csv"
    users.write_bytes(users.read_bytes().split(b"\r\n")[0] + b"\r\n")  # header only: the run is held
    held = json.loads(run(project, "sync", "hill", "--json", code=3).stdout)[0]
    run(project, "export", "hill", "--out", "export")

    db = project / "rostersync.db"
    staging = project / "rostersync.db.staging"
    assert mode(db) == 0o600
    assert mode(staging) == 0o700
    assert [p.name for p in staging.iterdir()] == [f"run-{held['run']}.db"]  # kept for approve/discard
    assert mode(staging / f"run-{held['run']}.db") == 0o600
    assert mode(project / "export") == 0o700
    exported = list((project / "export").iterdir())
    assert {p.name for p in exported} >= {"manifest.csv", "users.csv", "orgs.csv"}
    assert {mode(p) for p in exported} == {0o600}


def test_the_write_ahead_log_and_a_staging_file_are_private_while_open(tmp_path: Path) -> None:
    from rostersync.store import open_store

    with umask(0):
        store = open_store(tmp_path / "x.db")
        try:
            store.begin_run("s", "src")  # a write: SQLite creates the -wal and -shm files
            files = {p.name: mode(p) for p in tmp_path.iterdir() if p.is_file()}
            staging = store.staging(1)
            staged = mode(staging.path)
            staging.discard()
        finally:
            store.close()
    assert files == {"x.db": 0o600, "x.db-wal": 0o600, "x.db-shm": 0o600}
    assert staged == 0o600 and mode(tmp_path / "x.db.staging") == 0o700


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_sftp_downloads_are_private_with_umask_0(kind, sshd, drops, tmp_path, monkeypatch):
    from rostersync.connector import FetchContext, structure_settings
    from rostersync.plugins import get_connector
    from rostersync.transports.sftp import pull_drop
    from sftp_helpers import PASSPHRASE_ENV, put_bundle, zip_bundle

    monkeypatch.setenv(PASSPHRASE_ENV, sshd.key_passphrase)
    if kind == "zip":
        zip_bundle(drops / "roster.zip", sshd)
    else:
        put_bundle(drops / "roster", sshd)
    settings = structure_settings(get_connector("sftp-csv"), {
        "host": sshd.host, "port": sshd.port, "username": sshd.user, "known_hosts": str(sshd.known_hosts),
        "remote_path": str(drops if kind == "zip" else drops / "roster"), "settle_seconds": 0,
        "file_pattern": "*.zip" if kind == "zip" else "*.csv",
        "private_key": f"file:{sshd.key}", "key_passphrase": f"env:{PASSPHRASE_ENV}"})
    work = tmp_path / "work"
    work.mkdir(mode=0o700)
    with umask(0):
        _drop, path = pull_drop(FetchContext("lincoln", "sftp-csv", settings, work_dir=work))
    created = [p for p in work.rglob("*")]
    assert path.is_relative_to(work)
    assert {mode(p) for p in created if p.is_dir()} == {0o700}
    assert {mode(p) for p in created if p.is_file()} == {0o600}
    if kind == "zip":  # read in place by the bundle reader: nothing is unpacked
        assert path.suffix == ".zip" and [p for p in created if p.is_file()] == [path]
    else:
        assert (path / "users.csv").is_file() and len([p for p in created if p.is_file()]) >= 7


INJECTED_COLUMN = 'metadata.x"; DROP TABLE users; --'
INJECTED_ID = "s-9'); DROP TABLE users; --"
FORMULA_COLUMN = "=HYPERLINK(\"http://evil.example\")"


def test_sql_in_column_names_and_values_is_kept_as_data_and_exports_are_escaped(cli, project, tmp_path, db_path):
    """A header name and an id written as SQL are stored as text; `changes`, `export` and a second sync
    treat them as data; every formula-like cell and header name in the export gets a leading quote."""
    bundle = tmp_path / "bundle"
    shutil.copytree(CORPUS_BASELINE, bundle)
    with (bundle / "users.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[0] += [INJECTED_COLUMN, FORMULA_COLUMN]
    for row in rows[1:]:
        row += ["robert'); DROP TABLE users; --", "-2+3"]
    rows.append([INJECTED_ID, "active", "", "true", "sch-1", "student", "\tTAB", "", "+cmd", "@me", "", "", "", "",
                 "", "", "", "", "\rCR", "x", "y"])
    with (bundle / "users.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
    assert cli("init").exit_code == 0
    assert cli("schools", "add", "hill", "--name", "Hill", "--org-id", "sch-1").exit_code == 0
    assert cli("enable", "hill", "csv-folder", "--set", f"path={bundle}").exit_code == 0
    result = cli("sync", "hill", "--json")
    assert result.exit_code == 0, result.output
    run = json.loads(result.output)[0]
    assert run["counts"]["users"]["inserted"] == 7

    with sqlite3.connect(db_path) as conn:
        tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"users", "sync_runs", "changes"} <= tables
        extra = json.loads(conn.execute("SELECT extra FROM users WHERE sourced_id='s-1'").fetchone()[0])
        injected = conn.execute("SELECT given_name, username FROM users WHERE sourced_id=?", [INJECTED_ID]).fetchone()
    assert extra[INJECTED_COLUMN] == "robert'); DROP TABLE users; --" and extra[FORMULA_COLUMN] == "-2+3"
    assert injected == ("+cmd", "\tTAB")
    changes = json.loads(cli("changes", str(run["run"]), "--json").output)
    assert INJECTED_ID in {c["sourced_id"] for c in changes}

    assert cli("export", "hill", "--out", str(tmp_path / "raw"), "--raw").exit_code == 0
    assert cli("export", "hill", "--out", str(tmp_path / "safe")).exit_code == 0
    with (tmp_path / "raw" / "users.csv").open(newline="", encoding="utf-8") as handle:
        raw = {r["sourcedId"]: r for r in csv.DictReader(handle)}
    assert raw[INJECTED_ID][INJECTED_COLUMN] == "x" and raw[INJECTED_ID][FORMULA_COLUMN] == "y"
    with (tmp_path / "safe" / "users.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        cells = [cell for row in reader for cell in row] + header
    assert "'" + FORMULA_COLUMN in header and INJECTED_COLUMN in header
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    for value in ("'+cmd", "'@me", "'\tTAB", "'\rCR", "'-2+3", INJECTED_ID):  # the id starts with 's'
        assert value in cells, value

    # the raw export is a valid bundle: syncing it again as another school keeps the odd names as data
    assert cli("schools", "add", "copy", "--name", "Copy").exit_code == 0
    assert cli("enable", "copy", "csv-folder", "--set", f"path={tmp_path / 'raw'}").exit_code == 0
    again = cli("sync", "copy", "--json")
    assert again.exit_code == 0, again.output
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM users WHERE school='copy'").fetchone()[0] == 7


def test_the_zip_reader_refuses_a_bomb_and_an_archive_over_the_total_limit(tmp_path, monkeypatch):
    """A local .zip and an SFTP zip drop are both read in place by one reader (bundlefiles), under the
    limits of rostersync.zipsafety."""
    import zipfile

    from rostersync import zipsafety
    from rostersync.bundlefiles import open_bundle
    from rostersync.errors import SourceError

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("users.csv", b"sourcedId\r\n" + b"0" * (8 * 1024 * 1024))
    with pytest.raises(SourceError, match="zip bomb"):
        open_bundle(bomb)
    with pytest.raises(SourceError, match="zip bomb"):
        open_bundle(bomb, max_unzipped=(1 << 40, "max_unzipped_mb"))
    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("users.csv", b"x" * 5000)
    monkeypatch.setattr(zipsafety, "MAX_UNZIPPED_BYTES", 4000)
    with pytest.raises(SourceError, match="unpacks to 5,000 bytes, over the limit of 4,000"):
        open_bundle(plain)


def test_batches_are_bounded_by_input_bytes_as_well_as_rows(tmp_path, monkeypatch):
    """Long rows cannot make one batch hold a huge share of a file: a batch is cut once it has consumed
    BATCH_BYTES of input (checked every 256 rows), and rows that fail count towards a batch too."""
    from rostersync import bundlefiles
    from rostersync.bundlefiles import FolderBundle, read_csv

    monkeypatch.setattr(bundlefiles, "BATCH_BYTES", 100_000)
    (tmp_path / "x.csv").write_bytes(b"id,note\n" + b"".join(b"%d,%s\n" % (i, b"n" * 1000) for i in range(2000)))
    batches = list(read_csv(FolderBundle(tmp_path), "x.csv", format="t", entity="users"))
    assert sum(len(b.rows) for b in batches) == 2000
    assert max(len(b.rows) for b in batches) == 256 and len(batches) == 8
    (tmp_path / "y.csv").write_bytes(b"id,note\n" + b"1,2,3\n" * 12)
    bad = list(read_csv(FolderBundle(tmp_path), "y.csv", format="t", entity="users", batch_rows=5))
    assert [len(b.errors) for b in bad] == [5, 5, 2]
