"""Fixtures for the SFTP tests: a real OpenSSH sshd on 127.0.0.1, a school, a folder per test.

The server runs with its own sshd_config, host key, authorized_keys and pid file in a temporary
folder (never the system's), ``Subsystem sftp internal-sftp`` and ``ForceCommand internal-sftp``.

Password authentication needs a real account with a password in /etc/shadow (``UsePAM no``), so
when the suite runs as root the fixture creates a throwaway system user (``useradd`` +
``chpasswd``, no shell, no login) and deletes it afterwards; accounts left by a crashed run are
removed the next time. Without root, sshd runs as the current user with key authentication only
and the password tests are skipped, saying why.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
import pytest

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
USER_PREFIX = "rssftp"
IS_ROOT = os.geteuid() == 0


@attrs.define
class SshServer:
    host: str
    port: int
    user: str
    password: str | None
    key: Path  # the user's private key (encrypted with key_passphrase)
    key_passphrase: str
    host_fingerprint: str  # as ssh-keygen -lf prints it
    known_hosts: Path  # a known_hosts file holding this server's key
    served: Path  # a folder the test user owns; drops go below it
    log: Path

    def require_password(self) -> str:
        if self.password is None:
            pytest.skip("password authentication needs root: the fixture must create a system user with a "
                        "password (run the suite as root, e.g. in CI)")
        return self.password

    def folder(self, name: str) -> Path:
        """A fresh folder on the server, owned by the test user (so archive moves work)."""
        path = self.served / name
        path.mkdir()
        self.chown(path)
        return path

    def chown(self, path: Path) -> None:
        """Give ``path`` (and what is below it) to the test user, as if it had uploaded it."""
        chown_to(path, self.user)

    @staticmethod
    def unused_port() -> int:
        return free_port()


def chown_to(path: Path, user: str) -> None:
    if IS_ROOT:
        entry = pwd.getpwnam(user)
        for p in [path, *path.rglob("*")]:
            os.chown(p, entry.pw_uid, entry.pw_gid)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path, passphrase: str = "") -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", "", "-f", str(path)], check=True)


def _remove_stale_users() -> None:
    """Delete test accounts whose test run (the pid in the name) is gone."""
    for entry in pwd.getpwall():
        match = re.fullmatch(rf"{USER_PREFIX}(\d+)", entry.pw_name)
        if match and not Path(f"/proc/{match.group(1)}").exists():
            subprocess.run(["userdel", entry.pw_name], capture_output=True)


def _make_user(home: Path) -> tuple[str, str]:
    _remove_stale_users()
    user = f"{USER_PREFIX}{os.getpid()}"
    password = "pw-" + secrets.token_urlsafe(12)
    subprocess.run(["userdel", user], capture_output=True)
    subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", str(home), "--shell",
                    "/usr/sbin/nologin", user], check=True, capture_output=True)
    subprocess.run(["chpasswd"], input=f"{user}:{password}\n", text=True, check=True, capture_output=True)
    return user, password


def _sshd_version() -> tuple[int, int]:
    out = subprocess.run([SSHD, "-V"], capture_output=True, text=True)
    match = re.search(r"OpenSSH_(\d+)\.(\d+)", out.stderr + out.stdout)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def _wait_for_port(proc: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited with {proc.returncode}:\n{log.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"sshd did not start listening on port {port}:\n{log.read_text()}")


@pytest.fixture(scope="session")
def sshd() -> Iterator[SshServer]:
    """One OpenSSH sshd for the whole session (skips when OpenSSH is not installed)."""
    if not Path(SSHD).exists() or not shutil.which("ssh-keygen"):
        pytest.skip("OpenSSH sshd is not installed (scripts/test installs openssh-server; or apt-get install it)")
    base = Path(tempfile.mkdtemp(prefix="rostersync-sshd-"))
    base.chmod(0o755)  # the test user must reach authorized_keys and its home below
    etc, served = base / "etc", base / "home"
    etc.mkdir(mode=0o755)
    served.mkdir(mode=0o755)
    user, password = _make_user(served) if IS_ROOT else (getpass.getuser(), None)
    chown_to(served, user)
    _keygen(etc / "host_ed25519")
    passphrase = "kp-" + secrets.token_urlsafe(12)
    _keygen(etc / "user_ed25519", passphrase)
    (etc / "authorized_keys").write_text((etc / "user_ed25519.pub").read_text())
    (etc / "authorized_keys").chmod(0o644)
    port = free_port()
    options = [
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {etc / 'host_ed25519'}",
        f"PidFile {etc / 'sshd.pid'}", "UsePAM no", "StrictModes no", f"AuthorizedKeysFile {etc / 'authorized_keys'}",
        "PasswordAuthentication yes", "PubkeyAuthentication yes", "KbdInteractiveAuthentication no",
        "PermitRootLogin no", f"AllowUsers {user}", "Subsystem sftp internal-sftp", "ForceCommand internal-sftp",
        "AllowTcpForwarding no", "X11Forwarding no", "MaxStartups 100", "LogLevel VERBOSE",
    ]
    if _sshd_version() >= (9, 8):
        options.append("PerSourcePenalties no")  # wrong-password tests must not lock the next test out
    (etc / "sshd_config").write_text("\n".join(options) + "\n")
    try:
        with running_sshd(etc, port) as running:
            yield SshServer("127.0.0.1", port, user, password, etc / "user_ed25519", passphrase, running.fingerprint,
                            running.known_hosts, served, running.log)
    finally:
        if IS_ROOT:
            subprocess.run(["userdel", user], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@attrs.frozen
class Running:
    """What a client of a running test sshd needs: a known_hosts file for it, its key's fingerprint, its log."""

    known_hosts: Path
    fingerprint: str  # as ssh-keygen -lf prints it
    log: Path


@contextmanager
def running_sshd(etc: Path, port: int) -> Iterator[Running]:
    """Run ``sshd -D`` on ``etc/sshd_config`` (host key ``etc/host_ed25519``) until the block ends."""
    if IS_ROOT:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    log = etc / "sshd.log"
    with log.open("w") as log_handle:
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(etc / "sshd_config")], stdout=log_handle,
                                stderr=subprocess.STDOUT)
    try:
        _wait_for_port(proc, port, log)
        kind, blob = (etc / "host_ed25519.pub").read_text().split()[:2]
        known = etc / "known_hosts"
        known.write_text(f"[127.0.0.1]:{port} {kind} {blob}\n")
        fingerprint = subprocess.run(["ssh-keygen", "-lf", str(etc / "host_ed25519.pub")], capture_output=True,
                                     text=True, check=True).stdout.split()[1]
        yield Running(known, fingerprint, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def sftp_school(cli, sshd, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    """School 'lincoln' (org sch-lincoln); the test account's secrets in the environment."""
    from sftp_helpers import PASSPHRASE_ENV, PASSWORD_ENV

    if sshd.password is not None:
        monkeypatch.setenv(PASSWORD_ENV, sshd.password)
    monkeypatch.setenv(PASSPHRASE_ENV, sshd.key_passphrase)
    assert cli("init").exit_code == 0
    assert cli("schools", "add", "lincoln", "--name", "Lincoln Elementary", "--org-id", "sch-lincoln").exit_code == 0
    return "lincoln"


@pytest.fixture
def drops(sshd: SshServer, request) -> Path:  # type: ignore[no-untyped-def]
    """This test's own folder on the server."""
    return sshd.folder(re.sub(r"\W+", "-", request.node.name)[:60])
