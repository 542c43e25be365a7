"""Create, rotate, remove and list drop boxes: each step checked, a failed create rolled back.

A drop box is three things kept together: a system account (whose GECOS field names its school,
see :mod:`.names`), a chroot folder ``ROOT/ACCOUNT`` with the upload folder in it, and the account's
file in ``sshd_config.d`` (:mod:`.sshd`). The school's ``dropbox``-kind connector reads the upload
folder. Nothing secret is kept by rostersync: a password is generated, set through chpasswd and
shown once; the system stores only its hash.
"""

from __future__ import annotations

import base64
import contextlib
import pwd
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from rostersync.dropbox import names, sshd, system
from rostersync.dropbox.host import DropBoxHost
from rostersync.dropbox.instructions import Details, what_to_upload
from rostersync.errors import ConfigError

KIND = "dropbox"
KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa",
             "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")
CREATE_NEEDS = (system.NEEDS_ACCOUNTS, system.NEEDS_CHOWN, system.NEEDS_SSHD_DIR, system.NEEDS_RELOAD)


@attrs.frozen
class Request:
    """What ``dropbox create`` was asked for."""

    school: str
    connector: str = "sftp-dropbox"
    public_key: str | None = None  # the text of an OpenSSH public key; None: a password
    account: str | None = None  # chosen name, instead of the one derived from the school id
    settings: dict[str, Any] = attrs.Factory(dict)  # the connector's other settings (--set)
    schedule: str | None = None


def needs(host: DropBoxHost) -> tuple[str, ...]:
    """What a change of drop boxes needs, for the refusal when not root."""
    return tuple(n.format(dir=host.sshd_config_dir) for n in CREATE_NEEDS)


def authorized_key(text: str, source: str) -> str:
    """One OpenSSH public key as an authorized_keys line, ``restrict``-ed (no forwarding, pty or rc, whatever
    sshd allows); refuses anything else (a private key by mistake, several keys, options)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    words = lines[0].split() if len(lines) == 1 else []
    if len(words) < 2 or words[0] not in KEY_TYPES:
        raise ConfigError(f"{source}: not one OpenSSH public key (expected one line: TYPE BASE64 [COMMENT], TYPE one "
                          f"of {', '.join(KEY_TYPES)}); give the .pub file")
    try:
        blob = base64.b64decode(words[1], validate=True)
    except ValueError:
        raise ConfigError(f"{source}: the key is not valid base64") from None
    if blob[4:4 + len(words[0])] != words[0].encode():
        raise ConfigError(f"{source}: the key's data does not match its type {words[0]}")
    return f"restrict {words[0]} {words[1]}\n"


def _ours(entry: pwd.struct_passwd, school: str) -> None:
    owner = names.school_of(entry.pw_gecos)
    if owner is None:
        raise ConfigError(f"a system account named {entry.pw_name} exists and is not a rostersync drop box; choose "
                          "another name with --user NAME")
    if owner != school:
        raise ConfigError(f"account {entry.pw_name} is the drop box of school {owner!r}; give {school!r} another "
                          "name with --user NAME")


def block_of(host: DropBoxHost, school: str) -> sshd.Block | None:
    return next((b for b in sshd.read_blocks(host) if b.school == school), None)


def details(host: DropBoxHost, school: str, account: str, auth: str, password: str | None,
            connector_settings: Any) -> Details:
    folder = f"/{sshd.UPLOAD}"
    return Details(school, host.host or socket.getfqdn(), host.port or sshd.listening_port(host), account, auth,
                   password, folder, tuple(sshd.host_key_fingerprints(host)),
                   what_to_upload(connector_settings, folder))


def create(config: Any, host: DropBoxHost, request: Request) -> Details:
    """Make the school's drop box and enable its connector; on any failure undo what was done."""
    from rostersync.connector import structure_settings
    from rostersync.plugins import get_connector

    system.require_root("rostersync dropbox create", needs(host))
    system.find_tools()
    school = config.school(request.school).id
    spec = get_connector(request.connector)
    if spec.kind != KIND:
        raise ConfigError(f"connector {spec.name} is of kind {spec.kind!r}; a drop box feeds a connector of kind "
                          f"{KIND!r} (e.g. sftp-dropbox)")
    account = request.account or names.account_name(school, host.prefix)
    if not names.valid_account(account):
        raise ConfigError(f"account name {account!r}: 1 to 32 of a-z, 0-9, '_' and '-', starting with a letter or '_'")
    entry = system.account(account)
    if entry is not None:
        _ours(entry, school)  # a drop box removed earlier (its account kept, locked) is opened again, in place
    chroot = Path(entry.pw_dir) if entry is not None else host.root / account
    upload = chroot / sshd.UPLOAD
    settings = structure_settings(spec, {**request.settings, "path": str(upload)})
    key_line = authorized_key(request.public_key, "--public-key") if request.public_key is not None else None
    auth = "key" if key_line else "password"
    existing = block_of(host, school)
    if existing is not None:
        raise ConfigError(f"school {school!r} already has a drop box ({existing.account}): `rostersync dropbox rotate "
                          f"{school}` gives it a new password, `remove` closes it")
    sshd.check_include(host)
    sshd.test_config(host)  # refuse to add to a configuration that is already broken

    undo: list[Callable[[], Any]] = []
    try:
        if entry is None:
            entry = system.create_account(account, chroot, names.gecos_for(school))
            undo.append(lambda: system.delete_account(account))
        system.root_folder(chroot.parent)
        if not chroot.exists():
            undo.append(lambda: system.purge_folder(chroot))
        system.root_folder(chroot)
        system.upload_folder(upload, entry, host.group)
        if key_line:
            _write_key(chroot, key_line)
            undo.append(lambda: sshd.keys_file(chroot).unlink(missing_ok=True))
        sshd.install(host, school, account, auth, chroot)
        undo.append(lambda: sshd.uninstall(host, account))
        password = _credentials(account, auth)
        config.enable(school, spec.name, {**request.settings, "path": str(upload)}, request.schedule)
        config.save()
    except BaseException:
        for step in reversed(undo):
            with contextlib.suppress(Exception):  # best effort: the first error is the one to show
                step()
        raise
    return details(host, school, account, auth, password, settings)


