"""``sftp-csv``: OneRoster or Clever CSV drops that an SIS uploads to an SFTP server.

The settings class is reusable: a connector for one SIS that drops files on SFTP can register its
own :class:`~rostersync.connector.Connector` of kind ``sftp`` with :class:`SftpSettings` (or a
subclass with other defaults) and inherit everything the ``sftp`` transport does.
"""

from __future__ import annotations

from pathlib import Path

import attrs
from rostersync import hookimpl
from rostersync.connector import Connector, setting
from rostersync.secrets import SecretRef

FORMATS = ("auto", "oneroster-1.1", "oneroster-1.2", "clever")


def _choice(help: str, choices: tuple[str, ...], default: str) -> str:
    """A string setting limited to ``choices`` (checked when the config is read or edited)."""
    return attrs.field(default=default, validator=attrs.validators.in_(choices), kw_only=True,
                       metadata={"help": f"{help} ({' | '.join(choices)})", "secret": False})


@attrs.frozen
class SftpSettings:
    host: str = setting("SFTP server host name or address")
    username: str = setting("Account on the SFTP server")
    remote_path: str = setting("Folder on the server the SIS drops its files into, e.g. /exports/roster")
    port: int = setting("SSH port", default=22)
    password: SecretRef | None = setting("Password (env:NAME or file:PATH)", default=None, secret=True)
    private_key: SecretRef | None = setting(
        "Private key: file:PATH to an OpenSSH/PEM key file (mode 600) or env:NAME holding the key text",
        default=None, secret=True)
    key_passphrase: SecretRef | None = setting("Passphrase of an encrypted private key", default=None, secret=True)
    file_pattern: str = setting(
        "Which files make a drop: *.csv (a folder of CSV files, or dated sub-folders of them) or *.zip "
        "(each zip file is a drop)", default="*.csv")
    format: str = _choice("Format of the files", FORMATS, "auto")
    host_key: str = setting(
        "Pinned host key fingerprint (SHA256:...), instead of known_hosts; rostersync check shows it",
        default="")
    known_hosts: Path = setting("known_hosts file the server's host key is verified against",
                                default=Path("~/.ssh/known_hosts"))
    marker_file: str = setting(
        "File the SIS writes when a drop is complete, e.g. done.txt in the drop folder, or {drop}.done "
        "next to a zip; empty: a drop is complete when its files stop changing", default="")
    settle_seconds: float = setting(
        "Without a marker file: seconds between the two looks that must see the same sizes and times",
        default=10.0)
    connect_timeout: float = setting("Seconds to wait for the connection, the SSH banner and authentication",
                                     default=30.0)
    idle_timeout: float = setting("Seconds a transfer may stall before the connection counts as lost",
                                  default=60.0)
    retries: int = setting("Reconnect this many times when the connection drops mid-download", default=3)
    retry_wait: float = setting("Seconds before the first reconnect (doubling each time)", default=2.0)
    archive: bool = setting("After a successful sync, move the imported drop into archive/ on the server",
                            default=False)
    max_unzipped_mb: int = setting("Refuse a zip drop that unpacks to more than this many MB", default=4096)
    demographics: bool = setting("Also import demographics (sensitive; off unless needed)", default=False)


SFTP_CSV = Connector(
    name="sftp-csv",
    title="OneRoster or Clever CSV drops on SFTP",
    kind="sftp",
    settings=SftpSettings,
    docs=(
        "Pulls the newest complete drop from an SFTP server: a folder of CSV files (overwritten in place, "
        "as Clever-style exports do, or one dated sub-folder per export) or a zip file per export. A drop "
        "counts as complete when a marker file says so, or when its files keep the same size and time "
        "across two looks settle_seconds apart; newer drops still being written are left for a later run. "
        "The drop imported last is remembered, so an unchanged drop is skipped (sync --full re-imports it). "
        "The server's host key must be in known_hosts or pinned with host_key=SHA256:...; an unknown or "
        "changed key is refused. Authenticate with a password or a private key (secret references only)."
    ),
)


@hookimpl
def rostersync_register_connectors(register):  # type: ignore[no-untyped-def]
    register(SFTP_CSV)
