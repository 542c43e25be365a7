"""``sftp-csv`` and ``sftp-dropbox``: OneRoster or Clever CSV drops, pulled from an SFTP server or uploaded by
the district into a school's drop box on this machine. The same drop rules both ways."""

from __future__ import annotations

from rostersync import hookimpl
from rostersync.connector import Connector
from rostersync.transports.dropbox import DropBoxSettings
from rostersync.transports.sftp_settings import SftpSettings

DROP_RULES = (
    "The newest complete drop is imported: a folder of CSV files (overwritten in place, as Clever-style exports "
    "do, or one dated sub-folder per export) or a zip file per export. A drop counts as complete when a marker "
    "file says so, or when its files keep the same size and time across two looks settle_seconds apart; newer "
    "drops still being written are left for a later run. The drop imported last is remembered, so an unchanged "
    "drop, or the same bytes uploaded again, is skipped (sync --full re-imports it). A vendor's own CSV export "
    "is read through its column map (format=tyler-sis-dw...)."
)

SFTP_CSV = Connector(
    name="sftp-csv",
    title="OneRoster or Clever CSV drops on SFTP",
    kind="sftp",
    settings=SftpSettings,
    docs=(
        f"Pulls drops from an SFTP server. {DROP_RULES} The server's host key must be in known_hosts or pinned "
        "with host_key=SHA256:...; an unknown or changed key is refused. Authenticate with a password or a "
        "private key (secret references only)."
    ),
)

SFTP_DROPBOX = Connector(
    name="sftp-dropbox",
    title="OneRoster or Clever CSV uploaded to a drop box here",
    kind="dropbox",
    settings=DropBoxSettings,
    docs=(
        f"Receives drops: the district uploads into the school's drop box on this machine. {DROP_RULES} "
        "`rostersync dropbox create SCHOOL` makes the school an sftp-only, chrooted account on this machine's "
        "OpenSSH, enables this connector on its upload folder and prints what to send the district. Links in "
        "the folder are never followed, and a file an upload still holds open is never imported."
    ),
)


@hookimpl
def rostersync_register_connectors(register):  # type: ignore[no-untyped-def]
    register(SFTP_CSV)
    register(SFTP_DROPBOX)
