"""Logging that cannot leak secrets: a filter that redacts every revealed secret from each record.

Libraries log too (paramiko, httpx); the filter sits on the root logger's handlers, so their
records pass through it as well. A record's traceback (``logger.exception``, ``exc_info=True``) is
formatted and redacted too, and so is the traceback Python prints for an unexpected exception (a
bug): an exception message built by a library may quote a secret.
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

from rostersync.secrets import redact


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:  # the formatter uses exc_text once it is set
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def redacting_excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    """Print an uncaught exception's traceback (a bug: rostersync's own errors never get here) with
    every revealed secret blanked out."""
    sys.stderr.write(redact("".join(traceback.format_exception(kind, value, tb))))


def setup_logging(verbosity: int) -> None:
    """Log to stderr (warnings by default, -v info, -vv debug) through a redacting handler.

    The filter sits on the handler, not a logger, so records from every library's logger pass it.
    """
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_rostersync", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler._rostersync = True  # type: ignore[attr-defined]
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
    sys.excepthook = redacting_excepthook
    root.setLevel(logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG)
