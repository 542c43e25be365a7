"""Open an authenticated SFTP session (paramiko): host key verified, timeouts set, errors translated.

Every failure becomes an :class:`SftpError` that names ``sftp://host:port/path`` (never a secret)
and the step that failed (``connect``, ``host key``, ``authenticate``, ``remote folder``,
``download``), so ``rostersync check`` can say which one. Host keys are checked against a
known_hosts file or a pinned ``SHA256:`` fingerprint; an unknown or changed key is refused with the
fingerprint and the exact command that pins it. There is deliberately no "accept any key" mode.

paramiko is imported inside functions: ``rostersync connectors list`` must not pay for it.
"""

from __future__ import annotations

import errno
import io
import logging
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from rostersync.errors import ConfigError, SourceError

CONNECT, HOST_KEY, AUTHENTICATE = "connect", "host key", "authenticate"
SESSION_STEPS = (CONNECT, HOST_KEY, AUTHENTICATE)
PINNED = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}=?$")


class SftpError(SourceError):
    """An SFTP failure at ``step``; ``transient`` ones (a dropped connection) are worth a retry."""

    def __init__(self, message: str, location: str, *, step: str = CONNECT, transient: bool = False) -> None:
        self.step = step
        self.transient = transient
        super().__init__(message, location)


def location(settings: Any, path: str = "") -> str:
    """Where, for messages: ``sftp://host:port/path`` (the username is not a secret, the rest never shown)."""
    return f"sftp://{settings.host}:{settings.port}{path}"


@attrs.frozen
class Session:
    """An open SFTP session and what ``check`` reports about how it was established."""

    sftp: Any
    host_key: str  # "ssh-ed25519 SHA256:..."
    verified_by: str  # "pinned host_key" or the known_hosts path
    auth: str  # "password" / "private key" / "private key + password"


class _UnknownHostKey(Exception):
    def __init__(self, key: Any) -> None:
        self.key = key


class _HostKeyPolicy:
    """paramiko's missing-host-key hook: accept only the pinned fingerprint, refuse everything else."""

    def __init__(self, pinned: str) -> None:
        self.pinned = pinned

    def missing_host_key(self, _client: Any, _hostname: str, key: Any) -> None:
        if not (self.pinned and key.fingerprint == self.pinned.rstrip("=")):
            raise _UnknownHostKey(key)


def _pin_command(context: Any, fingerprint: str) -> str:
    return f"rostersync enable {context.school_id} {context.source} --set host_key={fingerprint}"


def load_private_key(ref: Any, passphrase_ref: Any) -> Any:
    """The private key a ``private_key`` secret reference points at (OpenSSH or PEM; ed25519, ecdsa, rsa)."""
    import paramiko

    text = ref.reveal()
    passphrase = passphrase_ref.reveal() if passphrase_ref is not None else None
    encrypted = False
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key(io.StringIO(text), password=passphrase)
        except paramiko.PasswordRequiredException:
            encrypted = True
        except (paramiko.SSHException, ValueError, TypeError):
            continue
    if encrypted and passphrase is None:
        raise ConfigError(f"private_key {ref} is encrypted: set key_passphrase (env:NAME or file:PATH)")
    if passphrase is not None:
        raise ConfigError(f"cannot unlock private_key {ref}: wrong key_passphrase, or not an ed25519, "
                          "ecdsa or rsa private key")
    raise ConfigError(f"private_key {ref} is not an ed25519, ecdsa or rsa private key (OpenSSH or PEM format)")


def _credentials(settings: Any) -> tuple[str | None, Any, str]:
    if settings.password is None and settings.private_key is None:
        raise ConfigError("set password or private_key for the SFTP account (secret references: env:NAME, "
                          "file:PATH)")
    pkey = load_private_key(settings.private_key, settings.key_passphrase) if settings.private_key else None
    password = settings.password.reveal() if settings.password is not None else None
    method = " + ".join(m for m, v in (("private key", pkey), ("password", password)) if v is not None)
    return password, pkey, method


def _host_key_client(settings: Any) -> tuple[Any, str]:
    """An SSHClient that knows the trusted host keys and refuses any other."""
    import paramiko

    logging.getLogger("paramiko").addHandler(logging.NullHandler())  # errors reach operators as SftpError
    client = paramiko.SSHClient()
    pinned = settings.host_key.strip()
    if pinned:
        if not PINNED.match(pinned):
            raise ConfigError(f"host_key {pinned!r} is not a SHA256:... fingerprint (rostersync check and "
                              "ssh-keygen -lf show it in that form)")
        verified_by = "pinned host_key"
    else:
        known = Path(settings.known_hosts).expanduser()
        verified_by = str(known)
        if known.is_file():
            try:
                client.load_system_host_keys(str(known))  # read-only: never written back
            except (OSError, paramiko.SSHException) as exc:
                raise ConfigError(f"cannot read known_hosts file {known}: {exc}") from None
    client.set_missing_host_key_policy(_HostKeyPolicy(pinned))
    return client, verified_by


