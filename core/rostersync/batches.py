"""What flows through a sync: raw batches (fetch -> map) and mapped batches (map -> staging)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import attrs

from rostersync.errors import DataError
from rostersync.issues import Issue
from rostersync.model import Record

#: ``bulk``: the batches of this entity together are its full state (what is missing gets deleted).
#: ``delta``: only changed records; deletions come as records with status ``tobedeleted``.
Mode = Literal["bulk", "delta"]


@attrs.frozen
class RawBatch:
    """Rows as a transport read them, before any validation.

    ``format`` names the wire format (``oneroster-1.1-csv``, ``oneroster-1.1-json``...), ``entity``
    the canonical entity (``users``), ``location`` where the rows came from (a file name or a URL).
    For CSV formats ``rows`` holds ``(line_number, fields)`` pairs and ``header`` the column names.
    ``warnings`` (e.g. "read as cp1252") and ``errors`` (rows the reader could not split into fields,
    left out of ``rows``) are the reader's findings; a format plugin passes both on in its MappedBatch.
    """

    format: str
    entity: str
    location: str
    rows: Sequence[Any]
    mode: Mode = "bulk"
    header: tuple[str, ...] = ()
    warnings: Sequence[str | Issue] = ()
    errors: Sequence[DataError] = ()


@attrs.frozen
class MappedBatch:
    """Canonical records ready for staging; ``warnings`` are rows skipped or repaired, each an
    :class:`~rostersync.issues.Issue` (a plain string is taken as an issue with only a message).

    ``lines`` (parallel to ``records``, when the source has lines) lets later checks such as
    duplicate detection name ``file:line``. ``errors`` are rows that failed validation (left out of
    ``records``): a sync refuses the batch (:meth:`raise_errors`), ``rostersync validate`` lists them all.
    """

    entity: str
    location: str
    records: Sequence[Record]
    mode: Mode = "bulk"
    warnings: Sequence[str | Issue] = ()
    lines: Sequence[int] = ()
    errors: Sequence[DataError] = ()

    def raise_errors(self) -> None:
        """Raise the first row error, saying how many more this batch has."""
        if not self.errors:
            return
        first = self.errors[0]
        if len(self.errors) == 1:
            raise first
        message = str(first).removeprefix(f"{first.location}: ")
        raise DataError(f"{message} (and {len(self.errors) - 1} more invalid row(s) in {first.file}; "
                        f"rostersync validate lists them all)", first.file, first.line, first.field)
