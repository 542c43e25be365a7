"""The SFTP transport against a real OpenSSH sshd on 127.0.0.1 (see sftp_fixtures.py)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import zipfile
from typing import TYPE_CHECKING

import pytest
from conftest import edit_csv, roster_snapshot
from rostersync.demo import sample_bundle

if TYPE_CHECKING:
    pass

from sftp_helpers import (
    LINCOLN_USERS,
    PASSPHRASE_ENV,
    PASSWORD_ENV,
    as_json,
    enable,
    family_name,
    growing,
    put_bundle,
    rename_first_student,
    sync,
    warnings_of,
    zip_bundle,
)

pytest_plugins = ["sftp_fixtures"]  # sshd, sftp_school, drops



# -- authentication and host keys ---------------------------------------------------------------------------
def test_password_auth_folder_drop(cli, sshd, sftp_school, drops, db_path):
    put_bundle(drops, sshd)
    enable(cli, sshd, drops)
    run = sync(cli)
    assert run["status"] == "ok", run
    assert run["counts"]["users"]["inserted"] == LINCOLN_USERS
    assert run["counts"]["enrollments"]["inserted"] == 1032
    state = sqlite3.connect(db_path).execute("SELECT state FROM sync_runs WHERE id=?", [run["run"]]).fetchone()[0]
    drop = json.loads(state)["drop"]
    assert (drop["name"], drop["kind"], drop["path"]) == (drops.name, "folder", str(drops))
    assert ["users.csv", (drops / "users.csv").stat().st_size, int((drops / "users.csv").stat().st_mtime)] \
        in drop["files"]


def test_key_auth_zip_drop_imports_the_newest_zip(cli, sshd, sftp_school, drops, db_path):
    zip_bundle(drops / "roster-2026-05-01.zip", sshd, rename_first_student("Older"), mtime=time.time() - 7200)
    zip_bundle(drops / "roster-2026-05-02.zip", sshd, rename_first_student("Newest"), mtime=time.time() - 3600)
    (drops / "notes.txt").write_text("not a drop")
    enable(cli, sshd, drops, auth="key", file_pattern="*.zip")
    run = sync(cli)
    assert run["status"] == "ok", run
    assert run["counts"]["users"]["inserted"] == LINCOLN_USERS
    assert family_name(db_path) == "Newest"


def test_wrong_password_is_refused_naming_the_account_and_server(cli, sshd, sftp_school, drops, db_path, monkeypatch):
    put_bundle(drops, sshd)
    enable(cli, sshd, drops)
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    result = cli("sync", "lincoln")
    assert result.exit_code == 1
    assert f"sftp://127.0.0.1:{sshd.port}" in result.output
    assert f"authentication failed for user {sshd.user!r}" in result.output
    assert "not-the-password" not in result.output
    assert roster_snapshot(db_path) == {t: [] for t in roster_snapshot(db_path)}


def test_encrypted_key_needs_its_passphrase(cli, sshd, sftp_school, drops, monkeypatch):
    put_bundle(drops, sshd)
    enable(cli, sshd, drops, auth="none", private_key=f"file:{sshd.key}")
    result = cli("sync", "lincoln")
    assert result.exit_code == 1
    assert f"private_key file:{sshd.key} is encrypted: set key_passphrase" in " ".join(result.output.split())

    monkeypatch.setenv(PASSPHRASE_ENV, "not-the-passphrase")
    enable(cli, sshd, drops, auth="key")
    result = cli("sync", "lincoln")
    assert result.exit_code == 1
    assert "wrong key_passphrase" in result.output and "not-the-passphrase" not in result.output


def test_unknown_host_key_is_refused_then_the_printed_pin_command_works(cli, sshd, sftp_school, drops, tmp_path):
    put_bundle(drops, sshd)
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    enable(cli, sshd, drops, known_hosts=empty)
    result = cli("sync", "lincoln")
    assert result.exit_code == 1
    output = " ".join(result.output.split())  # undo the console's line wrapping
    assert "host key not known" in output
    assert f"ssh-ed25519 {sshd.host_fingerprint}" in output  # as ssh-keygen -lf prints it
    pin = f"rostersync enable lincoln sftp-csv --set host_key={sshd.host_fingerprint}"
    assert pin in output
    assert not empty.read_text(), "the unknown key must not be added to known_hosts"

    assert cli(*pin.split()[1:]).exit_code == 0  # exactly what the message says to run
    run = sync(cli)
    assert run["status"] == "ok", run


def test_changed_host_key_is_refused(cli, sshd, sftp_school, drops, tmp_path):
    put_bundle(drops, sshd)
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{sshd.port} {' '.join(other.with_suffix('.pub').read_text().split()[:2])}\n")
    enable(cli, sshd, drops, known_hosts=known)
    result = cli("sync", "lincoln")
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "host key CHANGED" in output and sshd.host_fingerprint in output


def test_pinned_fingerprint_is_accepted_and_a_wrong_pin_refused(cli, sshd, sftp_school, drops, tmp_path):
    put_bundle(drops, sshd)
    missing = tmp_path / "no_known_hosts"
    enable(cli, sshd, drops, known_hosts=missing, host_key=sshd.host_fingerprint)
    assert sync(cli)["status"] == "ok"

    wrong = "SHA256:" + "A" * 43
    assert cli("enable", "lincoln", "sftp-csv", "--set", f"host_key={wrong}").exit_code == 0
    (drops / "orgs.csv").touch()  # a new drop, so the run gets as far as connecting
    result = cli("sync", "lincoln")
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "host key refused" in output and f"pins {wrong}" in output and sshd.host_fingerprint in output


# -- drops: complete, partial, unchanged -----------------------------------------------------------------
def test_unchanged_drop_is_skipped_and_full_imports_it_again(cli, sshd, sftp_school, drops, db_path):
    put_bundle(drops, sshd)
    enable(cli, sshd, drops, auth="key")
    assert sync(cli)["status"] == "ok"
    skipped = sync(cli)
    assert skipped["status"] == "skipped"
    assert f"no new files since {drops.name!r} (modified " in skipped["error"]
    assert as_json(cli("history", "--json"))[0]["status"] == "skipped"
    assert "skipped: " in cli("sync", "lincoln").output

    again = sync(cli, "--full")
    assert again["status"] == "ok"
    assert again["counts"]["users"]["unchanged"] == LINCOLN_USERS

    edit_csv(drops / "users.csv", rename_first_student("Changed"))
    changed = sync(cli)
    assert changed["status"] == "ok" and changed["counts"]["users"]["updated"] == 1
    assert family_name(db_path) == "Changed"


def test_partial_zip_still_uploading_is_left_for_a_later_run(cli, sshd, sftp_school, drops, db_path, tmp_path):
    zip_bundle(drops / "roster-1.zip", sshd, rename_first_student("Complete"), mtime=time.time() - 3600)
    full = zip_bundle(tmp_path / "roster-2.zip", sshd, rename_first_student("Uploaded"))
    payload = full.read_bytes()
    target = drops / "roster-2.zip"
    target.write_bytes(payload[:64])
    sshd.chown(target)
    with growing(target, payload, 64):
        enable(cli, sshd, drops, auth="key", file_pattern="*.zip", settle_seconds=0.5)
        run = sync(cli)
    assert run["status"] == "ok", run
    assert family_name(db_path) == "Complete"
    assert any("roster-2.zip still being written" in w for w in warnings_of(cli, run))

    later = sync(cli)
    assert later["status"] == "ok", later
    assert family_name(db_path) == "Uploaded"


def test_marker_file_decides_which_dated_folder_is_complete(cli, sshd, sftp_school, drops, db_path):
    old, new = drops / "2026-05-01", drops / "2026-05-02"
    put_bundle(old, sshd, rename_first_student("May1"))
    (old / "done.txt").write_text("")
    put_bundle(new, sshd, rename_first_student("May2"))
    for path in old.iterdir():
        os.utime(path, (time.time() - 86400,) * 2)
    enable(cli, sshd, drops, auth="key", marker_file="done.txt")
    run = sync(cli)
    assert run["status"] == "ok", run
    assert family_name(db_path) == "May1"
    assert any("2026-05-02 still being written" in w for w in warnings_of(cli, run))

    (new / "done.txt").write_text("")
    assert sync(cli)["status"] == "ok"
    assert family_name(db_path) == "May2"


def test_no_complete_drop_is_a_skipped_run(cli, sshd, sftp_school, drops, db_path):
    put_bundle(drops, sshd)
    enable(cli, sshd, drops, auth="key", marker_file="done.txt")
    run = sync(cli)
    assert run["status"] == "skipped"
    assert "no complete drop yet" in run["error"]
    assert roster_snapshot(db_path) == {t: [] for t in roster_snapshot(db_path)}


def test_an_older_drop_never_replaces_a_newer_import(cli, sshd, sftp_school, drops, db_path):
    zip_bundle(drops / "b.zip", sshd, rename_first_student("Newer"), mtime=time.time() - 60)
    enable(cli, sshd, drops, auth="key", file_pattern="*.zip")
    assert sync(cli)["status"] == "ok"
    (drops / "b.zip").unlink()
    zip_bundle(drops / "a.zip", sshd, rename_first_student("Older"), mtime=time.time() - 7200)
    run = sync(cli)
    assert run["status"] == "skipped" and "not going back in time" in run["error"]
    assert family_name(db_path) == "Newer"


def test_archive_moves_the_drop_only_after_a_successful_sync(cli, sshd, sftp_school, drops, db_path):
    def bad_role(rows):  # type: ignore[no-untyped-def]
        rows[4]["role"] = "wizard"
        return rows

    bad = zip_bundle(drops / "roster-1.zip", sshd, bad_role, mtime=time.time() - 60)
    enable(cli, sshd, drops, auth="key", file_pattern="*.zip", archive=True)
    failed = sync(cli)
    assert failed["status"] == "failed", failed
    assert (drops / "roster-1.zip").exists() and not (drops / "archive").exists()

    bad.unlink()
    zip_bundle(drops / "roster-2.zip", sshd)
    run = sync(cli)
    assert run["status"] == "ok", run
    assert not (drops / "roster-2.zip").exists()
    assert (drops / "archive" / "roster-2.zip").is_file()
    assert sync(cli)["status"] == "skipped"


def test_archive_of_a_folder_drop_moves_its_files(cli, sshd, sftp_school, drops):
    put_bundle(drops, sshd)
    enable(cli, sshd, drops, auth="key", archive=True)
    run = sync(cli)
    assert run["status"] == "ok", run
    assert not list(drops.glob("*.csv"))
    (archived,) = (drops / "archive").iterdir()
    assert sorted(p.name for p in archived.iterdir()) == sorted(p.name for p in sample_bundle().iterdir())
    assert sync(cli)["status"] == "skipped"


# -- errors: where and why ---------------------------------------------------------------------------------
def test_missing_folder_names_server_and_path(cli, sshd, sftp_school, drops):
    enable(cli, sshd, drops / "nope", auth="key")
    result = cli("sync", "lincoln")
    assert result.exit_code == 1
    assert f"sftp://127.0.0.1:{sshd.port}{drops}/nope" in result.output
    assert "not found on the server" in result.output


def test_permission_denied_names_the_folder(cli, sshd, sftp_school, drops):
    locked = drops / "locked"
    locked.mkdir(mode=0o700)  # owned by whoever runs the tests: not the sftp user when root
    if os.geteuid() != 0:
        locked.chmod(0)
    enable(cli, sshd, locked, auth="key")
    result = cli("sync", "lincoln")
    locked.chmod(0o700)
    assert result.exit_code == 1
    assert "permission denied" in result.output and str(locked) in result.output


def test_refused_connection_and_unknown_host(cli, sshd, sftp_school, drops):
    enable(cli, sshd, drops, auth="key", port=sshd.unused_port())
    result = cli("sync", "lincoln")
    assert result.exit_code == 1 and "connection refused" in result.output

    enable(cli, sshd, drops, auth="key", host="no-such-host.invalid")
    result = cli("sync", "lincoln")
    assert result.exit_code == 1
    assert "cannot resolve host name 'no-such-host.invalid'" in result.output


def test_no_files_matching_is_an_error(cli, sshd, sftp_school, drops):
    enable(cli, sshd, drops, auth="key", file_pattern="*.zip")
    result = cli("sync", "lincoln")
    assert result.exit_code == 1 and "no files matching '*.zip'" in result.output


# -- rostersync check ---------------------------------------------------------------------------------------
def test_check_connects_lists_the_drop_and_checks_required_files(cli, sshd, sftp_school, drops, db_path):
    zip_bundle(drops / "roster.zip", sshd)
    enable(cli, sshd, drops, auth="key", file_pattern="*.zip")
    result = cli("check", "lincoln", "--json")
    assert result.exit_code == 0, result.output
    steps = {s["step"]: s for s in as_json(result)}
    assert list(steps) == ["connect", "host key", "authenticate", "remote folder", "drop", "download",
                           "required files"]
    assert all(s["ok"] for s in steps.values())
    assert sshd.host_fingerprint in steps["host key"]["detail"]
    assert "roster.zip" in steps["drop"]["detail"] and "a sync would import it" in steps["drop"]["detail"]
    assert "users.csv (bulk)" in steps["required files"]["detail"]
    assert roster_snapshot(db_path) == {t: [] for t in roster_snapshot(db_path)}
    assert as_json(cli("history", "--json")) == []


def test_check_reports_the_failing_step(cli, sshd, sftp_school, drops, tmp_path):
    put_bundle(drops, sshd)
    (drops / "manifest.csv").unlink()
    enable(cli, sshd, drops, auth="key")
    steps = as_json(cli("check", "lincoln", "--json"))
    assert [s["ok"] for s in steps][-1] is False
    assert steps[-1]["step"] == "required files" and "manifest.csv is missing" in steps[-1]["detail"]

    empty = tmp_path / "known_hosts"
    empty.write_text("")
    enable(cli, sshd, drops, auth="key", known_hosts=empty)
    result = cli("check", "lincoln", "--json")
    assert result.exit_code == 1
    steps = as_json(result)
    assert [(s["step"], s["ok"]) for s in steps] == [("connect", True), ("host key", False)]
    assert f"--set host_key={sshd.host_fingerprint}" in steps[-1]["detail"]


def test_listing_connectors_does_not_import_paramiko(run_cli):
    code = ("import sys; from rostersync.plugins import get_connectors; c = get_connectors(); "
            "assert 'sftp-csv' in c; print('paramiko' in sys.modules, 'tenacity' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_a_zip_with_an_escaping_entry_fails_the_run(cli, sshd, sftp_school, drops, db_path):
    evil = zip_bundle(drops / "roster.zip", sshd)
    with zipfile.ZipFile(evil, "a") as zf:
        zf.writestr("../../outside.csv", "x\n")
    enable(cli, sshd, drops, auth="key", file_pattern="*.zip")
    result = cli("sync", "lincoln")
    assert result.exit_code == 1
    assert f"{drops}/roster.zip: zip entry '../../outside.csv' has an absolute or '..' path" in result.output
    assert "sftp://" in result.output  # named by the drop's remote location, not the private local copy
    assert roster_snapshot(db_path) == {t: [] for t in roster_snapshot(db_path)}


def test_a_failed_archive_step_is_a_warning_on_the_committed_run(cli, sshd, sftp_school, drops, db_path):
    if os.geteuid() != 0:
        pytest.skip("needs a folder the SFTP account can read but not write: the test user differs from root")
    readonly = drops / "readonly"
    readonly.mkdir(mode=0o755)  # owned by root: the SFTP account cannot create archive/ in it
    zip_bundle(readonly / "roster.zip", sshd)
    enable(cli, sshd, readonly, auth="key", file_pattern="*.zip", archive=True)
    run = sync(cli)
    assert run["status"] == "ok", run
    assert run["warnings"] == 1
    (warning,) = warnings_of(cli, run)
    assert "after the sync:" in warning and "archiving roster.zip: permission denied" in warning
    assert run["counts"]["users"]["inserted"] == LINCOLN_USERS  # the roster was applied all the same
    assert (readonly / "roster.zip").exists()
    assert sync(cli)["status"] == "skipped"  # still remembered as imported