def _connect_error(exc: BaseException, settings: Any, context: Any, verified_by: str,
                   reconnecting: bool) -> SftpError:
    """Translate what paramiko or the socket layer raised into one operator-readable error."""
    import paramiko

    where = location(settings)
    host, port, timeout = settings.host, settings.port, settings.connect_timeout
    if isinstance(exc, _UnknownHostKey):
        fp = exc.key.fingerprint
        if settings.host_key.strip():
            return SftpError(
                f"host key refused: the server presents {exc.key.get_name()} {fp} but host_key pins "
                f"{settings.host_key.strip()}. Either the server's key changed or this is not the server you "
                f"expect; once its administrator confirms the new key, pin it: {_pin_command(context, fp)}",
                where, step=HOST_KEY)
        return SftpError(
            f"host key not known (not in {verified_by}): the server presents {exc.key.get_name()} {fp}. "
            f"Confirm that fingerprint with the server's administrator, then pin it: {_pin_command(context, fp)}",
            where, step=HOST_KEY)
    if isinstance(exc, paramiko.BadHostKeyException):
        fp = exc.key.fingerprint
        return SftpError(
            f"host key CHANGED: {verified_by} has {exc.expected_key.get_name()} {exc.expected_key.fingerprint} "
            f"but the server presents {exc.key.get_name()} {fp}. This may be an attack (someone between you and "
            f"the server) or a reinstalled server; confirm with its administrator before trusting it: "
            f"{_pin_command(context, fp)}", where, step=HOST_KEY)
    if isinstance(exc, paramiko.BadAuthenticationType):
        return SftpError(f"authentication failed for user {settings.username!r}: the server does not accept "
                         f"this method (it accepts: {', '.join(exc.allowed_types)})", where, step=AUTHENTICATE)
    if isinstance(exc, paramiko.AuthenticationException):
        why = "no answer in time" if "timeout" in str(exc).lower() else (
            "wrong password or key, or the key is not in the account's authorized_keys")
        return SftpError(f"authentication failed for user {settings.username!r} ({why})", where, step=AUTHENTICATE)
    if isinstance(exc, socket.gaierror):
        return SftpError(f"cannot resolve host name {host!r} ({exc.strerror}): check the host setting and DNS",
                         where)
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError | ConnectionRefusedError):
        return SftpError(f"connection refused: is an SSH server listening on port {port}? (check host and port)",
                         where, transient=reconnecting)
    if isinstance(exc, TimeoutError | socket.timeout):
        return SftpError(f"no answer within {timeout:g}s (a firewall, or a wrong host or port?)", where,
                         transient=reconnecting)
    if isinstance(exc, paramiko.SSHException) and any(
            m in str(exc) for m in ("banner", "No existing session", "Negotiation failed")):
        return SftpError(f"no SSH handshake within {timeout:g}s: is port {port} an SSH server?", where,
                         transient=reconnecting)
    if isinstance(exc, EOFError | ConnectionError):
        return SftpError("the server closed the connection during the SSH handshake", where,
                         transient=reconnecting)
    if isinstance(exc, OSError):
        return SftpError(f"cannot connect: {exc.strerror or exc}", where, transient=reconnecting)
    return SftpError(f"SSH negotiation failed: {exc}", where, transient=reconnecting)


@contextmanager
def open_session(settings: Any, context: Any, *, reconnecting: bool = False) -> Iterator[Session]:
    """Connect, verify the host key, authenticate and start SFTP; close everything on exit.

    ``reconnecting`` (a retry after a dropped connection) makes a refused, reset or silent server a
    transient error, worth another retry. On a first connect the run fails at once with the reason
    (a wrong host or port, a server down): the next scheduled run tries again.
    """
    import paramiko

    password, pkey, method = _credentials(settings)
    client, verified_by = _host_key_client(settings)
    timeout = settings.connect_timeout
    try:
        try:
            client.connect(
                settings.host, port=settings.port, username=settings.username, password=password, pkey=pkey,
                timeout=timeout, banner_timeout=timeout, auth_timeout=timeout, channel_timeout=timeout,
                allow_agent=False, look_for_keys=False,
            )
            sftp = client.open_sftp()
        except (_UnknownHostKey, paramiko.SSHException, OSError, EOFError) as exc:
            raise _connect_error(exc, settings, context, verified_by, reconnecting) from None
        sftp.get_channel().settimeout(settings.idle_timeout)
        key = client.get_transport().get_remote_server_key()
        yield Session(sftp, f"{key.get_name()} {key.fingerprint}", verified_by, method)
    finally:
        client.close()


def remote_error(exc: BaseException, where: str, *, step: str, what: str) -> SourceError:
    """An error raised by an SFTP operation (list, stat, read, rename) as an SftpError.

    The server's "no such file" and "permission denied" are permanent; anything else on an open
    session (reset, EOF, idle timeout) means the connection was lost, which a retry may cure. A
    :class:`SourceError` (a local drop box's files explain their own errors) is returned as it is.
    """
    if isinstance(exc, SourceError):
        return exc
    code = getattr(exc, "errno", None)
    if code == errno.ENOENT:
        return SftpError(f"{what}: not found on the server (check remote_path)", where, step=step)
    if code in (errno.EACCES, errno.EPERM):
        return SftpError(f"{what}: permission denied for this account", where, step=step)
    if isinstance(exc, TimeoutError | socket.timeout):
        return SftpError(f"{what}: no data for the idle_timeout, connection treated as lost", where, step=step,
                         transient=True)
    reason = str(exc) or type(exc).__name__
    return SftpError(f"{what}: connection lost ({reason})", where, step=step, transient=True)