def _write_key(chroot: Path, key_line: str) -> None:
    path = sshd.keys_file(chroot)
    system.root_folder(path.parent)
    system.write_root_file(path, key_line)


def _credentials(account: str, auth: str) -> str | None:
    """Open the account for its one way in: a new password (returned, to be shown once), or keys only."""
    if auth == "key":
        system.keys_only(account)
        return None
    password = system.new_password()
    system.set_password(account, password)
    return password


def rotate(config: Any, host: DropBoxHost, school_id: str, public_key: str | None = None,
           password: bool = False) -> Details:
    """New credentials for a school's drop box: the old ones stop working, open sessions are ended."""
    system.require_root("rostersync dropbox rotate", needs(host))
    block = _block_or_refuse(host, school_id)
    entry = _account_of(block)
    if public_key is None and not password and block.auth == "key":
        raise ConfigError(f"{school_id}'s drop box logs in with a key: pass --public-key FILE for a new one (or "
                          "--password to switch it to a password)")
    auth = "key" if public_key is not None else "password"
    if auth == "key":
        _write_key(block.chroot, authorized_key(public_key or "", "--public-key"))
    if auth != block.auth:
        sshd.install(host, block.school, block.account, auth, block.chroot)
    secret = _credentials(block.account, auth)
    if auth == "password":
        sshd.keys_file(block.chroot).unlink(missing_ok=True)
    system.end_sessions(entry.pw_uid)
    return details(host, block.school, block.account, auth, secret, _connector_settings(config, block))


