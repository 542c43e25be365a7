"""The drop rules' settings: what every source that imports *drops* (an SIS's export as files) shares.

Two kinds build on :class:`DropSettings`: ``sftp`` pulls drops from a district's SFTP server
(:class:`~rostersync.transports.sftp_settings.SftpSettings` adds the connection), ``dropbox`` receives
them in a folder on this machine (:class:`~rostersync.transports.dropbox.DropBoxSettings` adds the
folder). An SIS's defaults (format, file pattern, marker file) apply to both, so one SFTP profile
gives an SIS both directions (:func:`rostersync.profiles.sftp_connectors`).

Imported when plugins load: keep it free of heavy imports.
"""

from __future__ import annotations

import attrs

from rostersync.connector import positive, setting
from rostersync.settings import BundleSettings


@attrs.frozen
class DropSettings(BundleSettings):
    """Which files make a drop, when a drop is complete, and what happens to it once imported."""

    file_pattern: str = setting(
        "Which files make a drop: *.csv (a folder of CSV files, or dated sub-folders of them) or *.zip "
        "(each zip file is a drop)", default="*.csv")
    marker_file: str = setting(
        "File the SIS writes when a drop is complete, e.g. done.txt in the drop folder, or {drop}.done "
        "next to a zip; empty: a drop is complete when its files stop changing", default="")
    settle_seconds: float = setting(
        "Without a marker file: seconds between the two looks that must see the same sizes and times",
        default=10.0)
    archive: bool = setting("After a successful sync, move the imported drop into archive/ next to it",
                            default=False)
    max_unzipped_mb: int = setting("Refuse a zip drop that unpacks to more than this many MB", default=4096,
                                   validator=positive)
