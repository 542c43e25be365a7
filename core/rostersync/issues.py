"""A problem found in a run's data, kept structured from where it is found to where it is read.

What (``code``, ``message``), where (``file``, ``line``, ``column``: the header name), which record
(``entity``, ``sourced_id``) and how bad (``level``). The staging area keeps a run's issues as rows,
the store keeps them with the run (``run_issues``), ``rostersync validate`` groups them by file and
column, and a run report can list them by record, all without parsing text back. ``str(issue)`` is the
line an operator reads, ``file:line:column: message``, the same text rostersync printed before
issues were structured.

Format plugins may still report plain strings (``MappedBatch.warnings``, ``FetchContext.warn``):
:meth:`Issue.of` turns one into an issue with only a message, whose text is the string itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from rostersync.errors import DataError, RostersyncError

#: the stored columns of an issue, in the order :meth:`Issue.row` and :meth:`Issue.from_row` use
COLUMNS = ("level", "code", "entity", "file", "line", "column", "sourced_id", "message", "value", "outcome")

#: what happened to the record an issue is about (``outcome``): left out because it was invalid, left out
#: by a check's ``skip`` policy, left out by a school's selective-sync rules; ``""``: kept (a warning only)
OUTCOMES = ("rejected", "skipped", "filtered", "")


@attrs.frozen
class Issue:
    """One warning or error about a run's data. ``code`` names the check (``dangling``, ``no_school``,
    ``duplicate``, ``cycle``, ``bulk_tobedeleted``...); empty for a plain message."""

    message: str
    level: str = "warning"  # warning | error
    code: str = ""
    entity: str | None = None
    file: str | None = None
    line: int | None = None
    column: str | None = None
    sourced_id: str | None = None
    #: the offending value, masked where it is sensitive (:func:`rostersync.masking.mask`), at write time
    value: str | None = None
    #: what happened to the record: one of :data:`OUTCOMES`
    outcome: str = ""

    @property
    def location(self) -> str:
        """``file:line:column`` (each part only when known), or ``""``."""
        where = self.file or ""
        if self.line is not None:
            where = f"{where}:{self.line}"
        if self.column:
            where = f"{where}:{self.column}"
        return where

    def __str__(self) -> str:
        where = self.location
        return f"{where}: {self.message}" if where else self.message

    @classmethod
    def of(cls, value: Issue | str) -> Issue:
        """An issue as it is, or a plain message (a plugin's string warning) as an issue."""
        return value if isinstance(value, Issue) else cls(str(value))

    @classmethod
    def from_error(cls, error: RostersyncError) -> Issue:
        """A refused row or file as an error-level issue (a DataError keeps its file, line and field)."""
        if isinstance(error, DataError):
            message = str(error).removeprefix(f"{error.location}: ")
            return cls(message, "error", "invalid", file=error.file, line=error.line, column=error.field or None,
                       sourced_id=error.sourced_id, value=error.value)
        location = getattr(error, "location", None)
        return cls(str(error).removeprefix(f"{location}: "), "error", file=location or None)

    def row(self) -> tuple[Any, ...]:
        """The stored row, in :data:`COLUMNS` order."""
        return (self.level, self.code, self.entity, self.file, self.line, self.column, self.sourced_id,
                self.message, self.value, self.outcome)

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Issue:
        level, code, entity, file, line, column, sourced_id, message, value, outcome = row
        return cls(message or "", level or "warning", code or "", entity, file, line, column, sourced_id, value,
                   outcome or "")
