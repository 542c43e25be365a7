"""What to send a district: where to connect, how to log in, and what to upload for the school's connector."""

from __future__ import annotations

from typing import Any

import attrs

ONEROSTER = ("manifest.csv and the files it lists as bulk or delta (orgs.csv, academicSessions.csv, courses.csv, "
             "classes.csv, users.csv, enrollments.csv, ...)")
CLEVER = "schools.csv, students.csv, teachers.csv, sections.csv and enrollments.csv (staff.csv optional)"
FORMATS = {"oneroster-1.1": f"OneRoster 1.1 CSV: {ONEROSTER}", "oneroster-1.2": f"OneRoster 1.2 CSV: {ONEROSTER}",
           "clever": f"Clever CSV: {CLEVER}",
           "auto": f"OneRoster 1.1 or 1.2 CSV ({ONEROSTER}), or Clever CSV ({CLEVER})"}


@attrs.frozen
class Details:
    """A drop box's connection details, as printed once by ``dropbox create`` and ``rotate``."""

    school: str
    host: str
    port: int
    username: str
    auth: str  # password | key
    password: str | None
    folder: str
    host_keys: tuple[str, ...]
    upload: tuple[str, ...]  # what to upload, line by line

    def as_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def lines(self) -> list[tuple[str, str]]:
        rows = [("host", self.host), ("port", str(self.port)), ("username", self.username)]
        if self.password is not None:
            rows.append(("password", self.password))
        elif self.auth == "key":
            rows.append(("login", "with the private key of the public key the district sent"))
        rows.append(("folder", f"{self.folder} (where they land; the only folder they can write to)"))
        rows += [("host key", key) for key in self.host_keys]
        rows += [("upload", line) for line in self.upload]
        return rows


def what_to_upload(settings: Any, folder: str) -> tuple[str, ...]:
    """The files the school's connector expects, in its format and layout, and how a drop counts as complete."""
    files = FORMATS.get(settings.format) or f"the {settings.format} export's files (read by its column map)"
    if settings.file_pattern.lower().endswith(".zip"):
        layout = f"each export as one zip file ({settings.file_pattern}) in {folder}, holding {files}"
        marker = settings.marker_file.replace("{drop}", "<zip name>")
    else:
        layout = (f"each export's files ({settings.file_pattern}) in {folder}, replacing the last ones, or in a new "
                  f"sub-folder per export (e.g. {folder}/2026-05-01): {files}")
        marker = settings.marker_file.replace("{drop}", "<folder name>")
    if settings.marker_file:
        done = f"when an export is complete, upload {marker} next to it: nothing is imported before"
    else:
        done = (f"an export is imported once its files have not changed for {settings.settle_seconds:g} seconds; "
                "one still uploading is left for the next run")
    return (layout, done)
