"""Drop boxes on a real OpenSSH sshd (see dropbox_fixtures.py): created, used by a district, rotated, removed.

Everything goes through the CLI as an operator would type it; the district is a paramiko client that
knows only what ``dropbox create`` printed. Needs root (system accounts, chroot); skipped otherwise.
"""

from __future__ import annotations

import errno
import json
import os
import pwd
import re
import stat
import subprocess
import threading
import time

import paramiko
import pytest
import tomlkit
from conftest import roster_snapshot
from dropbox_helpers import district, folder_drop, oneroster_zip
from sftp_helpers import LINCOLN_USERS, as_json, family_name, rename_first_student, sync

pytest_plugins = ["sftp_fixtures", "dropbox_fixtures"]  # dropbox_server, dropbox_project (built on the former)


def create(cli, school: str = "lincoln", *args: str) -> dict:  # type: ignore[no-untyped-def]
    """``dropbox create SCHOOL --json`` for zip uploads, returning what it printed for the district."""
    result = cli("dropbox", "create", school, "--json", "--set", "file_pattern=*.zip", "--set", "settle_seconds=0.5",
                 *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def export(tmp_path, edit_users=None):  # type: ignore[no-untyped-def]
    """The district's export, ready to upload: a OneRoster zip outside any drop box."""
    (tmp_path / "export").mkdir(exist_ok=True)
    return oneroster_zip(tmp_path / "export" / "OneRoster.zip", edit_users)


def refused_login(server, username: str, password: str | None = None, key=None) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(paramiko.AuthenticationException), district(server, username, password, key):
        pass


def details_from_text(output: str) -> dict[str, str]:
    """The ``label: value`` lines of ``dropbox create``'s text output (what an operator copies into an email)."""
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"^  ([a-z ]+):\s+(.*)$", output, re.MULTILINE)}


def test_a_district_uploads_with_the_printed_details_and_run_due_imports_it(cli, dropbox_project, tmp_path,
                                                                           db_path):
    server = dropbox_project
    result = cli("dropbox", "create", "lincoln", "--set", "file_pattern=*.zip", "--set", "settle_seconds=0.5")
    assert result.exit_code == 0, result.output
    told = details_from_text(result.output)
    assert told["host"] == "127.0.0.1" and told["port"] == str(server.port)
    assert told["username"] == f"{server.prefix}lincoln"
    assert told["folder"].startswith("/upload ")
    assert told["host key"] == f"ssh-ed25519 {server.host_fingerprint}"
    assert "one zip file (*.zip)" in result.output and "manifest.csv" in result.output
    assert "shown only now" in result.output
    config = tomlkit.parse((tmp_path / "project" / "rostersync.toml").read_text())
    enabled = config["schools"]["lincoln"]["connectors"]["sftp-dropbox"]["settings"]
    assert enabled["path"] == str(server.root / told["username"] / "upload")
    assert told["password"] not in json.dumps(config)  # never stored

    roster = export(tmp_path)
    with district(server, told["username"], told["password"]) as (_client, sftp):
        assert sftp.normalize(".") == "/upload"  # they land in the upload folder
        sftp.put(str(roster), "OneRoster.zip")
    runs = as_json(cli("run", "--due", "--json"))
    assert [(r["school"], r["status"]) for r in runs] == [("lincoln", "ok")], runs
    assert runs[0]["counts"]["users"]["inserted"] == LINCOLN_USERS

    time.sleep(1.1)  # a later upload of the same export: new file times, the same bytes
    with district(server, told["username"], told["password"]) as (_client, sftp):
        sftp.put(str(roster), "OneRoster.zip")
    again = sync(cli)
    assert again["status"] == "skipped" and "holds the same bytes as 'OneRoster.zip'" in again["error"]

    oneroster_zip(roster, rename_first_student("Uploaded"))
    with district(server, told["username"], told["password"]) as (_client, sftp):
        sftp.put(str(roster), "OneRoster.zip")
    changed = sync(cli)
    assert changed["status"] == "ok" and changed["counts"]["users"]["updated"] == 1
    assert family_name(db_path) == "Uploaded"