def remove(config: Any, host: DropBoxHost, school_id: str, purge: bool = False) -> list[str]:
    """Lock the school's drop box out (account locked and expired, sessions ended, sshd block removed),
    disable its connector; with ``purge`` also delete the account and every uploaded file. Returns notes."""
    system.require_root("rostersync dropbox remove", needs(host))
    block = block_of(host, school_id)
    entry = _account_for(host, school_id) if block is None else _account_of(block)
    if entry is None:
        raise ConfigError(f"school {school_id!r} has no drop box (rostersync dropbox list shows them)")
    account = entry.pw_name
    chroot = block.chroot if block else Path(entry.pw_dir)  # the account's home is its chroot
    notes = []
    system.lock(account)
    ended = system.end_sessions(entry.pw_uid)
    notes.append(f"locked account {account}" + (f" and ended {len(ended)} open session(s)" if ended else ""))
    if sshd.uninstall(host, account):
        notes.append(f"removed {sshd.block_file(host, account)} and reloaded sshd")
    sshd.keys_file(chroot).unlink(missing_ok=True)
    for name in _connectors_on(config, school_id, chroot / sshd.UPLOAD):
        config.disable(school_id, name)
        config.save()
        notes.append(f"disabled connector {name} for {school_id} (its runs and roster are kept)")
    if purge:
        if chroot.name != account or len(chroot.parts) < 3:
            raise ConfigError(f"not deleting {chroot}: a drop box's folder is ROOT/{account}; delete it by hand")
        system.delete_account(account)
        system.purge_folder(chroot)
        notes.append(f"deleted account {account} and {chroot} with everything uploaded to it")
    else:
        notes.append(f"kept {chroot / sshd.UPLOAD} and the locked account (so its uid is not given to another); "
                     f"--purge deletes both")
    return notes


@attrs.frozen
class Listed:
    school: str
    account: str
    auth: str
    folder: str
    sshd: bool
    login: str
    connectors: tuple[str, ...]


def listing(config: Any, host: DropBoxHost) -> list[Listed]:
    """Every drop box: the accounts rostersync made (also removed ones) and the sshd blocks."""
    blocks = {b.account: b for b in sshd.read_blocks(host)}
    accounts = {e.pw_name: e for e in pwd.getpwall() if names.school_of(e.pw_gecos) is not None}
    rows = []
    for account in sorted(blocks.keys() | accounts.keys()):
        block, entry = blocks.get(account), accounts.get(account)
        school = block.school if block is not None else names.school_of(entry.pw_gecos) if entry is not None else None
        school = school or "?"
        upload = (block.chroot if block is not None else Path(entry.pw_dir) if entry is not None
                  else host.root / account) / sshd.UPLOAD
        rows.append(Listed(school, account, block.auth if block else "-", str(upload), block is not None,
                           system.login_state(account) if entry else "no account",
                           tuple(_connectors_on(config, school, upload))))
    return rows


# -- helpers ------------------------------------------------------------------------------------------------
def _block_or_refuse(host: DropBoxHost, school_id: str) -> sshd.Block:
    block = block_of(host, school_id)
    if block is None:
        raise ConfigError(f"school {school_id!r} has no open drop box (rostersync dropbox create {school_id})")
    return block


def _account_of(block: sshd.Block) -> pwd.struct_passwd:
    entry = system.account(block.account)
    if entry is None:
        raise ConfigError(f"{block.path} names account {block.account}, which does not exist; remove the file and "
                          f"run rostersync dropbox create {block.school} again")
    _ours(entry, block.school)
    return entry


def _account_for(host: DropBoxHost, school_id: str) -> pwd.struct_passwd | None:
    return next((e for e in pwd.getpwall() if names.school_of(e.pw_gecos) == school_id), None)


def _connectors_on(config: Any, school_id: str, upload: Path) -> list[str]:
    """The school's enabled connectors that read ``upload``."""
    schools = config.schools()
    if school_id not in schools:
        return []
    return [name for name, enabled in schools[school_id].connectors.items()
            if str(enabled.settings.get("path", "")).rstrip("/") == str(upload)]


def _connector_settings(config: Any, block: sshd.Block) -> Any:
    """The settings of the connector reading the drop box (its defaults when none is enabled any more)."""
    from rostersync.connector import structure_settings
    from rostersync.plugins import get_connector

    school = config.school(block.school)
    for name in _connectors_on(config, block.school, block.upload):
        return structure_settings(get_connector(name), school.connectors[name].settings)
    return structure_settings(get_connector("sftp-dropbox"), {"path": str(block.upload)})
