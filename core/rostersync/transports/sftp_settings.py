"""Settings of the ``sftp`` transport: the base class of every connector that pulls drops over SFTP.

An SIS that drops files on SFTP registers its own :class:`~rostersync.connector.Connector` of kind
``sftp`` with :class:`SftpSettings` or a subclass of it (other defaults: file pattern, marker file,
format) and inherits everything the transport does. The drop rules' settings come from
:class:`~rostersync.transports.drop_settings.DropSettings`, shared with the ``dropbox`` kind; this
class adds the connection. Kept apart from the transport so that listing connectors never imports
paramiko.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from rostersync.connector import positive, setting
from rostersync.secrets import SecretRef
from rostersync.transports.drop_settings import DropSettings


@attrs.frozen
class SftpSettings(DropSettings):
    """What every ``sftp`` connector is configured with; an SIS connector subclasses it for its own defaults."""

    host: str = setting("SFTP server host name or address")
    username: str = setting("Account on the SFTP server")
    remote_path: str = setting("Folder on the server the SIS drops its files into, e.g. /exports/roster")
    port: int = setting("SSH port", default=22, validator=positive)
    password: SecretRef | None = setting("Password (env:NAME or file:PATH)", default=None, secret=True)
    private_key: SecretRef | None = setting(
        "Private key: file:PATH to an OpenSSH/PEM key file (mode 600) or env:NAME holding the key text",
        default=None, secret=True)
    key_passphrase: SecretRef | None = setting("Passphrase of an encrypted private key", default=None, secret=True)
    host_key: str = setting(
        "Pinned host key fingerprint (SHA256:...), instead of known_hosts; rostersync check shows it",
        default="")
    known_hosts: Path = setting("known_hosts file the server's host key is verified against",
                                default=Path("~/.ssh/known_hosts"))
    connect_timeout: float = setting("Seconds to wait for the connection, the SSH banner and authentication",
                                     default=30.0)
    idle_timeout: float = setting("Seconds a transfer may stall before the connection counts as lost",
                                  default=60.0)
    retries: int = setting("Reconnect this many times when the connection drops mid-download", default=3)
    retry_wait: float = setting("Seconds before the first reconnect (doubling each time)", default=2.0)
