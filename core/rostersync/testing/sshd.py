"""A real OpenSSH sshd on 127.0.0.1, for testing SFTP connectors against the server districts really run.

:func:`run_sshd` starts ``sshd -D`` with its own sshd_config, host key, authorized_keys and pid file in
a temporary folder (never the system's), ``Subsystem sftp internal-sftp`` and ``ForceCommand
internal-sftp``, and yields an :class:`SshServer`: where it listens, the account and its (encrypted)
private key, a known_hosts file holding the server's key, and a folder the account owns that drops
go below.

By default the account is the current user and authentication is by key only, which works without
root (for root, ``PermitRootLogin prohibit-password`` lets the key in). A caller that runs as root and
wants password authentication creates a system account with a password itself and passes ``user``
and ``password`` (the test suite's fixture does, see tests/sftp_fixtures.py).
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
import unittest
from collections.abc import Iterator
from pathlib import Path

import attrs

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
IS_ROOT = os.geteuid() == 0


@attrs.define
class SshServer:
    host: str
    port: int
    user: str
    password: str | None
    key: Path  # the user's private key (encrypted with key_passphrase, unless that is '')
    key_passphrase: str
    host_fingerprint: str  # as ssh-keygen -lf prints it
    known_hosts: Path  # a known_hosts file holding this server's key
    served: Path  # a folder the test user owns; drops go below it
    log: Path

    def require_password(self) -> str:
        if self.password is None:
            raise unittest.SkipTest("password authentication needs root: the fixture must create a system user "
                                    "with a password (run the suite as root, e.g. in CI)")
        return self.password

    def folder(self, name: str) -> Path:
        """A fresh folder on the server, owned by the test user (so archive moves work)."""
        path = self.served / name
        path.mkdir(parents=True)
        self.chown(path)
        return path

    def chown(self, path: Path) -> None:
        """Give ``path`` (and what is below it) to the test user, as if it had uploaded it."""
        chown_to(path, self.user)

    @staticmethod
    def unused_port() -> int:
        return free_port()


def chown_to(path: Path, user: str) -> None:
    """Give ``path`` and everything below it to ``user`` (only possible, and only needed, as root)."""
    if IS_ROOT:
        entry = pwd.getpwnam(user)
        for p in [path, *path.rglob("*")]:
            os.chown(p, entry.pw_uid, entry.pw_gid)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing() -> str:
    """Why no sshd can be started here ('' when one can)."""
    if not Path(SSHD).exists() or not shutil.which("ssh-keygen"):
        return "OpenSSH sshd is not installed (apt-get install openssh-server)"
    return ""


def keygen(path: Path, passphrase: str = "") -> None:
    """A new ed25519 key pair at ``path`` (and ``path.pub``)."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", "", "-f", str(path)], check=True)


def sshd_version() -> tuple[int, int]:
    out = subprocess.run([SSHD, "-V"], capture_output=True, text=True)
    match = re.search(r"OpenSSH_(\d+)\.(\d+)", out.stderr + out.stdout)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


class PortTaken(RuntimeError):
    """sshd could not bind its port: another process took it between :func:`free_port` and sshd."""


def _wait_for_port(proc: subprocess.Popen, port: int, log: Path) -> None:
    """Until sshd says it listens on ``port``: a connection alone could reach another process that took
    the port first (on a busy machine), whose server then vanishes mid-test."""
    listening = f"Server listening on 127.0.0.1 port {port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if proc.poll() is not None:
            raise (PortTaken if "Address already in use" in text else RuntimeError)(
                f"sshd exited with {proc.returncode}:\n{text}")
        if listening in text:
            return
        time.sleep(0.05)
    raise RuntimeError(f"sshd did not start listening on port {port}:\n{log.read_text(errors='replace')}")


def sftp_only_config(etc: Path, port: int, user: str) -> str:
    """An sshd_config for one account on 127.0.0.1: SFTP only, key or password, nothing forwarded."""
    options = [
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {etc / 'host_ed25519'}",
        f"PidFile {etc / 'sshd.pid'}", "UsePAM no", "StrictModes no", f"AuthorizedKeysFile {etc / 'authorized_keys'}",
        "PasswordAuthentication yes", "PubkeyAuthentication yes", "KbdInteractiveAuthentication no",
        f"PermitRootLogin {'prohibit-password' if user == 'root' else 'no'}", f"AllowUsers {user}",
        "Subsystem sftp internal-sftp", "ForceCommand internal-sftp",
        "AllowTcpForwarding no", "X11Forwarding no", "MaxStartups 100", "LogLevel VERBOSE",
    ]
    if sshd_version() >= (9, 8):
        options.append("PerSourcePenalties no")  # wrong-password tests must not lock the next test out
    return "\n".join(options) + "\n"


@attrs.frozen
class Running:
    """What a client of a running test sshd needs: a known_hosts file for it, its key's fingerprint, its log."""

    known_hosts: Path
    fingerprint: str  # as ssh-keygen -lf prints it
    log: Path


@contextlib.contextmanager
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


@contextlib.contextmanager
def run_sshd(user: str | None = None, password: str | None = None, base: Path | None = None,
             encrypt_key: bool = True) -> Iterator[SshServer]:
    """Run an SFTP-only sshd for ``user`` (default: the current user, key authentication) until the block
    ends; its files go in ``base`` (default: a new temporary folder, removed afterwards; ``base/home`` is
    the folder the account owns). The account's key is encrypted with a passphrase unless
    ``encrypt_key`` is false (decrypting costs ~0.2 s a connection). Raises RuntimeError when sshd is
    missing or does not start."""
    reason = missing()
    if reason:
        raise RuntimeError(reason)
    user = user or getpass.getuser()
    owned = base is None
    base = Path(tempfile.mkdtemp(prefix="rostersync-sshd-")) if base is None else base
    try:
        base.mkdir(parents=True, exist_ok=True)
        base.chmod(0o755)  # the account must reach authorized_keys and its home below
        etc, served = base / "etc", base / "home"
        etc.mkdir(mode=0o755)
        served.mkdir(mode=0o755, exist_ok=True)
        chown_to(served, user)
        keygen(etc / "host_ed25519")
        passphrase = "kp-" + secrets.token_urlsafe(12) if encrypt_key else ""
        keygen(etc / "user_ed25519", passphrase)
        (etc / "authorized_keys").write_text((etc / "user_ed25519.pub").read_text())
        (etc / "authorized_keys").chmod(0o644)
        with contextlib.ExitStack() as stack:
            for attempt in range(3):  # another process may take the free port before sshd binds it
                port = free_port()
                (etc / "sshd_config").write_text(sftp_only_config(etc, port, user))
                try:
                    running = stack.enter_context(running_sshd(etc, port))
                    break
                except PortTaken:
                    if attempt == 2:
                        raise
            yield SshServer("127.0.0.1", port, user, password, etc / "user_ed25519", passphrase,
                            running.fingerprint, running.known_hosts, served, running.log)
    finally:
        if owned:
            shutil.rmtree(base, ignore_errors=True)