def test_an_upload_still_in_progress_is_not_imported(cli, dropbox_project, tmp_path, db_path):
    server = dropbox_project
    told = create(cli)
    payload = export(tmp_path).read_bytes()
    finish, started = threading.Event(), threading.Event()

    def upload_slowly() -> None:  # an SIS on a slow link: the file grows until the client closes it
        with district(server, told["username"], told["password"]) as (_client, sftp), \
                sftp.open("OneRoster.zip", "wb") as remote:
            sent = 0
            while sent < len(payload):
                remote.write(payload[sent:sent + 512])
                remote.flush()
                sent += 512
                started.set()
                if not finish.is_set():
                    time.sleep(0.02)

    uploader = threading.Thread(target=upload_slowly)
    uploader.start()
    try:
        assert started.wait(10)
        runs = as_json(cli("run", "--due", "--json"))
    finally:
        finish.set()
        uploader.join()
    assert [r["status"] for r in runs] == ["skipped"], runs
    assert "no complete drop yet; OneRoster.zip still being written" in runs[0]["error"]
    assert roster_snapshot(db_path) == {t: [] for t in roster_snapshot(db_path)}

    done = sync(cli)
    assert done["status"] == "ok", done
    assert done["counts"]["users"]["inserted"] == LINCOLN_USERS


