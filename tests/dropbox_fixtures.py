"""Fixtures for the drop box tests: an OpenSSH sshd of the tests' own, configured like a stock server.

The server's main config is what Debian ships in spirit (``Include .../sshd_config.d/*.conf`` first,
X11 forwarding on, TCP forwarding allowed by default, no password logins globally), so every
restriction a drop box account gets must come from the block ``rostersync dropbox create`` writes
into the server's *own* ``sshd_config.d``. The system's /etc/ssh is never read or written: every
``[dropbox]`` path of the test's rostersync.toml points into the fixture's folder.

Drop box accounts are real system users (root only: useradd, chpasswd, chroot). Their names start
with ``rstest<pid>-`` so they are recognisable; each test's accounts are deleted when it ends, pass
or fail, and accounts and folders left by a crashed run (its pid gone) are deleted by the next.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from sftp_fixtures import SSHD, _keygen, _sshd_version, free_port, running_sshd

IS_ROOT = os.geteuid() == 0
BASE_DIR = Path("/run")  # root's and not world-writable all the way up, as sshd demands of a chroot's path
BASE_PREFIX = "rostersync-dropbox-test-"
ACCOUNT_PREFIX = "rstest"
GECOS = "rostersync dropbox for "


@attrs.define
class DropBoxServer:
    host: str
    port: int
    prefix: str  # every test account's name starts with it
    etc: Path  # the server's own config folder
    root: Path  # [dropbox] root: the schools' chroot folders
    known_hosts: Path
    host_fingerprint: str
    log: Path

    @property
    def config_settings(self) -> dict[str, str]:
        """The [dropbox] table pointing rostersync at this server (never the system's sshd)."""
        return {"root": str(self.root), "prefix": self.prefix, "host": self.host, "sshd": SSHD,
                "sshd_config": str(self.etc / "sshd_config"), "sshd_config_dir": str(self.etc / "sshd_config.d"),
                "pid_file": str(self.etc / "sshd.pid")}

    def accounts(self) -> list[pwd.struct_passwd]:
        return [e for e in pwd.getpwall() if e.pw_name.startswith(self.prefix) and e.pw_gecos.startswith(GECOS)]


def delete_test_accounts(prefix: str) -> None:
    """Delete every account rostersync's tests made under ``prefix`` (only drop box accounts: GECOS checked)."""
    from rostersync.dropbox.system import end_sessions

    for entry in pwd.getpwall():
        if entry.pw_name.startswith(prefix) and entry.pw_gecos.startswith(GECOS) and entry.pw_uid >= 100:
            end_sessions(entry.pw_uid)  # sftp sessions a test left open (the account's own processes only)
            subprocess.run(["userdel", entry.pw_name], capture_output=True)


def _remove_stale() -> None:
    """Accounts and folders of an earlier test run that crashed (its pid is gone)."""
    for entry in pwd.getpwall():
        match = re.match(rf"{ACCOUNT_PREFIX}(\d+)-", entry.pw_name)
        if match and entry.pw_gecos.startswith(GECOS) and not Path(f"/proc/{match.group(1)}").exists():
            delete_test_accounts(entry.pw_name)
    for folder in BASE_DIR.glob(f"{BASE_PREFIX}*"):
        match = re.match(rf"{BASE_PREFIX}(\d+)-", folder.name)
        if match and not Path(f"/proc/{match.group(1)}").exists():
            shutil.rmtree(folder, ignore_errors=True)


def _server_config(etc: Path, port: int, prefix: str) -> str:
    options = [
        f"Include {etc / 'sshd_config.d'}/*.conf",  # first, as Debian and Ubuntu ship it
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {etc / 'host_ed25519'}", f"PidFile {etc / 'sshd.pid'}",
        "UsePAM no", "PermitRootLogin no", f"AllowUsers {prefix}*",  # only this run's test accounts may log in
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PubkeyAuthentication yes",
        "X11Forwarding yes", "AllowTcpForwarding yes", "PermitTunnel yes",  # a block must turn these off
        "Subsystem sftp internal-sftp", "MaxStartups 100", "LogLevel VERBOSE",
    ]
    if _sshd_version() >= (9, 8):
        options.append("PerSourcePenalties no")  # wrong-password tests must not lock the next test out
    return "\n".join(options) + "\n"


@pytest.fixture(scope="session")
def dropbox_server() -> Iterator[DropBoxServer]:
    """One sshd for the drop box tests (skips unless root and OpenSSH is installed)."""
    if not IS_ROOT:
        pytest.skip("drop boxes are system accounts with a chroot: the tests need root (run the suite as root, as CI "
                    "does)")
    if not Path(SSHD).exists() or not shutil.which("ssh-keygen") or not shutil.which("useradd"):
        pytest.skip("OpenSSH sshd and shadow-utils are needed (scripts/test installs openssh-server and passwd)")
    _remove_stale()
    base = Path(tempfile.mkdtemp(prefix=f"{BASE_PREFIX}{os.getpid()}-", dir=BASE_DIR))
    base.chmod(0o755)
    etc, root = base / "etc", base / "dropbox"
    (etc / "sshd_config.d").mkdir(mode=0o755, parents=True)
    prefix = f"{ACCOUNT_PREFIX}{os.getpid()}-"
    _keygen(etc / "host_ed25519")
    port = free_port()
    (etc / "sshd_config").write_text(_server_config(etc, port, prefix))
    try:
        with running_sshd(etc, port) as running:
            yield DropBoxServer("127.0.0.1", port, prefix, etc, root, running.known_hosts, running.fingerprint,
                                running.log)
    finally:
        delete_test_accounts(prefix)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def dropbox_project(cli, dropbox_server: DropBoxServer) -> Iterator[DropBoxServer]:
    """A project with schools 'lincoln' and 'roosevelt' and [dropbox] pointing at the test server; every drop box
    the test made is deleted afterwards (accounts, their sshd files, their folders), whatever happened."""
    assert cli("init").exit_code == 0
    for school, name, org in (("lincoln", "Lincoln Elementary", "sch-lincoln"),
                              ("roosevelt", "Roosevelt Middle", "sch-roosevelt")):
        assert cli("schools", "add", school, "--name", name, "--org-id", org).exit_code == 0
    args = [part for key, value in dropbox_server.config_settings.items() for part in ("--set", f"{key}={value}")]
    result = cli("dropbox", "configure", *args)
    assert result.exit_code == 0, result.output
    try:
        yield dropbox_server
    finally:
        delete_test_accounts(dropbox_server.prefix)
        for block in (dropbox_server.etc / "sshd_config.d").glob("*.conf"):
            block.unlink()
        shutil.rmtree(dropbox_server.root, ignore_errors=True)
