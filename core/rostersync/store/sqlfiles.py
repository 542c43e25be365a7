"""The SQLite files rostersync writes (the database, its staging files): private, identifiers quoted."""

from __future__ import annotations

import os
from pathlib import Path


def q(name: str) -> str:
    """Quote an identifier for SQL (identifiers are never bound parameters)."""
    return '"' + name.replace('"', '""') + '"'


def create_private(path: Path) -> None:
    """Create ``path`` readable by its owner only, before SQLite opens it."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
