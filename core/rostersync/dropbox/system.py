"""The system side of a drop box: the rights it needs, its account (shadow-utils), its folders, its sessions.

Accounts are made with ``useradd --system`` (no home created, shell ``nologin``, a group of its
own), passwords set through ``chpasswd`` on stdin (never on a command line, never stored by
rostersync: ``/etc/shadow`` keeps the system's hash of it), and locked with ``usermod --lock
--expiredate 1`` (a lock alone leaves key logins open; an expired account has none).

A removed drop box keeps its account, locked, unless purged: deleting it would free its uid for the
next account made, which would then own the old school's uploads.
"""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import shutil
import signal
import stat
import string
import subprocess
from pathlib import Path

from rostersync.errors import ConfigError, RostersyncError

TOOLS = ("useradd", "usermod", "userdel", "chpasswd")
NOLOGIN = ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false")
PASSWORD_ALPHABET = string.ascii_letters + string.digits
PASSWORD_LENGTH = 24  # ~143 bits
FIRST_SYSTEM_UID = 100  # never signal or delete below this, whatever a GECOS field says


class CommandFailed(RostersyncError):
    """A system command failed; the message says which and what it printed."""


def require_root(action: str, needs: tuple[str, ...]) -> None:
    """Refuse, saying which rights are missing and why, unless running as root."""
    if os.geteuid() == 0:
        return
    missing = "; ".join(needs)
    raise ConfigError(f"{action} needs root (run it with sudo): {missing}. rostersync runs as uid {os.geteuid()}.")


NEEDS_ACCOUNTS = "useradd/usermod/chpasswd write /etc/passwd and /etc/shadow (root only)"
NEEDS_CHOWN = "giving the upload folder to the account needs CAP_CHOWN"
NEEDS_SSHD_DIR = "writing a file in {dir} (owned by root)"
NEEDS_RELOAD = "reloading sshd signals a root process (CAP_KILL)"


def find_tools() -> dict[str, str]:
    """Where useradd, usermod, userdel and chpasswd are; refuse naming the missing ones."""
    found = {tool: shutil.which(tool) or next((f"{d}/{tool}" for d in ("/usr/sbin", "/sbin")
                                               if os.access(f"{d}/{tool}", os.X_OK)), "") for tool in TOOLS}
    missing = [tool for tool, path in found.items() if not path]
    if missing:
        raise ConfigError(f"{', '.join(missing)} not found: install shadow-utils (Debian/Ubuntu: apt-get install "
                          "passwd; RHEL: dnf install shadow-utils)")
    return found


def _run(argv: list[str], what: str, stdin: str | None = None) -> str:
    """Run a system command; its input (a password) never appears in an error."""
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().replace("\n", " ")
        raise CommandFailed(f"{what}: {Path(argv[0]).name} exited with {done.returncode}: {said}")
    return done.stdout


