"""A bundle reader's private scratch database: a temporary SQLite file for the joins a file format
leaves to its reader (rows that belong together but sit far apart, or in another file).

Holding such rows in a dict costs hundreds of bytes each and grows with the district; on disk and
indexed, memory stays bounded by a batch and each lookup is one query per :data:`CHUNK` keys. The
file is the reader's alone (inside its own temporary folder), so it is written without a journal
or fsync: if the process dies, the folder goes with it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

#: keys per lookup query (well under SQLite's limit on bound parameters)
CHUNK = 500


class ScratchIndex:
    """A scratch database with ``schema``; subclasses add the queries of their format."""

    def __init__(self, path: Path, schema: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.executescript(schema)

    def insert(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """``executemany`` in one transaction (one per batch, not one per row)."""
        self.conn.execute("BEGIN")
        self.conn.executemany(sql, rows)
        self.conn.execute("COMMIT")

    def lookup(self, sql: str, keys: Sequence[str], *params: Any) -> list[tuple[Any, ...]]:
        """The rows of ``sql`` for ``keys``: its ``{}`` becomes the placeholders of up to :data:`CHUNK`
        keys at a time, bound after ``params``."""
        found: list[tuple[Any, ...]] = []
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start:start + CHUNK]
            found += self.conn.execute(sql.format(", ".join("?" * len(chunk))), [*params, *chunk]).fetchall()
        return found

    def close(self) -> None:
        self.conn.close()
