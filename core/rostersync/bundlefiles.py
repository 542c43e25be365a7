"""Where a bundle's files come from (a folder or a .zip) and how each CSV file is read: streamed in
batches with line numbers, in whatever encoding it was saved in.

A zip is read in place (members are streamed, never extracted), so a hostile archive cannot write
outside a folder; entries with absolute or ``..`` paths are refused anyway, because no honest export
produces them. A zip may hold the files at its top level or inside one folder (what "compress this
folder" makes).

Encodings: UTF-8 with or without a BOM is the norm. Files saved by Excel or older SIS exports are
often Windows-1252; a file that is not valid UTF-8 is read as cp1252 (or latin-1, which accepts any
byte) and the run says so in a warning, because a wrong guess would garble names like "José". The
check is one streaming pass over the raw bytes before parsing (ASCII chunks are skipped at C speed),
so rows are never decoded twice and nothing is restarted half-way through a file.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from rostersync.batches import RawBatch
from rostersync.errors import DataError, SourceError

BATCH_ROWS = 5000
CHUNK = 1 << 20

csv.field_size_limit(16 * 1024 * 1024)


class Bundle:
    """A set of named files; names are matched case-insensitively (``Students.csv`` = ``students.csv``)."""

    location: str

    def __init__(self, location: str, names: list[str]) -> None:
        self.location = location
        self._by_lower = {n.lower(): n for n in names}

    def names(self) -> list[str]:
        return sorted(self._by_lower.values())

    def find(self, name: str) -> str | None:
        """The bundle's own spelling of ``name``, or None when it has no such file."""
        return self._by_lower.get(name.lower())

    def open(self, name: str) -> IO[bytes]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the archive, if any."""

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FolderBundle(Bundle):
    def __init__(self, folder: Path, names: list[str] | None = None) -> None:
        self.folder = folder
        if names is None:
            try:
                names = [p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
            except OSError as exc:
                raise SourceError(f"cannot list the folder: {exc.strerror}", str(folder)) from None
        super().__init__(str(folder), names)

    def open(self, name: str) -> IO[bytes]:
        try:
            return (self.folder / name).open("rb")
        except OSError as exc:
            raise SourceError(f"cannot read file: {exc.strerror}", str(self.folder / name)) from None


class ZipBundle(Bundle):
    def __init__(self, path: Path) -> None:
        try:
            self.zip = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile) as exc:
            raise SourceError(f"not a readable zip file: {exc}", str(path)) from None
        try:
            self.members = _zip_members(self.zip, str(path))
        except BaseException:
            self.zip.close()
            raise
        super().__init__(str(path), list(self.members))

    def open(self, name: str) -> IO[bytes]:
        try:
            return self.zip.open(self.members[name])
        except (zipfile.BadZipFile, RuntimeError, OSError) as exc:
            raise SourceError(f"cannot read {name} from the zip: {exc}", self.location) from None

    def close(self) -> None:
        self.zip.close()


def _zip_members(archive: zipfile.ZipFile, location: str) -> dict[str, str]:
    """File name -> member name, for files at the top level or inside a single top folder."""
    files: list[PurePosixPath] = []
    for info in archive.infolist():
        raw = info.filename
        path = PurePosixPath(raw.replace("\\", "/"))
        if raw.startswith(("/", "\\")) or (len(raw) > 1 and raw[1] == ":") or ".." in path.parts:
            raise SourceError(f"zip entry {raw!r} has an absolute or '..' path; refusing the archive", location)
        if info.is_dir() or path.parts[0] == "__MACOSX" or path.name.startswith("."):
            continue
        files.append(path)
    top = [p for p in files if len(p.parts) == 1]
    if not top:
        folders = {p.parts[0] for p in files}
        if len(folders) == 1:
            top = [p for p in files if len(p.parts) == 2]
    return {p.name: str(p) for p in top}


def open_bundle(path: Path) -> Bundle:
    """A folder of files, or a .zip of them."""
    path = Path(path)
    if path.is_dir():
        return FolderBundle(path)
    if path.is_file():
        if zipfile.is_zipfile(path):
            return ZipBundle(path)
        raise SourceError("is a file but not a zip archive: give a folder of CSV files or a .zip", str(path))
    raise SourceError("no such folder or zip file (check the connector's path setting)", str(path))


def sniff_encoding(bundle: Bundle, name: str) -> tuple[str, str | None]:
    """(encoding to read ``name`` with, warning or None). UTF-8 (BOM or not) passes silently."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    bad: int | None = None
    with bundle.open(name) as handle:
        while chunk := handle.read(CHUNK):
            pending = len(decoder.getstate()[0])
            if not pending and chunk.isascii():
                offset += len(chunk)
                continue
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                bad = offset - pending + exc.start
                break
            offset += len(chunk)
        else:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                bad = offset - len(decoder.getstate()[0])
    if bad is None:
        return "utf-8-sig", None
    line = _line_at(bundle, name, bad)
    encoding = "cp1252" if _decodes(bundle, name, "cp1252") else "latin-1"
    label = {"cp1252": "Windows-1252 (cp1252)", "latin-1": "Latin-1"}[encoding]
    return encoding, (f"{name}:{line}: not UTF-8 (first non-UTF-8 byte on this line); read as {label}. "
                      f"Check accented names and save the file as UTF-8")


