"""The rosters the conformance kit syncs, and where a drop of one goes on a server or in a folder.

A connector is synced from a **reference bundle**: by default :func:`kit_district`, cut from the
sample district shipped with rostersync (OneRoster 1.1 CSV): Lincoln Elementary (``sch-lincoln``)
with its first 40 students, their parents and guardians, every teacher, course and class, and the
enrollments among them (about 120 users and 300 enrollments: several pages of each, and quick to
sync five times per connector). A connector whose files are Clever CSV gets a small Clever district
(six files; a copy of the test suite's ``tests/data/clever/district``). Any other bundle can be
given (:class:`KitBundle`). What the connector stores must equal what ``csv-folder`` stores from
the same bundle, row for row.

:func:`lay_out_drop` writes a bundle as an SIS drops it: the files in a folder, or one zip named by
the connector's ``file_pattern``, with its ``marker_file`` written last when it has one.
"""

from __future__ import annotations

import csv
import fnmatch
import shutil
import zipfile
from importlib import resources
from pathlib import Path

import attrs

from rostersync.demo import sample_bundle


@attrs.frozen
class KitBundle:
    """A roster bundle, its format (``oneroster-1.1`` or ``clever``) and the org ids of the kit's school."""

    path: Path
    format: str
    org_ids: tuple[str, ...]


def sample_district() -> KitBundle:
    """The whole sample district's Lincoln Elementary (384 users, 1,032 enrollments)."""
    return KitBundle(sample_bundle(), "oneroster-1.1", ("sch-lincoln",))


KIT_SCHOOL = "sch-lincoln"
KIT_STUDENTS = 40


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)


def _ids(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def kit_district(folder: Path, students: int = KIT_STUDENTS) -> KitBundle:
    """Write the kit's district into ``folder`` (see the module docstring) and return it: a consistent
    cut of the sample (every reference points at a row that is kept)."""
    source = sample_bundle()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "manifest.csv", folder / "manifest.csv")
    shutil.copy2(source / "academicSessions.csv", folder / "academicSessions.csv")
    header, orgs = _read(source / "orgs.csv")
    _write(folder / "orgs.csv", header, [o for o in orgs if o["sourcedId"] == KIT_SCHOOL or o["type"] == "district"])
    for name, column in (("courses.csv", "orgSourcedId"), ("classes.csv", "schoolSourcedId")):
        header, rows = _read(source / name)
        _write(folder / name, header, [r for r in rows if r[column] == KIT_SCHOOL])
    header, users = _read(source / "users.csv")
    here = [u for u in users if KIT_SCHOOL in _ids(u["orgSourcedIds"])]
    kept_students = {u["sourcedId"] for u in here if u["role"] == "student"}
    kept_students = set(sorted(kept_students)[:students])
    keep = {u["sourcedId"] for u in here if u["role"] not in ("student", "parent", "guardian")} | kept_students
    keep |= {u["sourcedId"] for u in here if u["role"] in ("parent", "guardian")
             and set(_ids(u["agentSourcedIds"])) & kept_students}
    kept = [{**u, "agentSourcedIds": ",".join(a for a in _ids(u["agentSourcedIds"]) if a in keep)}
            for u in here if u["sourcedId"] in keep]
    _write(folder / "users.csv", header, kept)
    _header, classes = _read(folder / "classes.csv")
    class_ids = {c["sourcedId"] for c in classes}
    header, enrollments = _read(source / "enrollments.csv")
    _write(folder / "enrollments.csv", header, [e for e in enrollments if e["userSourcedId"] in keep
                                                 and e["classSourcedId"] in class_ids])
    return KitBundle(folder, "oneroster-1.1", (KIT_SCHOOL,))


def clever_district() -> KitBundle:
    return KitBundle(Path(str(resources.files("rostersync.testing") / "data" / "clever")), "clever", ("S1",))


def bundle_for(file_format: str, folder: Path) -> KitBundle | None:
    """The reference bundle for a connector whose ``format`` setting defaults to ``file_format`` (the kit's
    district is written into ``folder`` the first time); None for a format the kit has no bundle in (a
    vendor layout's column map, OneRoster 1.2 CSV): its author passes one."""
    if file_format == "clever":
        return clever_district()
    if file_format not in ("", "auto", "oneroster-1.1"):
        return None
    if (folder / "users.csv").exists():
        return KitBundle(folder, "oneroster-1.1", (KIT_SCHOOL,))
    return kit_district(folder)


def _name_for(pattern: str) -> str:
    """A file name ``pattern`` matches, as an SIS would date it (``roster_*.zip`` -> ``roster_20260901.zip``)."""
    name = pattern.replace("*", "20260901").replace("?", "0")
    if not fnmatch.fnmatch(name.lower(), pattern.lower()):  # character classes: keep it simple, say so
        raise ValueError(f"the kit cannot make a file name matching {pattern!r}")
    return name


def lay_out_drop(bundle: KitBundle, folder: Path, file_pattern: str, marker_file: str) -> list[Path]:
    """Write ``bundle`` into ``folder`` as one drop: a zip when ``file_pattern`` ends in ``.zip``, else
    the files themselves (those ``file_pattern`` matches; the bundle must hold some), then the marker
    (``{drop}`` replaced by the drop's name). Returns the paths written, marker last."""
    folder.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in bundle.path.iterdir() if p.is_file())
    written: list[Path] = []
    if file_pattern.lower().endswith(".zip"):
        target = folder / _name_for(file_pattern)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in files:
                zf.write(path, path.name)
        written.append(target)
        drop = target.name
    else:
        matching = [p for p in files if fnmatch.fnmatch(p.name.lower(), file_pattern.lower())]
        if not matching:
            raise ValueError(f"none of the reference bundle's files matches file_pattern {file_pattern!r}")
        for path in files:  # the whole bundle (manifest.csv too): the pattern only says what makes a drop
            written.append(Path(shutil.copy2(path, folder / path.name)))
        drop = folder.name
    if marker_file:
        marker = folder / marker_file.replace("{drop}", drop)
        marker.write_text("complete\n", encoding="utf-8")
        written.append(marker)
    return written
