"""A drop box's sshd settings: one ``Match User`` block in one file, validated and read back before a reload.

Each drop box has ``sshd_config.d/rostersync-dropbox-ACCOUNT.conf``, so adding or removing one never
edits a file an operator or the distribution wrote. The block forces the SFTP server inside sshd
(``internal-sftp``: no shell, no command, whatever the client asks), chroots to the school's folder,
refuses every kind of forwarding, tunnel and terminal, and allows exactly one way to log in.

Three checks before sshd is reloaded, each of which rolls the change back when it fails:

1. the main ``sshd_config`` includes the folder (``Include .../sshd_config.d/*.conf``); without it
   the block would be ignored and the account would get sshd's global settings;
2. ``sshd -t``: the whole configuration is valid (a broken file would stop the next sshd start);
3. ``sshd -T -C user=ACCOUNT,...``: what sshd will *really* apply to this account, setting by setting.
   sshd takes the first value it reads for a setting, so an earlier ``Match`` block (another file
   in sshd_config.d, or the main file) could override ours; this finds that instead of trusting it.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

import attrs

from rostersync.dropbox.host import DropBoxHost
from rostersync.dropbox.system import CommandFailed, write_root_file
from rostersync.errors import ConfigError

FILE_PREFIX = "rostersync-dropbox-"
HEADER = "# rostersync drop box:"
UPLOAD = "upload"  # the one folder the account may write, inside its chroot
#: the SFTP server sshd runs for the account: lands in /upload, uploads readable by the sync's group,
#: and no symlink/hardlink creation (nothing for a sync to trip over) or uid-to-name look-ups (other accounts)
SFTP = f"internal-sftp -d /{UPLOAD} -u 0007 -P symlink,hardlink,users-groups-by-id"
AUTH_METHODS = ("password", "key")


@attrs.frozen
class Block:
    """A drop box as its sshd file records it."""

    school: str
    account: str
    auth: str  # password | key
    chroot: Path
    path: Path  # the file in sshd_config.d

    @property
    def upload(self) -> Path:
        return self.chroot / UPLOAD


def block_file(host: DropBoxHost, account: str) -> Path:
    return host.sshd_config_dir / f"{FILE_PREFIX}{account}.conf"


def keys_file(chroot: Path) -> Path:
    """Where the account's authorized key lives: beside its chroot, root's and outside every chroot (the
    account cannot change it), found from the chroot alone whatever ``root`` says now."""
    return chroot.parent / ".keys" / chroot.name


def expected(auth: str, chroot: Path) -> dict[str, str]:
    """Every setting the block makes, by its sshd_config name (``sshd -T`` prints the name lower-cased)."""
    by_key = auth == "key"
    return {
        "ChrootDirectory": str(chroot),
        "ForceCommand": SFTP,
        "DisableForwarding": "yes",
        "AllowTcpForwarding": "no",
        "AllowStreamLocalForwarding": "no",
        "AllowAgentForwarding": "no",
        "X11Forwarding": "no",
        "PermitTunnel": "no",
        "PermitTTY": "no",
        "PermitUserRC": "no",
        "GatewayPorts": "no",
        "PermitListen": "none",
        "PermitOpen": "none",
        "PermitEmptyPasswords": "no",
        "PasswordAuthentication": "no" if by_key else "yes",
        "KbdInteractiveAuthentication": "no",
        "PubkeyAuthentication": "yes" if by_key else "no",
        "AuthenticationMethods": "publickey" if by_key else "password",
        "AuthorizedKeysFile": str(keys_file(chroot)) if by_key else "none",
    }


def render(school: str, account: str, auth: str, chroot: Path) -> str:
    lines = [f"{HEADER} school={school} account={account} auth={auth} chroot={chroot}",
             f"# Written by `rostersync dropbox create {school}`; `rostersync dropbox remove {school}` removes it.",
             "# Edit with care: `rostersync dropbox` checks with sshd -T that every setting below is in force.",
             f"Match User {account}"]
    lines += [f"    {key} {value}" for key, value in expected(auth, chroot).items()]
    return "\n".join(lines) + "\n"


def read_blocks(host: DropBoxHost) -> list[Block]:
    """Every drop box block in ``sshd_config_dir``, by its header line."""
    blocks = []
    for path in sorted(host.sshd_config_dir.glob(f"{FILE_PREFIX}*.conf")):
        try:
            first = path.read_text(encoding="utf-8").splitlines()[0]
        except (OSError, IndexError, UnicodeDecodeError):
            continue
        if not first.startswith(HEADER):
            continue
        fields = dict(part.split("=", 1) for part in first[len(HEADER):].split() if "=" in part)
        if {"school", "account", "auth", "chroot"} <= fields.keys():
            blocks.append(Block(fields["school"], fields["account"], fields["auth"], Path(fields["chroot"]), path))
    return blocks


# -- checks ---------------------------------------------------------------------------------------------
def check_include(host: DropBoxHost) -> None:
    """Refuse unless the main sshd_config includes our files (sshd would silently ignore them)."""
    try:
        text = host.sshd_config.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read sshd's configuration {host.sshd_config}: {exc.strerror} (set [dropbox] "
                          "sshd_config)") from None
    probe = str(block_file(host, "probe"))
    for line in text.splitlines():
        words = shlex.split(line, comments=True) if line.strip() else []
        if len(words) >= 2 and words[0].lower() == "include":
            for pattern in words[1:]:
                full = pattern if pattern.startswith("/") else str(host.sshd_config.parent / pattern)
                if fnmatch.fnmatchcase(probe, full):
                    return
    raise ConfigError(f"{host.sshd_config} does not include {host.sshd_config_dir}/*.conf, so sshd would ignore a "
                      f"drop box's settings and give the account its global ones (forwarding included). Add this "
                      f"line at the top of {host.sshd_config}, then run the command again:\n"
                      f"    Include {host.sshd_config_dir}/*.conf")


def _sshd(host: DropBoxHost, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([host.sshd, *args, "-f", str(host.sshd_config)], capture_output=True, text=True)
    except FileNotFoundError:
        raise ConfigError(f"sshd not found at {host.sshd}: install openssh-server, or set [dropbox] sshd") from None


def test_config(host: DropBoxHost) -> None:
    """``sshd -t``: refuse a configuration sshd would not start with."""
    done = _sshd(host, "-t")
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip()
        raise CommandFailed(f"sshd -t refuses the configuration: {said}")


def effective(host: DropBoxHost, account: str | None = None) -> dict[str, str]:
    """What sshd applies to ``account`` logging in (``sshd -T -C``; without one, its global settings),
    keyword -> first value."""
    spec = ("-C", f"user={account},host=dropbox.invalid,addr=192.0.2.1") if account else ()
    done = _sshd(host, "-T", *spec)
    if done.returncode != 0:
        raise CommandFailed(f"sshd -T refuses: {(done.stderr or done.stdout).strip()}")
    settings: dict[str, str] = {}
    for line in done.stdout.splitlines():
        key, _, value = line.partition(" ")
        settings.setdefault(key.lower(), value.strip())
    return settings


def verify(host: DropBoxHost, account: str, auth: str, chroot: Path) -> None:
    """Refuse unless sshd applies every setting of the block to ``account``, naming each one it does not."""
    seen = effective(host, account)
    wrong = [f"{key} is {seen.get(key.lower(), '(unset)')!r}, not {value!r}"
             for key, value in expected(auth, chroot).items()
             if seen.get(key.lower(), "").lower() != value.lower()]
    if wrong:
        raise ConfigError(f"sshd would not apply the drop box settings to {account}: {'; '.join(wrong)}. sshd uses the "
                          f"first value it reads, so an earlier Match block (in {host.sshd_config} or a file sorting "
                          f"before {block_file(host, account).name}) probably sets them; nothing was changed")


def listening_port(host: DropBoxHost) -> int:
    try:
        return int(effective(host).get("port", "22").split()[0])
    except ValueError:
        return 22


def host_key_fingerprints(host: DropBoxHost) -> list[str]:
    """``ssh-ed25519 SHA256:...`` for each host key sshd serves (what a district should check on first connect)."""
    prints = []
    for line in _sshd(host, "-T").stdout.splitlines():
        key, _, value = line.partition(" ")
        if key.lower() != "hostkey":
            continue
        try:
            kind, blob = Path(value.strip() + ".pub").read_text().split()[:2]
        except (OSError, ValueError):
            continue
        digest = base64.b64encode(hashlib.sha256(base64.b64decode(blob)).digest()).decode().rstrip("=")
        prints.append(f"{kind} SHA256:{digest}")
    return prints


# -- changes ---------------------------------------------------------------------------------------------
def install(host: DropBoxHost, school: str, account: str, auth: str, chroot: Path) -> None:
    """Write the account's block, check it three ways (see the module docstring), reload sshd.

    On a failed check the previous file (or none) is put back and sshd is not reloaded.
    """
    check_include(host)
    path = block_file(host, account)
    before = path.read_text(encoding="utf-8") if path.exists() else None
    host.sshd_config_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    write_root_file(path, render(school, account, auth, chroot))
    try:
        test_config(host)
        verify(host, account, auth, chroot)
    except BaseException:
        _restore(path, before)
        raise
    reload(host)


def uninstall(host: DropBoxHost, account: str) -> bool:
    """Remove the account's block and reload sshd; False when there was none."""
    path = block_file(host, account)
    if not path.exists():
        return False
    before = path.read_text(encoding="utf-8")
    path.unlink()
    try:
        test_config(host)
    except BaseException:
        _restore(path, before)
        raise
    reload(host)
    return True