def account(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def nologin() -> str:
    return next((path for path in NOLOGIN if os.access(path, os.X_OK)), "/bin/false")


def create_account(name: str, home: Path, gecos: str) -> pwd.struct_passwd:
    """A system account with its own group, no home made, no shell, no password yet (locked: ``!``)."""
    _run([find_tools()["useradd"], "--system", "--user-group", "--no-create-home", "--home-dir", str(home),
          "--shell", nologin(), "--comment", gecos, name], f"creating account {name}")
    entry = account(name)
    assert entry is not None
    return entry


def new_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def set_password(name: str, password: str) -> None:
    """Set ``name``'s password (chpasswd hashes it with the system's method); clears a lock and an expiry."""
    _run([find_tools()["chpasswd"]], f"setting the password of {name}", stdin=f"{name}:{password}\n")
    _run([find_tools()["usermod"], "--expiredate", "", name], f"clearing the expiry of {name}")


def keys_only(name: str) -> None:
    """No password at all (``*``: nothing to guess, unlike ``!`` not a lock that refuses keys); no expiry."""
    _run([find_tools()["usermod"], "--password", "*", "--expiredate", "", name], f"unlocking {name} for keys")


def lock(name: str) -> None:
    """Refuse every login: password locked (``!``) and the account expired, which also refuses keys."""
    _run([find_tools()["usermod"], "--lock", "--expiredate", "1", name], f"locking {name}")


def delete_account(name: str) -> None:
    _run([find_tools()["userdel"], name], f"deleting account {name}")


def login_state(name: str, shadow: Path = Path("/etc/shadow")) -> str:
    """``active``, ``locked`` (password locked with ``!``, or the account expired) or ``unknown`` (reading
    /etc/shadow needs root). A key-only account's ``*`` is no password, not a lock."""
    import datetime as dt

    try:
        lines = shadow.read_text(encoding="utf-8").splitlines()
    except OSError:
        return "unknown"
    for line in lines:
        fields = line.split(":")
        if fields[0] != name or len(fields) < 8:
            continue
        today = (dt.date.today() - dt.date(1970, 1, 1)).days
        expired = fields[7].strip().isdigit() and int(fields[7]) <= today
        return "locked" if fields[1].startswith("!") or expired else "active"
    return "unknown"


def end_sessions(uid: int) -> list[int]:
    """End the running sessions of a drop box account (its sftp processes); return their pids.

    Locking an account stops new logins, not one that is uploading now. sshd runs each session's
    sftp server as the account's uid, so those processes are exactly the ones to end.
    """
    if uid < FIRST_SYSTEM_UID:
        raise ValueError(f"refusing to signal the processes of uid {uid}")
    ended = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            real_uid = int(next(line for line in (entry / "status").read_text().splitlines()
                                if line.startswith("Uid:")).split()[1])
            if real_uid == uid:
                os.kill(int(entry.name), signal.SIGTERM)
                ended.append(int(entry.name))
        except (OSError, StopIteration, ValueError):
            continue  # gone meanwhile, or not ours to read
    return ended


# -- folders ------------------------------------------------------------------------------------------------
def check_chroot_path(path: Path) -> None:
    """sshd refuses a chroot unless every folder on the way is root's and writable by nobody else: say so now."""
    for folder in [*reversed(path.parents), path]:
        if not folder.exists():
            continue
        st = folder.lstat()
        if stat.S_ISLNK(st.st_mode):
            raise ConfigError(f"{folder} is a symbolic link: sshd needs the real folders in a ChrootDirectory path "
                              f"(set [dropbox] root to the path it points at)")
        if st.st_uid != 0 or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise ConfigError(f"{folder} must be owned by root and writable by nobody else (owner uid {st.st_uid}, "
                              f"mode {stat.S_IMODE(st.st_mode):o}): sshd refuses a chroot below it. Choose another "
                              "[dropbox] root, e.g. /srv/rostersync/dropbox")


def root_folder(path: Path, mode: int = 0o755) -> None:
    """``path`` (and missing parents) as root's folders, mode 755: what a chroot and its way need."""
    missing = [p for p in [*reversed(path.parents), path] if not p.exists()]
    for folder in missing:
        folder.mkdir(mode=mode)
        os.chown(folder, 0, 0)
        folder.chmod(mode)
    check_chroot_path(path)


def upload_folder(path: Path, user: pwd.struct_passwd, group: str) -> None:
    """The one folder the account may write: its own, shared with ``group`` (setgid, 2770) when given."""
    gid = user.pw_gid
    if group:
        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            raise ConfigError(f"[dropbox] group {group!r} does not exist (groupadd it, or leave group empty)") from None
    path.mkdir(mode=0o700, exist_ok=True)
    st = path.lstat()
    if not stat.S_ISDIR(st.st_mode):
        raise ConfigError(f"{path} exists and is not a folder")
    os.chown(path, user.pw_uid, gid, follow_symlinks=False)
    path.chmod(0o2770)


def write_root_file(path: Path, text: str, mode: int = 0o644) -> None:
    """Write ``path`` whole or not at all (a temporary file renamed over it), owned by root."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def purge_folder(path: Path) -> None:
    """Delete a drop box's folder and everything uploaded to it (rmtree never follows a link in it)."""
    if path.exists():
        shutil.rmtree(path)
