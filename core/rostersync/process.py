"""Process-wide tuning for a program that runs syncs: set once by the program, never by library code.

The ``rostersync`` command (and a worker, or an application embedding rostersync) calls :func:`tune`
once at start-up. Library modules never change interpreter-wide state on import or during a run: an
application that imports rostersync keeps its own csv limits, sqlite3 adapters and collector settings.
Each setting here is what a sync of a large district needs; none changes a result, only its cost or
the longest field a CSV file may hold.
"""

from __future__ import annotations

import csv
import sqlite3

from rostersync.bundlefiles import MAX_FIELD


def tune() -> None:
    """Apply rostersync's process-wide settings (idempotent)."""
    # roster values are names, ids and dates, but a resource description may run to a few KB and
    # Python's default limit (131,072 characters) is close enough to hit: MAX_FIELD bounds hostile input
    csv.field_size_limit(MAX_FIELD)
    # Python's sqlite3 binds str/int/float directly but sends every other value, None included, through
    # its adapter lookup, which fails by raising and clearing two AttributeErrors: ~1 us per NULL. Staged
    # rows are mostly NULLs (optional columns), so that lookup was half the cost of staging a row. A
    # registered adapter for None is found in the first dict lookup and binds NULL exactly as before.
    sqlite3.register_adapter(type(None), _null)


def _null(value: None) -> None:
    return value
