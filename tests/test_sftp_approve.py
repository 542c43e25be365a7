"""Approving a held SFTP run archives its drop, as the run would have done had it not been held (issue
15), against a real OpenSSH sshd on 127.0.0.1 (see sftp_fixtures.py)."""

from __future__ import annotations

import json
import sqlite3
import time

from sftp_helpers import as_json, enable, put_bundle, sync, warnings_of, zip_bundle

pytest_plugins = ["sftp_fixtures"]  # sshd, sftp_school, drops


def half_the_users(rows):  # type: ignore[no-untyped-def]
    """Every other student left out: far over the 10% a run may delete without being held."""
    return [r for n, r in enumerate(rows) if r["role"] != "student" or n % 2]


def _state(db, run_id):  # type: ignore[no-untyped-def]
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT state FROM sync_runs WHERE id=?", [run_id]).fetchone()[0]


def test_approving_a_held_zip_drop_archives_it_and_its_marker(cli, sshd, sftp_school, drops, db_path):
    zip_bundle(drops / "roster-1.zip", sshd, mtime=time.time() - 120)
    (drops / "roster-1.zip.done").write_text("")
    sshd.chown(drops / "roster-1.zip.done")
    enable(cli, sshd, drops, auth="key", file_pattern="*.zip", marker_file="{drop}.done", archive=True)
    assert sync(cli)["status"] == "ok"
    assert sorted(p.name for p in (drops / "archive").iterdir()) == ["roster-1.zip", "roster-1.zip.done"]

    zip_bundle(drops / "roster-2.zip", sshd, half_the_users)
    (drops / "roster-2.zip.done").write_text("")
    sshd.chown(drops / "roster-2.zip.done")
    held = sync(cli)
    assert held["status"] == "held", held
    assert (drops / "roster-2.zip").is_file() and (drops / "roster-2.zip.done").is_file()  # not imported yet
    # what the approval needs is kept with the run: names, sizes and times, no secret
    saved = json.loads(_state(db_path, held["run"]))["drop"]
    assert (saved["name"], saved["kind"], saved["marker"][0]) == ("roster-2.zip", "zip", "roster-2.zip.done")
    assert sshd.key_passphrase not in _state(db_path, held["run"]) and "env:" not in _state(db_path, held["run"])

    approved = cli("approve", str(held["run"]), "--json")
    assert approved.exit_code == 0, approved.output
    assert as_json(approved)["status"] == "ok"
    assert not (drops / "roster-2.zip").exists() and not (drops / "roster-2.zip.done").exists()
    assert sorted(p.name for p in (drops / "archive").iterdir()) == [
        "roster-1.zip", "roster-1.zip.done", "roster-2.zip", "roster-2.zip.done"]
    assert not [w for w in warnings_of(cli, held) if w.startswith("after the sync")]
    assert sync(cli)["status"] == "skipped"  # nothing new on the server


def held_folder_drop(cli, sshd, drops):  # type: ignore[no-untyped-def]
    """A folder drop synced (and archived), then a short one held: the held run, its files in place."""
    put_bundle(drops, sshd)
    enable(cli, sshd, drops, archive=True)
    assert sync(cli)["status"] == "ok"
    put_bundle(drops, sshd, half_the_users)
    held = sync(cli)
    assert held["status"] == "held", held
    assert (drops / "users.csv").is_file()
    return held


def test_approving_a_held_folder_drop_archives_its_files(cli, sshd, sftp_school, drops, db_path):
    held = held_folder_drop(cli, sshd, drops)
    assert cli("approve", str(held["run"])).exit_code == 0
    assert not list(drops.glob("*.csv"))
    batches = sorted((drops / "archive").iterdir())
    assert len(batches) == 2 and (batches[-1] / "users.csv").is_file()


def test_a_failed_archive_after_approval_is_a_warning_of_the_approved_run(cli, sshd, sftp_school, drops, db_path):
    held = held_folder_drop(cli, sshd, drops)
    enable(cli, sshd, drops, archive=True, port=1)  # the server moved: the archive step cannot connect
    approved = cli("approve", str(held["run"]), "--json")
    assert approved.exit_code == 0, approved.output
    assert as_json(approved)["status"] == "ok"
    (warning,) = [w for w in warnings_of(cli, held) if w.startswith("after the sync:")]
    assert "127.0.0.1:1" in warning
    assert (drops / "users.csv").is_file()  # left where it was; the roster change stands
