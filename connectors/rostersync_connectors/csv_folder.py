"""``csv-folder``: sync a roster bundle (OneRoster 1.1/1.2 CSV or Clever CSV) from a folder or .zip on this
machine."""

from __future__ import annotations

from pathlib import Path

import attrs
from rostersync import hookimpl
from rostersync.connector import Connector, setting


@attrs.frozen
class CsvFolderSettings:
    path: Path = setting("Folder (or .zip) holding the roster files, e.g. where an SFTP server drops them")
    format: str = setting("Bundle format: auto | oneroster-1.1 | oneroster-1.2 | clever (auto: manifest.csv "
                          "means OneRoster, its oneroster.version says which; Clever's file names mean Clever)",
                          default="auto")
    demographics: bool = setting("Also import demographics (sensitive; off unless needed)", default=False)
    on_duplicate: str = setting("A sourcedId sent twice: error (refuse the run) or skip (keep the first, warn)",
                                default="error")
    on_dangling: str = setting("A row referring to a missing class/user/course/school: skip (warn) or error",
                               default="skip")
    on_no_school: str = setting("A student with no school among its orgs: skip (warn) or error", default="skip")

    def __attrs_post_init__(self) -> None:
        from rostersync.csvbundle import check_format  # lazily: plugin modules load on every command
        from rostersync.integrity import CheckPolicy

        check_format(self.format)
        CheckPolicy.from_settings(self)


CSV_FOLDER = Connector(
    name="csv-folder",
    title="Roster CSV files (OneRoster 1.1/1.2 or Clever) in a local folder or zip",
    kind="local-folder",
    settings=CsvFolderSettings,
    docs=(
        "Reads a roster bundle from a folder or a .zip (files at its top level or in one folder), e.g. the "
        "folder an SFTP server drops a district's nightly export into. OneRoster 1.1 and 1.2 CSV: "
        "manifest.csv says which files are bulk (the full state of their entity), delta (changed rows with "
        "status active/tobedeleted) or absent (leave the entity alone); all 14 1.1 files are read, the "
        "gradebook and resource files into tables of their own. Clever CSV: schools, students, teachers, "
        "staff (optional), sections and enrollments, always a full snapshot; courses and terms are derived "
        "from sections, students' contacts become guardians. Every missing required file is reported at "
        "once, before anything is imported. 'rostersync validate PATH' runs every check without a database."
    ),
)


@hookimpl
def rostersync_register_connectors(register):  # type: ignore[no-untyped-def]
    register(CSV_FOLDER)