def _restore(path: Path, text: str | None) -> None:
    if text is None:
        path.unlink(missing_ok=True)
    else:
        write_root_file(path, text)


def reload(host: DropBoxHost, wait: float = 10.0) -> None:
    """Make sshd read its configuration again: the ``reload`` command, or SIGHUP to the pid in ``pid_file``.

    After a SIGHUP sshd re-executes itself and rewrites its pid file once it listens again; wait for
    that, so a district told to connect right away is not refused by a restarting server.
    """
    if host.reload:
        done = subprocess.run(shlex.split(host.reload), capture_output=True, text=True)
        if done.returncode != 0:
            raise CommandFailed(f"reloading sshd ({host.reload}) failed: {(done.stderr or done.stdout).strip()}")
        return
    try:
        before = host.pid_file.stat().st_mtime_ns
        pid = int(host.pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        raise ConfigError(f"cannot read sshd's pid from {host.pid_file}: is sshd running? If it runs socket-activated "
                          "(ssh.socket), every connection reads the new settings: set [dropbox] reload to a command "
                          "that does nothing (e.g. true); otherwise set pid_file or reload (e.g. systemctl reload "
                          "ssh)") from None
    try:
        os.kill(pid, signal.SIGHUP)
    except OSError as exc:
        raise CommandFailed(f"reloading sshd (SIGHUP to pid {pid} from {host.pid_file}) failed: {exc.strerror}") \
            from None
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            if host.pid_file.stat().st_mtime_ns != before:
                return
        except OSError:
            pass
        time.sleep(0.05)