def _line_at(bundle: Bundle, name: str, offset: int) -> int:
    line, seen = 1, 0
    with bundle.open(name) as handle:
        while seen < offset and (chunk := handle.read(min(CHUNK, offset - seen))):
            line += chunk.count(b"\n")
            seen += len(chunk)
    return line


def _decodes(bundle: Bundle, name: str, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    with bundle.open(name) as handle:
        try:
            while chunk := handle.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def read_csv(bundle: Bundle, name: str, *, format: str, entity: str, mode: str = "bulk",
             batch_rows: int = BATCH_ROWS) -> Iterator[RawBatch]:
    """Yield batches of ``(line, fields)`` rows of one file of ``bundle``.

    A row with more or fewer fields than the header is left out and reported in the batch's
    ``errors``; malformed quoting stops the file. Always yields at least one batch (possibly empty),
    so a header-only file still declares its entity: an empty bulk file is a statement ("no rows").
    """
    encoding, note = sniff_encoding(bundle, name)
    warnings = [note] if note else []
    reader = None
    try:
        with io.TextIOWrapper(bundle.open(name), encoding=encoding, newline="") as handle:
            reader = csv.reader(handle, strict=True)
            try:
                header = tuple(h.strip().lstrip("\ufeff") for h in next(reader))
            except StopIteration:
                raise DataError("file is empty: a header row is required", name, 1) from None
            width = len(header)
            rows: list[tuple[int, list[str]]] = []
            errors: list[DataError] = []
            emitted = False
            for fields in reader:
                if len(fields) != width:
                    if not fields or fields == [""]:
                        continue  # a blank line, e.g. at the end of the file
                    errors.append(DataError(
                        f"row has {len(fields)} fields but the header has {width} "
                        f"(a missing or extra comma, or an unquoted comma inside a value)",
                        name, reader.line_num,
                    ))
                    continue
                rows.append((reader.line_num, fields))
                if len(rows) >= batch_rows:
                    yield RawBatch(format, entity, name, rows, mode, header, warnings, errors)  # type: ignore[arg-type]
                    rows, errors, warnings, emitted = [], [], [], True
            if not emitted and not rows and mode == "bulk" and not errors:
                warnings.append(f"{name}: has a header but no rows: as a bulk file it says there are no "
                                f"{entity.replace('_', ' ')} (declare it absent to leave them alone)")
            if rows or errors or warnings or not emitted:
                yield RawBatch(format, entity, name, rows, mode, header, warnings, errors)  # type: ignore[arg-type]
    except csv.Error as exc:
        raise DataError(f"malformed CSV: {exc}", name, reader.line_num if reader else None) from None
    except UnicodeDecodeError as exc:  # only if the file changed between the sniff and the read
        raise DataError(f"cannot decode as {encoding}: {exc.reason}", name) from None


def read_csv_batches(path: Path, *, format: str, entity: str, mode: str = "bulk",
                     batch_rows: int = BATCH_ROWS) -> Iterator[RawBatch]:
    """:func:`read_csv` for one file on disk."""
    if not path.is_file():
        raise SourceError("cannot read file: No such file or directory", str(path))
    yield from read_csv(FolderBundle(path.parent, [path.name]), path.name, format=format, entity=entity,
                        mode=mode, batch_rows=batch_rows)
