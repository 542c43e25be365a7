"""Drop boxes on a real OpenSSH sshd (see dropbox_fixtures.py): created, used by a district, rotated, removed.

Everything goes through the CLI as an operator would type it; the district is a paramiko client that
knows only what ``dropbox create`` printed. Needs root (system accounts, chroot); skipped otherwise.
"""

from __future__ import annotations

import errno
import json
import pwd
import re
import stat
import threading
import time

import paramiko
import pytest
import tomlkit
from conftest import roster_snapshot
from dropbox_helpers import district, oneroster_zip
from sftp_helpers import LINCOLN_USERS, as_json, family_name, rename_first_student, sync

pytest_plugins = ["dropbox_fixtures"]  # dropbox_server, dropbox_project


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
