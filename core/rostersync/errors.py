"""One exception hierarchy: every message names what went wrong, where, and how to fix it.

The CLI prints ``str(error)`` without a traceback for these; anything else is a bug.
"""

from __future__ import annotations


class RostersyncError(Exception):
    """Base of every error rostersync reports to an operator."""

    exit_code = 1


class ConfigError(RostersyncError):
    """The configuration (file, CLI arguments, settings) is wrong; nothing was synced."""

    exit_code = 2


class SourceError(RostersyncError):
    """A source could not be read: a transport failure or bad input data.

    ``location`` says where: ``users.csv:12:orgSourcedIds`` for files, the URL for APIs.
    """

    def __init__(self, message: str, location: str | None = None) -> None:
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


class DataError(SourceError):
    """A record failed validation; ``location`` is ``file:line[:field]``. ``sourced_id`` and ``value``
    (the record's id and the refused value, when the format knows them) are for the run report only:
    neither is part of the message."""

    def __init__(self, message: str, file: str, line: int | None = None, field: str | None = None, *,
                 sourced_id: str | None = None, value: str | None = None) -> None:
        self.file, self.line, self.field = file, line, field
        self.sourced_id, self.value = sourced_id, value
        where = file if line is None else f"{file}:{line}"
        if field:
            where = f"{where}:{field}"
        super().__init__(message, where)


class NothingNew(RostersyncError):
    """Raised by a transport when the source holds nothing new since the last successful run
    (e.g. the same SFTP drop). The run is recorded as ``skipped``, the roster untouched, exit 0."""

    exit_code = 0
