"""Limits that keep a hostile zip from exhausting disk, memory or time, for the one reader that
streams a zip's members in place (:mod:`rostersync.bundlefiles`), whether the zip is local or an SFTP
drop (which may set a lower total with ``max_unzipped_mb``).

A zip bomb is a small archive that inflates to far more than any roster: deflate reaches ~1000:1 on
repetitive data, so a 10 MB download can hold 10 GB. Roster CSV files compress 5-20:1 in practice
(repeated school ids and blank columns), so a member inflating more than :data:`MAX_RATIO` times
its compressed size is refused, as is an archive whose declared sizes add up to more than
:data:`MAX_UNZIPPED_BYTES`. Declared sizes are enough to trust here: Python's zipfile never returns
more bytes than a member declares (and fails its CRC check if the data disagrees), and that read
error is turned into a :class:`~rostersync.errors.SourceError` by :class:`GuardedMember`.

Symbolic-link entries are refused too: no export tool puts links in a roster zip.
"""

from __future__ import annotations

import io
import stat
import zipfile
import zlib
from collections.abc import Iterable

from rostersync.errors import SourceError

#: the most a whole archive may inflate to (a district of a million students is ~1 GB of CSV)
MAX_UNZIPPED_BYTES = 4 * 1024**3
#: the most a member may inflate relative to its compressed size
MAX_RATIO = 100
#: members smaller than this are not ratio-checked (tiny files compress oddly, and cannot hurt)
RATIO_FLOOR = 1024 * 1024


def check_member(info: zipfile.ZipInfo, location: str) -> None:
    """Refuse a link entry, or one that inflates implausibly (a zip bomb)."""
    if stat.S_ISLNK(info.external_attr >> 16):
        raise SourceError(f"refusing zip entry {info.filename!r}: it is a symbolic link", location)
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise SourceError(
            f"refusing zip entry {info.filename!r}: it inflates {info.compress_size:,} bytes to "
            f"{info.file_size:,} (more than {MAX_RATIO}:1; roster files compress far less), which is what a "
            f"zip bomb looks like", location)


def check_total(infos: Iterable[zipfile.ZipInfo], location: str, max_bytes: int | None = None,
                setting: str = "") -> None:
    """Refuse an archive whose members add up to more than ``max_bytes`` (default
    :data:`MAX_UNZIPPED_BYTES`) unpacked."""
    if max_bytes is None:
        max_bytes = MAX_UNZIPPED_BYTES
    declared = sum(i.file_size for i in infos)
    if declared > max_bytes:
        hint = f" ({setting})" if setting else ""
        raise SourceError(f"the zip unpacks to {declared:,} bytes, over the limit of {max_bytes:,}{hint}", location)


class GuardedMember(io.RawIOBase):
    """A zip member's byte stream whose read errors (bad CRC, corrupt deflate data, truncated
    archive) are :class:`SourceError` naming the member, never a library exception."""

    def __init__(self, member: zipfile.ZipExtFile, name: str, location: str) -> None:
        super().__init__()
        self._member, self._name, self._location = member, name, location
        self._position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._member.read(len(buffer))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
            raise SourceError(f"cannot read {self._name} from the zip (damaged archive?): {exc}",
                              self._location) from None
        buffer[:len(data)] = data
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        try:
            self._member.close()
        finally:
            super().close()
