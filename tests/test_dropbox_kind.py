"""The ``dropbox`` kind on a plain local folder: the SFTP drop rules, received instead of pulled.

No sshd or root needed: these tests write into the folder as an uploader would. The drop box
accounts themselves (and uploads over a real OpenSSH) are in test_dropbox_accounts.py.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import attrs
import pytest
from conftest import roster_snapshot
from dropbox_helpers import folder_drop, oneroster_zip
from rostersync import hookimpl
from rostersync.errors import SourceError
from rostersync.plugins import get_connectors, pm
from rostersync.profiles import SftpProfile, sftp_connectors
from rostersync.transports.dropbox import DropBoxSettings
from rostersync.transports.local_files import LocalFiles
from rostersync.transports.sftp_settings import SftpSettings
from sftp_helpers import LINCOLN_USERS, as_json, family_name, growing, rename_first_student, sync


@pytest.fixture
def inbox(cli, tmp_path: Path) -> Path:
    """School 'lincoln' with an empty drop folder (what a drop box's upload folder is to the sync)."""
    assert cli("init").exit_code == 0
    assert cli("schools", "add", "lincoln", "--name", "Lincoln Elementary", "--org-id", "sch-lincoln").exit_code == 0
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def receive(cli, folder: Path, **extra: object) -> None:  # type: ignore[no-untyped-def]
    settings = {"path": folder, "settle_seconds": 0, **extra}
    args = [part for key, value in settings.items() for part in ("--set", f"{key}={value}")]
    result = cli("enable", "lincoln", "sftp-dropbox", *args)
    assert result.exit_code == 0, result.output


def test_a_folder_drop_is_imported_once_and_the_same_bytes_again_are_skipped(cli, inbox, db_path):
    folder_drop(inbox)
    receive(cli, inbox)
    run = sync(cli)
    assert run["status"] == "ok", run
    assert run["counts"]["users"]["inserted"] == LINCOLN_USERS

    skipped = sync(cli)
    assert skipped["status"] == "skipped" and "no new files since 'inbox'" in skipped["error"]

    later = time.time() + 60  # the district uploads the very same export again: new times, same bytes
    for path in inbox.iterdir():
        os.utime(path, (later, later))
    again = sync(cli)
    assert again["status"] == "skipped", again
    assert "holds the same bytes as 'inbox'" in again["error"]

    folder_drop(inbox, rename_first_student("Changed"))
    changed = sync(cli)
    assert changed["status"] == "ok" and changed["counts"]["users"]["updated"] == 1
    assert family_name(db_path) == "Changed"


def test_the_newest_zip_is_imported_and_archived_only_after_the_run_commits(cli, inbox, db_path):
    def bad_role(rows):  # type: ignore[no-untyped-def]
        rows[4]["role"] = "wizard"
        return rows

    oneroster_zip(inbox / "roster-1.zip", rename_first_student("Older"), mtime=time.time() - 7200)
    oneroster_zip(inbox / "roster-2.zip", bad_role, mtime=time.time() - 60)
    receive(cli, inbox, file_pattern="*.zip", archive="true")
    failed = sync(cli)
    assert failed["status"] == "failed", failed
    assert sorted(p.name for p in inbox.iterdir()) == ["roster-1.zip", "roster-2.zip"]

    (inbox / "roster-2.zip").unlink()
    oneroster_zip(inbox / "roster-3.zip", rename_first_student("Newest"))
    run = sync(cli)
    assert run["status"] == "ok", run
    assert family_name(db_path) == "Newest"
    assert sorted(p.name for p in inbox.iterdir()) == ["archive", "roster-1.zip"]
    assert [p.name for p in (inbox / "archive").iterdir()] == ["roster-3.zip"]
    left = sync(cli)
    assert left["status"] == "skipped" and "older than 'roster-3.zip'" in left["error"]


def test_an_upload_in_progress_is_left_for_a_later_run(cli, inbox, tmp_path, db_path):
    (tmp_path / "whole").mkdir()
    payload = oneroster_zip(tmp_path / "whole" / "roster.zip").read_bytes()
    with growing(inbox / "roster.zip", payload):
        receive(cli, inbox, file_pattern="*.zip", settle_seconds=0.5)
        run = sync(cli)
    assert run["status"] == "skipped", run
    assert "no complete drop yet; roster.zip still being written" in run["error"]
    assert roster_snapshot(db_path) == {t: [] for t in roster_snapshot(db_path)}

    done = sync(cli)
    assert done["status"] == "ok", done
    assert done["counts"]["users"]["inserted"] == LINCOLN_USERS


def test_the_newest_dated_sub_folder_is_the_drop(cli, inbox, db_path):
    folder_drop(inbox / "2026-05-01", rename_first_student("May1"))
    folder_drop(inbox / "2026-05-02", rename_first_student("May2"))
    (inbox / "2026-05-03").mkdir()  # made by the district's script, nothing in it yet
    for path in (inbox / "2026-05-01").iterdir():
        os.utime(path, (time.time() - 86400,) * 2)
    receive(cli, inbox)
    run = sync(cli)
    assert run["status"] == "ok", run
    assert family_name(db_path) == "May2"
    assert sync(cli)["status"] == "skipped"


def test_approving_a_held_upload_archives_it(cli, inbox, db_path):
    """The archive step waits for the commit: a run held by a safeguard archives its drop when approved."""
    def half_the_students(rows):  # type: ignore[no-untyped-def]
        return [r for n, r in enumerate(rows) if r["role"] != "student" or n % 2]

    oneroster_zip(inbox / "roster-1.zip", mtime=time.time() - 120)
    receive(cli, inbox, file_pattern="*.zip", archive="true")
    assert sync(cli)["status"] == "ok"
    oneroster_zip(inbox / "roster-2.zip", half_the_students)
    held = sync(cli)
    assert held["status"] == "held", held
    assert (inbox / "roster-2.zip").is_file()
    approved = cli("approve", str(held["run"]), "--json")
    assert approved.exit_code == 0 and as_json(approved)["status"] == "ok", approved.output
    assert sorted(p.name for p in inbox.iterdir()) == ["archive"]
    assert sorted(p.name for p in (inbox / "archive").iterdir()) == ["roster-1.zip", "roster-2.zip"]


def test_check_reports_each_step_without_touching_the_roster(cli, inbox, db_path):
    oneroster_zip(inbox / "roster.zip")
    receive(cli, inbox, file_pattern="*.zip")
    result = cli("check", "lincoln", "--json")
    assert result.exit_code == 0, result.output
    steps = {s["step"]: s for s in as_json(result)}
    assert list(steps) == ["folder", "drop", "copy", "required files"]
    assert "roster.zip" in steps["drop"]["detail"] and "a sync would import it" in steps["drop"]["detail"]
    assert "users.csv (bulk)" in steps["required files"]["detail"]
    assert as_json(cli("history", "--json")) == []

    receive(cli, inbox / "gone")
    steps = as_json(cli("check", "lincoln", "--json"))
    assert [(s["step"], s["ok"]) for s in steps] == [("folder", False)]
    assert "cannot list the folder: not found" in steps[0]["detail"]


# -- what an uploader leaves cannot make the sync read or move anything outside the folder ------------------
def test_a_symbolic_link_in_the_drop_is_never_followed(cli, inbox, tmp_path, db_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("sourcedId,secret\nx,TOP-SECRET-VALUE\n")
    folder_drop(inbox)
    (inbox / "users.csv").unlink()
    (inbox / "users.csv").symlink_to(secret)
    receive(cli, inbox)
    result = cli("sync", "lincoln")
    assert result.exit_code == 1
    assert "users.csv" in result.output and "TOP-SECRET-VALUE" not in result.output
    assert roster_snapshot(db_path) == {t: [] for t in roster_snapshot(db_path)}


def test_a_linked_sub_folder_is_not_a_drop(cli, inbox, tmp_path):
    elsewhere = folder_drop(tmp_path / "elsewhere")
    (inbox / "2026-05-01").symlink_to(elsewhere, target_is_directory=True)
    receive(cli, inbox)
    result = cli("sync", "lincoln")
    assert result.exit_code == 1 and "no files matching '*.csv'" in result.output


def test_local_files_refuse_a_path_through_a_link_swapped_in_after_listing(tmp_path):
    """The race the drop rules cannot see: a folder replaced by a link between the listing and the copy or
    the archive step. Every call resolves the path without following links, so it fails instead."""
    root, outside = tmp_path / "inbox", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "users.csv").write_text("secret")
    (root / "2026-05-01").symlink_to(outside, target_is_directory=True)
    (root / "archive").symlink_to(outside, target_is_directory=True)
    (root / "users.csv").write_text("upload")
    files = LocalFiles(root)
    for call in (lambda: files.open(f"{root}/2026-05-01/users.csv"),
                 lambda: files.stat(f"{root}/2026-05-01/users.csv"),
                 lambda: files.listdir_attr(f"{root}/2026-05-01"),
                 lambda: files.rename(f"{root}/users.csv", f"{root}/archive/users.csv"),
                 lambda: files.mkdir(f"{root}/archive/2026")):
        with pytest.raises(SourceError, match="a symbolic link, or not a folder, on the way"):
            call()
    (root / "folder").mkdir()
    with pytest.raises(SourceError, match="not a regular file"):
        files.open(f"{root}/folder")
    with pytest.raises(SourceError, match="outside the drop folder"):
        files.open(f"{outside}/users.csv")
    assert (outside / "users.csv").read_text() == "secret" and sorted(p.name for p in outside.iterdir()) == [
        "users.csv"]
    assert (root / "users.csv").read_text() == "upload"
    listed = {a.filename: a for a in files.listdir_attr(str(root))}
    assert set(listed) == {"2026-05-01", "archive", "folder", "users.csv"}
    assert attrs.asdict(listed["users.csv"])["st_size"] == len("upload")


def test_a_named_pipe_cannot_make_the_sync_wait(tmp_path):
    root = tmp_path / "inbox"
    root.mkdir()
    os.mkfifo(root / "users.csv")
    with pytest.raises(SourceError, match="not a regular file"):
        LocalFiles(root).open(f"{root}/users.csv")


# -- one SIS profile, both directions -----------------------------------------------------------------------
ACME = SftpProfile(name="acme-sis", title="Acme SIS", summary="Acme's nightly OneRoster 1.1 zip.", basis="none public",
                   format="oneroster-1.1", file_pattern="*.zip", marker_file="{drop}.done", remote_path="/exports",
                   defaults={"settle_seconds": 2.0, "port": 2222})


class AcmePlugin:
    @hookimpl
    def rostersync_register_connectors(register):  # type: ignore[no-untyped-def]
        for connector in sftp_connectors(ACME):
            register(connector)


@pytest.fixture
def acme():  # type: ignore[no-untyped-def]
    get_connectors()
    pm.register(AcmePlugin, name="acme-plugin")
    yield
    pm.unregister(name="acme-plugin")


def test_one_sftp_profile_gives_an_sis_a_pull_and_a_receive_connector(acme, cli, inbox, db_path):
    connectors = get_connectors()  # both pass the kind checks: subclasses keeping every validator
    pull, received = connectors["acme-sis"], connectors["acme-sis-dropbox"]
    assert (pull.kind, received.kind) == ("sftp", "dropbox")
    assert issubclass(pull.settings, SftpSettings) and issubclass(received.settings, DropBoxSettings)
    for cls in (pull.settings, received.settings):
        defaults = {f.name: f.default for f in attrs.fields(cls)}
        assert (defaults["format"], defaults["file_pattern"], defaults["marker_file"], defaults["settle_seconds"]) \
            == ("oneroster-1.1", "*.zip", "{drop}.done", 2.0)
    pulled = {f.name: f.default for f in attrs.fields(pull.settings)}
    assert (pulled["remote_path"], pulled["port"]) == ("/exports", 2222)  # connection settings: pull only
    assert "remote_path" not in attrs.fields_dict(received.settings)
    assert "rostersync dropbox create SCHOOL --connector acme-sis-dropbox" in received.docs
    assert received.basis == pull.basis == "none public"

    result = cli("enable", "lincoln", "acme-sis-dropbox", "--set", f"path={inbox}", "--set", "format=xml")
    assert result.exit_code == 2 and "format: 'xml' is not one of" in result.output
    assert cli("enable", "lincoln", "acme-sis-dropbox", "--set", f"path={inbox}", "--set",
               "settle_seconds=0").exit_code == 0
    oneroster_zip(inbox / "roster.zip")
    waiting = sync(cli)
    assert waiting["status"] == "skipped" and "no complete drop yet" in waiting["error"]
    (inbox / "roster.zip.done").write_text("")
    run = sync(cli)
    assert run["status"] == "ok" and run["counts"]["users"]["inserted"] == LINCOLN_USERS