def test_a_stalled_upload_is_not_mistaken_for_a_finished_one(cli, dropbox_project, tmp_path, db_path):
    """Sizes and times that stay the same are not enough: a district's link can stall for longer than
    settle_seconds. The drop box sees the upload's process still holding the file open for writing."""
    server = dropbox_project
    told = create(cli, "lincoln", "--set", "file_pattern=*.csv", "--set", "settle_seconds=0.2")
    bundle = export(tmp_path).parent
    folder_drop(bundle)
    with district(server, told["username"], told["password"]) as (_client, sftp):
        for path in sorted(bundle.glob("*.csv")):
            if path.name != "users.csv":
                sftp.put(str(path), path.name)
        with sftp.open("users.csv", "wb") as users:
            data = (bundle / "users.csv").read_bytes()
            users.write(data[: len(data) // 2])
            users.flush()
            time.sleep(0.5)  # the link stalls: nothing changes for longer than settle_seconds
            stalled = sync(cli)
            users.write(data[len(data) // 2:])
    assert stalled["status"] == "skipped", stalled
    assert "no complete drop yet; upload still being written" in stalled["error"]
    assert roster_snapshot(db_path) == {t: [] for t in roster_snapshot(db_path)}
    done = sync(cli)
    assert done["status"] == "ok" and done["counts"]["users"]["inserted"] == LINCOLN_USERS


def test_a_school_cannot_reach_another_schools_folder_or_leave_its_chroot(cli, dropbox_project, tmp_path):
    server = dropbox_project
    lincoln, roosevelt = create(cli, "lincoln"), create(cli, "roosevelt")
    roosevelt_upload = server.root / roosevelt["username"] / "upload"
    with district(server, roosevelt["username"], roosevelt["password"]) as (_client, sftp):
        sftp.put(str(export(tmp_path)), "roosevelt-secret.zip")

    with district(server, lincoln["username"], lincoln["password"]) as (_client, sftp):
        assert sftp.listdir("/") == ["upload"]
        assert sftp.listdir("/upload") == []
        assert sftp.normalize("/upload/../../..") == "/"
        elsewhere = [str(roosevelt_upload), f"/../{roosevelt['username']}/upload", f"/{roosevelt['username']}",
                     str(server.root), "/etc/passwd", "/etc", str(server.etc / "sshd_config"),
                     "/upload/../../etc/shadow"]
        for path in elsewhere:
            for attempt in (sftp.stat, sftp.listdir, lambda p: sftp.open(p, "rb"), lambda p: sftp.open(p, "wb")):
                with pytest.raises(OSError) as caught:
                    attempt(path)
                assert caught.value.errno in (errno.ENOENT, errno.EACCES), (path, caught.value)
        for write in (lambda: sftp.open("/dropped.csv", "wb"), lambda: sftp.mkdir("/x"),
                      lambda: sftp.rename("/upload", "/gone"), lambda: sftp.remove("/upload"),
                      lambda: sftp.chmod("/", 0o777)):
            with pytest.raises(OSError):  # the chroot's own folder is root's: nothing to change there
                write()
        with pytest.raises(OSError):  # links are refused by the SFTP server itself
            sftp.symlink("/etc/passwd", "/upload/users.csv")
        assert sftp.listdir("/upload") == []

    st = roosevelt_upload.stat()  # and outside any chroot, only its own account (and the sync) may enter
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (pwd.getpwnam(roosevelt["username"]).pw_uid, 0o2770)
    assert (roosevelt_upload / "roosevelt-secret.zip").is_file()


def test_a_shell_a_command_or_port_forwarding_is_refused(cli, dropbox_project):
    from rostersync.connector import converter
    from rostersync.dropbox import sshd
    from rostersync.dropbox.host import DropBoxHost

    server = dropbox_project
    told = create(cli)
    host = converter().structure(server.config_settings, DropBoxHost)
    for anyone_else in (f"{server.prefix}someone", "root"):  # the server allows all this in general
        seen = sshd.effective(host, anyone_else)
        assert (seen["allowtcpforwarding"], seen["x11forwarding"], seen["forcecommand"]) == ("yes", "yes", "none")
    with district(server, told["username"], told["password"]) as (client, _sftp):
        transport = client.get_transport()
        with pytest.raises(paramiko.ChannelException):
            transport.open_channel("direct-tcpip", ("127.0.0.1", server.port), ("127.0.0.1", 0))
        with pytest.raises(paramiko.SSHException):
            transport.request_port_forward("127.0.0.1", 0)
        with pytest.raises(paramiko.SSHException):
            transport.open_session().get_pty()  # PermitTTY no
        _stdin, stdout, _stderr = client.exec_command("echo pwned; id", timeout=10)
        assert stdout.read() == b"This service allows sftp connections only.\n"  # internal-sftp runs, not the command
        assert stdout.channel.recv_exit_status() == 1
        shell = transport.open_session()
        shell.settimeout(10)
        shell.invoke_shell()
        assert b"sftp connections only" in shell.recv(200)
        assert shell.recv_exit_status() == 1


def test_rotate_makes_the_old_password_useless_and_ends_open_sessions(cli, dropbox_project):
    server = dropbox_project
    first = create(cli)
    with district(server, first["username"], first["password"]) as (_client, open_session):
        result = cli("dropbox", "rotate", "lincoln", "--json")
        assert result.exit_code == 0, result.output
        second = as_json(result)
        assert second["username"] == first["username"] and second["password"] != first["password"]
        with pytest.raises((OSError, EOFError, paramiko.SSHException)):  # the session that used the old one ended
            for _ in range(50):
                open_session.listdir("/upload")
                time.sleep(0.1)
    refused_login(server, first["username"], first["password"])
    with district(server, second["username"], second["password"]) as (_client, sftp):
        assert sftp.listdir("/upload") == []


def test_remove_locks_the_account_out_and_keeps_the_uploads_unless_purged(cli, dropbox_project, tmp_path):
    server = dropbox_project
    told = create(cli)
    account, upload = told["username"], server.root / told["username"] / "upload"
    with district(server, account, told["password"]) as (_client, sftp):
        sftp.put(str(export(tmp_path)), "OneRoster.zip")

    result = cli("dropbox", "remove", "lincoln")
    assert result.exit_code == 0, result.output
    assert f"locked account {account}" in result.output and "disabled connector sftp-dropbox" in result.output
    refused_login(server, account, told["password"])
    (listed,) = as_json(cli("dropbox", "list", "--json"))
    assert (listed["account"], listed["sshd"], listed["login"], listed["connectors"]) == (account, False, "locked",
                                                                                          [])
    assert (upload / "OneRoster.zip").is_file()
    assert "sftp-dropbox" not in as_json(cli("schools", "list", "--json"))[0]["connectors"]

    reopened = create(cli)  # the same school again: the same (kept) account, the uploads still there
    assert reopened["username"] == account
    with district(server, account, reopened["password"]) as (_client, sftp):
        assert sftp.listdir("/upload") == ["OneRoster.zip"]

    result = cli("dropbox", "remove", "lincoln", "--purge")
    assert result.exit_code == 0, result.output
    with pytest.raises(KeyError):
        pwd.getpwnam(account)
    assert not (server.root / account).exists()
    assert as_json(cli("dropbox", "list", "--json")) == []


def test_a_key_account_takes_only_its_key(cli, dropbox_project, tmp_path):
    server = dropbox_project
    keys = []
    for name in ("first", "second"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "district@example", "-f",
                        str(tmp_path / name)], check=True)
        keys.append(paramiko.Ed25519Key.from_private_key_file(str(tmp_path / name)))
    elsewhere = server.root.parent / "elsewhere"  # --root for this one: rotate must still find its key file
    told = create(cli, "lincoln", "--public-key", str(tmp_path / "first.pub"), "--root", str(elsewhere))
    assert told["auth"] == "key" and told["password"] is None
    assert (elsewhere / told["username"] / "upload").is_dir()
    with district(server, told["username"], key=keys[0]) as (_client, sftp):
        assert sftp.listdir("/") == ["upload"]
    refused_login(server, told["username"], password="anything")  # a password never works for it
    (listed,) = as_json(cli("dropbox", "list", "--json"))
    assert (listed["auth"], listed["login"]) == ("key", "active")  # no password is not a locked account

    refused = cli("dropbox", "rotate", "lincoln")
    assert refused.exit_code == 2 and "logs in with a key: pass --public-key FILE" in refused.output
    assert cli("dropbox", "rotate", "lincoln", "--public-key", str(tmp_path / "second.pub")).exit_code == 0
    refused_login(server, told["username"], key=keys[0])
    with district(server, told["username"], key=keys[1]) as (_client, sftp):
        assert sftp.listdir("/upload") == []


def test_a_private_key_given_as_public_key_is_refused(cli, dropbox_project, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "key")], check=True)
    result = cli("dropbox", "create", "lincoln", "--public-key", str(tmp_path / "key"))
    assert result.exit_code == 2 and "not one OpenSSH public key" in result.output
    assert "PRIVATE" not in result.output
    assert as_json(cli("dropbox", "list", "--json")) == []


def test_without_the_include_nothing_is_created(cli, dropbox_project, tmp_path):
    server = dropbox_project
    bare = tmp_path / "sshd_config"
    bare.write_text("".join(line for line in (server.etc / "sshd_config").read_text().splitlines(keepends=True)
                            if not line.startswith("Include")))
    assert cli("dropbox", "configure", "--set", f"sshd_config={bare}").exit_code == 0
    result = cli("dropbox", "create", "lincoln")
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert f"{bare} does not include {server.etc / 'sshd_config.d'}/*.conf" in output
    assert f"Include {server.etc / 'sshd_config.d'}/*.conf" in output
    assert server.accounts() == [] and not server.root.exists()


def test_an_earlier_match_block_that_would_win_is_found_and_nothing_is_left(cli, dropbox_project):
    server = dropbox_project
    earlier = server.etc / "sshd_config.d" / "00-site.conf"
    earlier.write_text(f"Match User {server.prefix}*\n    AllowTcpForwarding yes\n")
    result = cli("dropbox", "create", "lincoln")
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert f"sshd would not apply the drop box settings to {server.prefix}lincoln" in output
    assert "AllowTcpForwarding is 'yes', not 'no'" in output
    assert server.accounts() == []
    assert sorted(p.name for p in (server.etc / "sshd_config.d").iterdir()) == ["00-site.conf"]
    assert not (server.root / f"{server.prefix}lincoln").exists()


def test_an_account_of_another_school_or_not_ours_is_never_taken(cli, dropbox_project):
    server = dropbox_project
    create(cli, "lincoln")
    taken = cli("dropbox", "create", "roosevelt", "--user", f"{server.prefix}lincoln")
    assert taken.exit_code == 2
    assert f"account {server.prefix}lincoln is the drop box of school 'lincoln'" in " ".join(taken.output.split())
    foreign = cli("dropbox", "create", "roosevelt", "--user", "daemon")
    assert foreign.exit_code == 2 and "exists and is not a rostersync drop box" in foreign.output
    again = cli("dropbox", "create", "lincoln")
    assert again.exit_code == 2 and "already has a drop box" in again.output
    listed = as_json(cli("dropbox", "list", "--json"))
    assert [(row["school"], row["login"], row["connectors"]) for row in listed] == [
        ("lincoln", "active", ["sftp-dropbox"])]


def test_changing_drop_boxes_without_root_is_refused_saying_which_rights(cli, monkeypatch):
    """Run as an ordinary account (the check is on the effective uid; the suite itself runs as root, and this
    machine's interpreter may not be readable by another account, so the uid is what is replaced)."""
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    for command in (["create", "lincoln"], ["rotate", "lincoln"], ["remove", "lincoln", "--purge"]):
        result = cli("dropbox", *command)  # before any configuration is read: there is none here
        assert result.exit_code == 2, result.output
        said = " ".join(result.output.split())
        assert f"rostersync dropbox {command[0]} needs root (run it with sudo)" in said
        for right in ("/etc/passwd and /etc/shadow", "CAP_CHOWN", "/etc/ssh/sshd_config.d", "CAP_KILL", "uid 1000"):
            assert right in said
