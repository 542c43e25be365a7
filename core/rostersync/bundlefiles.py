"""Where a bundle's files come from (a folder or a .zip) and how each CSV file is read: streamed in
batches with line numbers, in whatever encoding it was saved in.

A zip is read in place (members are streamed, never extracted), so a hostile archive cannot write
outside a folder; entries with absolute or ``..`` paths are refused anyway, because no honest export
produces them. A zip may hold the files at its top level or inside one folder (what "compress this
folder" makes). This is the one zip reader: a local .zip and a zip drop downloaded over SFTP both
come here (the SFTP transport passes its own size limit and names the drop by its remote location).

Encodings: UTF-8 with or without a BOM is the norm. Files saved by Excel or older SIS exports are
often Windows-1252; a file that is not valid UTF-8 is read as cp1252 (or latin-1, which accepts any
byte) and the run says so in a warning, because a wrong guess would garble names like "José". The
check is one streaming pass over the raw bytes before parsing (ASCII chunks are skipped at C speed),
so rows are never decoded twice and nothing is restarted half-way through a file. A file that starts
with a UTF-16 or UTF-32 byte-order mark (Windows PowerShell's ``Out-File``, Excel's "Unicode text")
is read in that encoding. A NUL byte in any other file is refused, naming line and column: it means
UTF-16 without a byte-order mark or a binary file, and no roster value holds one.

Hostile input is bounded: a field longer than the csv module's limit (raised to :data:`MAX_FIELD`
characters by :func:`rostersync.process.tune`, which the CLI calls; Python's default is 131,072), a header of more than
:data:`MAX_COLUMNS` columns, a symbolic link in a drop folder (never followed: it could point
anywhere on this machine), two files whose names differ only in case, and zip archives that inflate
implausibly (:mod:`rostersync.zipsafety`) are refused with a message saying which. A batch holds at
most :data:`BATCH_ROWS` rows and about :data:`BATCH_BYTES` of input, so memory stays bounded however
long the rows are.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from rostersync.batches import RawBatch
from rostersync.errors import DataError, SourceError
from rostersync.issues import Issue
from rostersync.zipsafety import GuardedMember, check_member, check_total

BATCH_ROWS = 5000
#: a batch is cut early once it has consumed this much input (checked every 256 rows)
BATCH_BYTES = 64 * 1024 * 1024
CHUNK = 1 << 20
#: the longest field accepted, in characters: roster values are names, ids and dates; a resource
#: description is a few KB. Longer means a broken file (an unclosed quote swallowing the rest) or abuse.
MAX_FIELD = 1024 * 1024
#: the widest header accepted: OneRoster files have at most ~30 columns plus a district's metadata.*
MAX_COLUMNS = 1000



class Bundle:
    """A set of named files; names are matched case-insensitively (``Students.csv`` = ``students.csv``)."""

    location: str

    def __init__(self, location: str, names: list[str]) -> None:
        self.location = location
        self._by_lower: dict[str, str] = {}
        for name in sorted(names):
            other = self._by_lower.setdefault(name.lower(), name)
            if other != name:
                raise SourceError(f"holds both {other} and {name}: file names are matched in any case, so it is "
                                  f"ambiguous which to read; remove one", location)

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
    """The files of a folder. Symbolic links are listed (so a link named ``users.csv`` is reported, not
    mistaken for a missing file) but never opened: a link in a drop could point at any file on this
    machine. Files are opened with ``O_NOFOLLOW``, so one swapped for a link after listing is refused too."""

    def __init__(self, folder: Path, names: list[str] | None = None) -> None:
        self.folder = folder
        if names is None:
            try:
                names = [p.name for p in folder.iterdir()
                         if (p.is_symlink() or p.is_file()) and not p.name.startswith(".")]
            except OSError as exc:
                raise SourceError(f"cannot list the folder: {exc.strerror}", str(folder)) from None
        super().__init__(str(folder), names)

    def open(self, name: str) -> IO[bytes]:
        path = self.folder / name
        if path.is_symlink():
            raise SourceError("is a symbolic link; rostersync does not follow links in a roster folder (they "
                              "could point anywhere on this machine): copy the file in instead", str(path))
        try:
            return os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb")
        except OSError as exc:
            raise SourceError(f"cannot read file: {exc.strerror}", str(path)) from None


#: a lower limit on what an archive may inflate to: (bytes, the setting that says so, for messages)
ZipLimit = tuple[int, str]


class ZipBundle(Bundle):
    """The files of a zip, read in place. ``label`` names it in messages (default: its path)."""

    def __init__(self, path: Path, *, label: str | None = None, max_unzipped: ZipLimit | None = None) -> None:
        location = label or str(path)
        try:
            self.zip = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile, NotImplementedError, ValueError, EOFError) as exc:
            raise SourceError(f"not a readable zip file: {exc}", location) from None
        try:
            self.members = _zip_members(self.zip, location, max_unzipped)
        except BaseException:
            self.zip.close()
            raise
        super().__init__(location, list(self.members))

    def open(self, name: str) -> IO[bytes]:
        try:
            member = self.zip.open(self.members[name])
        except (zipfile.BadZipFile, RuntimeError, OSError, NotImplementedError, ValueError) as exc:
            raise SourceError(f"cannot read {name} from the zip: {exc}", self.location) from None
        return io.BufferedReader(GuardedMember(member, name, self.location), CHUNK)  # type: ignore[return-value]

    def close(self) -> None:
        self.zip.close()


def _zip_members(archive: zipfile.ZipFile, location: str, limit: ZipLimit | None = None) -> dict[str, str]:
    """File name -> member name, for files at the top level or inside a single top folder.

    Refuses the archive for an absolute or ``..`` path, a link, a member that inflates implausibly, a
    total size over the limit, or a name held twice (see :mod:`rostersync.zipsafety`)."""
    files: list[PurePosixPath] = []
    infos = archive.infolist()
    check_total(infos, location, *(limit or ()))
    seen: set[str] = set()
    for info in infos:
        raw = info.filename
        path = PurePosixPath(raw.replace("\\", "/"))
        if not raw:
            raise SourceError("the zip has an entry without a name; refusing the archive (damaged?)", location)
        if raw.startswith(("/", "\\")) or (len(raw) > 1 and raw[1] == ":") or ".." in path.parts:
            raise SourceError(f"zip entry {raw!r} has an absolute or '..' path; refusing the archive", location)
        if info.is_dir() or not path.parts or path.parts[0] == "__MACOSX" or path.name.startswith("."):
            continue
        check_member(info, location)
        if str(path) in seen:
            raise SourceError(f"the zip holds {raw!r} twice; refusing the archive (which one is current?)", location)
        seen.add(str(path))
        files.append(path)
    top = [p for p in files if len(p.parts) == 1]
    if not top:
        folders = {p.parts[0] for p in files}
        if len(folders) == 1:
            top = [p for p in files if len(p.parts) == 2]
    return {p.name: str(p) for p in top}


def open_bundle(path: Path, *, label: str | None = None, max_unzipped: ZipLimit | None = None) -> Bundle:
    """A folder of files, or a .zip of them. ``label`` names a zip in messages (an SFTP drop's remote
    location rather than its private local copy); ``max_unzipped`` lowers what a zip may inflate to."""
    path = Path(path)
    if path.is_dir():
        return FolderBundle(path)
    if path.is_file():
        if zipfile.is_zipfile(path):
            return ZipBundle(path, label=label, max_unzipped=max_unzipped)
        with path.open("rb") as handle:
            if handle.read(4) == b"PK\x03\x04":
                raise SourceError("looks like a zip archive but cannot be read: it is damaged or incomplete (an "
                                  "upload still in progress or cut off?)", label or str(path))
        raise SourceError("is a file but not a zip archive: give a folder of CSV files or a .zip", label or str(path))
    raise SourceError("no such folder or zip file (check the connector's path setting)", str(path))


#: byte-order marks of the wide encodings a file may be saved in (UTF-32's first: it starts like UTF-16's)
WIDE_BOMS = ((codecs.BOM_UTF32_LE, "utf-32", "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32", "utf-32-be"),
             (codecs.BOM_UTF16_LE, "utf-16", "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16", "utf-16-be"))


def sniff_encoding(bundle: Bundle, name: str) -> tuple[str, Issue | None]:
    """(encoding to read ``name`` with, warning or None). UTF-8 (BOM or not) and UTF-16/32 with a
    byte-order mark pass silently; a NUL byte in any other file is a :class:`DataError`."""
    with bundle.open(name) as handle:
        head = handle.read(4)
    for bom, wide, codec in WIDE_BOMS:
        if head.startswith(bom):
            _check_wide(bundle, name, codec, len(bom))
            return wide, None
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    bad: int | None = None
    with bundle.open(name) as handle:
        while chunk := handle.read(CHUNK):
            if (zero := chunk.find(b"\0")) >= 0:
                _refuse_nul(bundle, name, offset + zero)
            if bad is not None:
                offset += len(chunk)
                continue  # keep looking for NUL bytes only
            pending = len(decoder.getstate()[0])
            if not pending and chunk.isascii():
                offset += len(chunk)
                continue
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                bad = offset - pending + exc.start
            offset += len(chunk)
        if bad is None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                bad = offset - len(decoder.getstate()[0])
    if bad is None:
        return "utf-8-sig", None
    line = _line_at(bundle, name, bad)
    encoding = "cp1252" if _decodes(bundle, name, "cp1252") else "latin-1"
    label = {"cp1252": "Windows-1252 (cp1252)", "latin-1": "Latin-1"}[encoding]
    return encoding, Issue(f"not UTF-8 (first non-UTF-8 byte on this line); read as {label}. Check accented "
                           f"names and save the file as UTF-8", code="not_utf8", file=name, line=line)


def _check_wide(bundle: Bundle, name: str, codec: str, skip: int) -> None:
    """Decode a UTF-16/32 file once, so a broken sequence or a NUL character is refused naming its line."""
    decoder = codecs.getincrementaldecoder(codec)()
    line = 1
    with bundle.open(name) as handle:
        handle.read(skip)
        while True:
            chunk = handle.read(CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                line += codecs.decode(chunk[:exc.start], codec, "ignore").count("\n")
                raise DataError(f"cannot decode as {codec.upper()} ({exc.reason}): the file is damaged, or not in "
                                f"the encoding its byte-order mark says", name, line) from None
            if "\0" in text:
                line += text[:text.index("\0")].count("\n")
                raise DataError("contains a NUL character: roster files are text; save it as UTF-8 CSV", name, line)
            line += text.count("\n")
            if not chunk:
                return


def _refuse_nul(bundle: Bundle, name: str, offset: int) -> None:
    """Raise a DataError naming the line (and column, when the header has one there) of a NUL byte."""
    line = _line_at(bundle, name, offset)
    column = None
    with io.TextIOWrapper(bundle.open(name), encoding="latin-1", newline="") as handle:
        try:
            reader = csv.reader(handle)
            header = next(reader, [])
            for fields in reader if line > 1 else ():
                if reader.line_num >= line:
                    at = next((i for i, v in enumerate(fields) if "\0" in v), None)
                    column = header[at].strip() if at is not None and at < len(header) else None
                    break
        except csv.Error:
            pass  # the line is enough
    if column and "\0" in column:
        column = None
    raise DataError("contains a NUL byte (\\x00): roster files are text, so this is a binary file or UTF-16 "
                    "saved without a byte-order mark; save it as UTF-8 CSV", name, line, column or None)


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
    ``errors``; malformed quoting, an over-long field or an over-wide header stops the file. Always
    yields at least one batch (possibly empty), so a header-only file still declares its entity: an
    empty bulk file is a statement ("no rows").
    """
    encoding, note = sniff_encoding(bundle, name)
    warnings = [note] if note else []
    reader = None
    last = 1  # the line the previous record ended on: a record that never ends started after it
    try:
        with bundle.open(name) as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as handle:
            reader = csv.reader(handle, strict=True)
            try:
                header = tuple(h.strip().lstrip("\ufeff") for h in next(reader))
            except StopIteration:
                raise DataError("file is empty: a header row is required", name, 1) from None
            if not any(header):
                raise DataError("the first line is blank: the header row must come first", name, 1)
            width = len(header)
            if width > MAX_COLUMNS:
                raise DataError(f"the header has {width:,} columns; rostersync reads at most {MAX_COLUMNS:,} "
                                f"(is this a roster file?)", name, 1)
            last = reader.line_num
            rows: list[tuple[int, list[str]]] = []
            errors: list[DataError] = []
            emitted = False
            start = raw.tell()
            for fields in reader:
                last = reader.line_num
                if len(fields) != width:
                    if not fields or fields == [""]:
                        continue  # a blank line, e.g. at the end of the file
                    errors.append(DataError(
                        f"row has {len(fields)} fields but the header has {width} "
                        f"(a missing or extra comma, or an unquoted comma inside a value)",
                        name, reader.line_num,
                    ))
                else:
                    rows.append((reader.line_num, fields))
                size = len(rows) + len(errors)
                if size >= batch_rows or (not size % 256 and raw.tell() - start > BATCH_BYTES):
                    yield RawBatch(format, entity, name, rows, mode, header, warnings, errors)  # type: ignore[arg-type]
                    rows, errors, warnings, emitted = [], [], [], True
                    start = raw.tell()
            if not emitted and not rows and mode == "bulk" and not errors:
                warnings.append(Issue(f"has a header but no rows: as a bulk file it says there are no "
                                      f"{entity.replace('_', ' ')} (declare it absent to leave them alone)",
                                      code="empty_bulk", entity=entity, file=name))
            if rows or errors or warnings or not emitted:
                yield RawBatch(format, entity, name, rows, mode, header, warnings, errors)  # type: ignore[arg-type]
    except csv.Error as exc:
        raise _csv_error(exc, name, reader.line_num if reader else None, last) from None
    except UnicodeDecodeError as exc:  # only if the file changed between the sniff and the read
        raise DataError(f"cannot decode as {encoding}: {exc.reason}", name) from None


def _csv_error(exc: csv.Error, name: str, line: int | None, last: int) -> DataError:
    """The csv module's complaint, with what usually causes it."""
    text = str(exc)
    if text.startswith("field larger than field limit"):
        return DataError(f"a field is longer than {csv.field_size_limit():,} characters (an unclosed quote "
                         f"swallowing the lines after it, or not a roster file)", name, last + 1)
    if text == "unexpected end of data":
        return DataError(f"malformed CSV: a quoted field that starts on line {last + 1} or after is never closed "
                         f"(a missing closing '\"')", name, last + 1)
    return DataError(f"malformed CSV: {text}", name, line)


def read_csv_batches(path: Path, *, format: str, entity: str, mode: str = "bulk",
                     batch_rows: int = BATCH_ROWS) -> Iterator[RawBatch]:
    """:func:`read_csv` for one file on disk."""
    if not path.is_file():
        raise SourceError("cannot read file: No such file or directory", str(path))
    yield from read_csv(FolderBundle(path.parent, [path.name]), path.name, format=format, entity=entity,
                        mode=mode, batch_rows=batch_rows)
