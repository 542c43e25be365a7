"""Logging that cannot leak secrets: a filter that redacts every revealed secret from each record.

Libraries log too (paramiko, httpx); the filter sits on the root logger's handlers, so their
records pass through it as well.
"""

from __future__ import annotations

import logging

from rostersync.secrets import redact


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


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
    root.setLevel(logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG)
