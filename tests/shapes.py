"""Small roster bundles of the shapes real districts send, written by the tests themselves (no
third-party fixture is copied): a Clever drop or a OneRoster CSV bundle from Python rows, with the
line endings, final newline and encoding a legacy export uses."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

Rows = Sequence[Sequence[object]]


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]], *, newline: str = "\r\n",
              final_newline: bool = True, encoding: str = "utf-8") -> Path:
    """Write one CSV file; ``newline="\\r"`` and ``final_newline=False`` give a classic-Mac export."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerows([header, *rows])
    text = buffer.getvalue()
    if not final_newline:
        text = text.removesuffix(newline)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


CLEVER_HEADERS = {
    "schools.csv": ("School_id", "School_name", "School_number"),
    "teachers.csv": ("School_id", "Teacher_id", "Teacher_email", "First_name", "Last_name"),
    "students.csv": ("School_id", "Student_id", "First_name", "Last_name", "Grade", "DOB", "Contact_name",
                     "Contact_relationship", "Contact_sis_id"),
    "sections.csv": ("School_id", "Section_id", "Teacher_id", "Name", "Course_number", "Course_name", "Term_name",
                     "Term_start", "Term_end"),
    "enrollments.csv": ("School_id", "Section_id", "Student_id"),
}


def clever_drop(folder: Path, files: dict[str, Rows], headers: dict[str, Sequence[str]] | None = None,
                **style: object) -> Path:
    """A Clever drop in ``folder``: each file of ``files`` with :data:`CLEVER_HEADERS` (or ``headers``)."""
    for name, rows in files.items():
        header = (headers or {}).get(name) or CLEVER_HEADERS[name]
        write_csv(folder / name, header, rows, **style)  # type: ignore[arg-type]
    return folder


ONEROSTER_HEADERS = {
    "orgs.csv": ("sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"),
    "academicSessions.csv": ("sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate",
                             "parentSourcedId", "schoolYear"),
    "courses.csv": ("sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title", "courseCode",
                    "grades", "orgSourcedId", "subjects", "subjectCodes"),
    "classes.csv": ("sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId", "classCode",
                    "classType", "location", "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes",
                    "periods"),
    "users.csv": ("sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role", "username",
                  "userIds", "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone",
                  "agentSourcedIds", "grades", "password"),
    "enrollments.csv": ("sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId",
                        "userSourcedId", "role", "primary", "beginDate", "endDate"),
}
ONEROSTER_FILES = ("academicSessions", "categories", "classes", "classResources", "courses", "courseResources",
                   "demographics", "enrollments", "lineItems", "orgs", "resources", "results", "users")


def oneroster_bundle(folder: Path, files: dict[str, Rows], *, version: str = "1.1",
                     modes: dict[str, str] | None = None) -> Path:
    """A OneRoster 1.1 CSV bundle: ``files`` (name -> rows given by column name order of
    :data:`ONEROSTER_HEADERS`, padded with blanks) and a manifest declaring each bulk, the rest absent
    (``modes`` overrides, e.g. ``{"courses": "absent"}``)."""
    declared = {name.removesuffix(".csv"): "bulk" for name in files} | (modes or {})
    manifest = [("manifest.version", "1.0"), ("oneroster.version", version)]
    manifest += [(f"file.{n}", declared.get(n, "absent")) for n in ONEROSTER_FILES]
    write_csv(folder / "manifest.csv", ("propertyName", "value"), manifest)
    for name, rows in files.items():
        header = ONEROSTER_HEADERS[name]
        write_csv(folder / name, header, [[*r, *[""] * (len(header) - len(r))] for r in rows])
    return folder


def org(sid: str, name: str, kind: str, parent: str = "") -> tuple[str, ...]:
    return (sid, "", "", name, kind, "", parent)


def user(sid: str, role: str, orgs: str, given: str = "Ann", family: str = "Lee") -> tuple[str, ...]:
    return (sid, "", "", "true", orgs, role, sid, "", given, family)


def klass(sid: str, course: str, school: str, term: str = "term1") -> tuple[str, ...]:
    return (sid, "", "", f"Class {sid}", "", course, "", "scheduled", "", school, term)


def enrollment(sid: str, klass_id: str, school: str, user_id: str, role: str = "student") -> tuple[str, ...]:
    return (sid, "", "", klass_id, school, user_id, role)


TERM = ("term1", "", "", "Year 2026-27", "schoolYear", "2026-08-17", "2027-06-11", "", "2027")
