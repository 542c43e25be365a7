"""What flows between the hooks: raw batches (fetch -> map) and mapped batches (map -> load)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import attrs

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
    """

    format: str
    entity: str
    location: str
    rows: Sequence[Any]
    mode: Mode = "bulk"
    header: tuple[str, ...] = ()


@attrs.frozen
class MappedBatch:
    """Canonical records ready for the destination; ``warnings`` are rows skipped or repaired.

    ``lines`` (parallel to ``records``, when the source has lines) lets later checks such as
    duplicate detection name ``file:line``.
    """

    entity: str
    location: str
    records: Sequence[Record]
    mode: Mode = "bulk"
    warnings: Sequence[str] = ()
    lines: Sequence[int] = ()
