"""``csv-folder``: sync a OneRoster 1.1 CSV bundle from a folder on this machine."""

from __future__ import annotations

from pathlib import Path

import attrs
from rostersync import hookimpl
from rostersync.connector import Connector, setting


@attrs.frozen
class CsvFolderSettings:
    path: Path = setting("Folder holding manifest.csv and the OneRoster CSV files")
    demographics: bool = setting("Also import demographics.csv (sensitive; off unless needed)", default=False)


CSV_FOLDER = Connector(
    name="csv-folder",
    title="OneRoster CSV in a local folder",
    kind="local-folder",
    settings=CsvFolderSettings,
    docs=(
        "Reads a OneRoster 1.1 CSV bundle (manifest.csv plus orgs, academicSessions, courses, classes, "
        "users, enrollments and optionally demographics) from a folder, e.g. the folder an SFTP server "
        "drops a district's nightly export into. Files declared bulk in manifest.csv are the full state "
        "of their entity; delta files carry changed rows with status active/tobedeleted; absent files "
        "leave their entity alone."
    ),
)


@hookimpl
def rostersync_register_connectors(register):  # type: ignore[no-untyped-def]
    register(CSV_FOLDER)
