"""``sftp-csv`` and ``sftp-dropbox``: OneRoster or Clever CSV drops, pulled from an SFTP server or uploaded
by the district into a drop box on this machine (one profile, both directions)."""

from __future__ import annotations

from rostersync import hookimpl
from rostersync.transports.drop_profile import drop_connectors

SFTP_CSV, SFTP_DROPBOX = drop_connectors(
    "sftp-csv",
    "OneRoster or Clever CSV drops",
    "Imports the newest complete drop: a folder of CSV files (overwritten in place, as Clever-style exports "
    "do, or one dated sub-folder per export) or a zip file per export. A drop counts as complete when a marker "
    "file says so, or when its files keep the same size and time across two looks settle_seconds apart; newer "
    "drops still being written are left for a later run. The drop imported last is remembered, so an unchanged "
    "drop, or the same bytes uploaded again, is skipped (sync --full re-imports it); archive=true moves an "
    "imported drop into archive/ once the sync has committed.",
    receive_name="sftp-dropbox",
)


@hookimpl
def rostersync_register_connectors(register):  # type: ignore[no-untyped-def]
    register(SFTP_CSV)
    register(SFTP_DROPBOX)
