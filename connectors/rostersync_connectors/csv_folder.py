"""``csv-folder``: sync a roster bundle (OneRoster 1.1/1.2 CSV or Clever CSV) from a folder or .zip on this
machine."""

from __future__ import annotations

from rostersync import hookimpl
from rostersync.connector import Connector
from rostersync.transports.local_folder import LocalFolderSettings

CSV_FOLDER = Connector(
    name="csv-folder",
    title="Roster CSV files (OneRoster 1.1/1.2 or Clever) in a local folder or zip",
    kind="local-folder",
    settings=LocalFolderSettings,
    docs=(
        "Reads a roster bundle from a folder or a .zip (files at its top level or in one folder), e.g. the "
        "folder an SFTP server drops a district's nightly export into. OneRoster 1.1 and 1.2 CSV: "
        "manifest.csv says which files are bulk (the full state of their entity), delta (changed rows with "
        "status active/tobedeleted) or absent (leave the entity alone); all 14 1.1 files are read, the "
        "gradebook and resource files into tables of their own. Clever CSV: schools, students, teachers, "
        "staff (optional), sections and enrollments, always a full snapshot; courses and terms are derived "
        "from sections, students' contacts become guardians. Every missing required file is reported at "
        "once, before anything is imported. A vendor's own CSV export (Tyler SIS's data-warehouse extract, "
        "Realtime's student file...) is read through its column map: set format to the map's name (e.g. "
        "tyler-sis-dw). 'rostersync validate PATH' runs every check without a database."
    ),
)


@hookimpl
def rostersync_register_connectors(register):  # type: ignore[no-untyped-def]
    register(CSV_FOLDER)
