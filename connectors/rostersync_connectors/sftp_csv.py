"""``sftp-csv``: OneRoster or Clever CSV drops that an SIS uploads to an SFTP server."""

from __future__ import annotations

from rostersync import hookimpl
from rostersync.connector import Connector
from rostersync.transports.sftp_settings import SftpSettings

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
        "changed key is refused. Authenticate with a password or a private key (secret references only). "
        "A vendor's own CSV export is read through its column map (format=tyler-sis-dw...)."
    ),
)


@hookimpl
def rostersync_register_connectors(register):  # type: ignore[no-untyped-def]
    register(SFTP_CSV)
