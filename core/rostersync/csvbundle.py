"""Read a folder of CSV files as raw batches: streaming, with line numbers, never a whole file in memory.

Transports that deliver files (a local folder, an SFTP drop, a zip) hand the folder to
:func:`read_oneroster_bundle`, which checks the manifest against the files present and yields
:class:`~rostersync.batches.RawBatch` objects in dependency order.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from rostersync.batches import RawBatch
from rostersync.errors import DataError, SourceError

BATCH_ROWS = 5000
ONEROSTER_11 = "oneroster-1.1-csv"

#: OneRoster 1.1 CSV files rostersync maps, in dependency order, with their canonical entity.
ONEROSTER_FILES: dict[str, str] = {
    "orgs.csv": "orgs",
    "academicSessions.csv": "academic_sessions",
    "courses.csv": "courses",
    "classes.csv": "classes",
    "users.csv": "users",
    "enrollments.csv": "enrollments",
    "demographics.csv": "demographics",
}
MODES = ("bulk", "delta", "absent")

csv.field_size_limit(16 * 1024 * 1024)


def read_csv_batches(path: Path, *, format: str, entity: str, mode: str = "bulk",
                     batch_rows: int = BATCH_ROWS) -> Iterator[RawBatch]:
    """Yield batches of ``(line, fields)`` rows; every row must have as many fields as the header.

    Always yields at least one batch (possibly empty), so a header-only file still declares its
    entity as present: an empty bulk file is a statement ("no rows"), not silence.
    """
    name = path.name
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, strict=True)
            try:
                header = tuple(h.strip() for h in next(reader))
            except StopIteration:
                raise DataError("file is empty: a header row is required", name, 1) from None
            width = len(header)
            rows: list[tuple[int, list[str]]] = []
            emitted = False
            for fields in reader:
                line = reader.line_num
                if len(fields) != width:
                    if not fields or fields == [""]:
                        continue  # a blank line, e.g. at the end of the file
                    raise DataError(
                        f"row has {len(fields)} fields but the header has {width} "
                        f"(a missing or extra comma, or an unquoted comma inside a value)",
                        name, line,
                    )
                rows.append((line, fields))
                if len(rows) >= batch_rows:
                    yield RawBatch(format, entity, name, rows, mode, header)
                    rows, emitted = [], True
            if rows or not emitted:
                yield RawBatch(format, entity, name, rows, mode, header)
    except csv.Error as exc:
        raise DataError(f"malformed CSV: {exc}", name, reader.line_num) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"not valid UTF-8 (byte {exc.start}): save the file as UTF-8", name) from None
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror}", str(path)) from None


def read_manifest(folder: Path) -> dict[str, str]:
    """``manifest.csv`` as a dict of propertyName -> value."""
    path = folder / "manifest.csv"
    if not path.is_file():
        raise SourceError(
            "manifest.csv is missing: a OneRoster CSV bundle must include it "
            "(it says which files are bulk, delta or absent)", str(folder)
        )
    props: dict[str, str] = {}
    for batch in read_csv_batches(path, format="manifest", entity="manifest"):
        if batch.header[:2] != ("propertyName", "value"):
            raise DataError("header must be propertyName,value", "manifest.csv", 1)
        for _line, fields in batch.rows:
            props[fields[0].strip()] = fields[1].strip()
    return props


def bundle_plan(folder: Path) -> list[tuple[str, str, str]]:
    """(file name, entity, mode) for each file the manifest declares bulk or delta, in dependency order.

    A file the manifest promises but the folder lacks, or the reverse, is an error naming both.
    """
    if not folder.is_dir():
        raise SourceError("folder not found (check the connector's path setting)", str(folder))
    manifest = read_manifest(folder)
    plan = []
    for name, entity in ONEROSTER_FILES.items():
        key = f"file.{name.removesuffix('.csv')}"
        mode = manifest.get(key, "absent").lower() or "absent"
        if mode not in MODES:
            raise DataError(f"{key} is {mode!r}; expected one of bulk, delta, absent", "manifest.csv")
        present = (folder / name).is_file()
        if mode != "absent" and not present:
            raise SourceError(f"manifest.csv declares {key}={mode} but {name} is not in the bundle", str(folder))
        if mode == "absent" and present:
            raise SourceError(
                f"{name} is in the bundle but manifest.csv declares {key}=absent (or omits it); "
                f"fix the manifest or remove the file", str(folder)
            )
        if mode != "absent":
            plan.append((name, entity, mode))
    return plan


def read_oneroster_bundle(folder: Path, batch_rows: int = BATCH_ROWS) -> Iterator[RawBatch]:
    """Every declared OneRoster 1.1 file of ``folder`` as raw batches, in dependency order."""
    for name, entity, mode in bundle_plan(folder):
        yield from read_csv_batches(folder / name, format=ONEROSTER_11, entity=entity, mode=mode,
                                    batch_rows=batch_rows)


FORMATS = ("auto", "oneroster-1.1")


def read_bundle(folder: Path, format: str = "auto", *, demographics: bool = False) -> Iterator[RawBatch]:
    """The one entry point for file-based transports (local folder, SFTP drop, zip): a folder of
    roster files in ``format`` as raw batches. Demographics are skipped unless asked for (opt-in)."""
    if format not in FORMATS:
        raise SourceError(f"unknown bundle format {format!r} (known: {', '.join(FORMATS)})", str(folder))
    for batch in read_oneroster_bundle(folder):
        if batch.entity == "demographics" and not demographics:
            continue
        yield batch
