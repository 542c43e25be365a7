"""Fixtures for the SFTP tests: a real OpenSSH sshd on 127.0.0.1, a school, a folder per test.

The server is :func:`rostersync.testing.sshd.run_sshd` (the conformance kit's too): its own
sshd_config, host key, authorized_keys and pid file in a temporary folder (never the system's),
``Subsystem sftp internal-sftp`` and ``ForceCommand internal-sftp``.

Password authentication needs a real account with a password in /etc/shadow (``UsePAM no``), so
when the suite runs as root the fixture creates a throwaway system user (``useradd`` +
``chpasswd``, no shell, no login) and deletes it afterwards; accounts left by a crashed run are
removed the next time. Without root, sshd runs as the current user with key authentication only
and the password tests are skipped, saying why.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from rostersync.testing.sshd import (  # noqa: F401 (SSHD, chown_to, free_port, running_sshd: for other test modules)
    IS_ROOT,
    SSHD,
    SshServer,
    chown_to,
    free_port,
    missing,
    run_sshd,
    running_sshd,
)
from rostersync.testing.sshd import keygen as _keygen  # noqa: F401 (the names the drop box fixtures import)
from rostersync.testing.sshd import sshd_version as _sshd_version  # noqa: F401

USER_PREFIX = "rssftp"


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


@pytest.fixture(scope="session")
def sshd() -> Iterator[SshServer]:
    """One OpenSSH sshd for the whole session (skips when OpenSSH is not installed)."""
    if missing():
        pytest.skip(f"{missing()}; scripts/test installs it")
    base = Path(tempfile.mkdtemp(prefix="rostersync-sshd-"))
    user, password = _make_user(base / "home") if IS_ROOT else (None, None)
    try:
        with run_sshd(user, password, base) as server:
            yield server
    finally:
        if IS_ROOT:
            subprocess.run(["userdel", user], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


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
