"""Where the PostgreSQL store lives and how it connects: a URL without a password, the password as a
secret reference (``[database] password = "env:PGPASS"``), and a short-lived connection per operation.

A connection per operation, not one per store: a sync spends most of its time fetching from the SIS
(minutes, for a large district), and a connection held open across that is idle capacity that a
database of many workers runs out of, or that a firewall drops mid-run. Connecting costs a few
milliseconds on a LAN; a run makes a few dozen calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from rostersync.errors import ConfigError
from rostersync.secrets import SecretRef, redact

if TYPE_CHECKING:
    import psycopg

CONNECT_TIMEOUT = 10  # seconds: a database that does not answer fails the command, never hangs it


def import_psycopg() -> Any:
    """psycopg, or a ConfigError saying which extra to install."""
    try:
        import psycopg
    except ImportError:
        raise ConfigError("PostgreSQL support is not installed: pip install 'rostersync[postgres]'") from None
    return psycopg


def conninfo_of(url: str) -> str:
    """A libpq URL from ours (``postgresql+psycopg://`` is accepted as ``postgresql://``); one that
    carries a password is refused, without repeating it: the password belongs in a secret reference."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0].lower() not in ("postgresql", "postgres"):
        raise ConfigError("a PostgreSQL database is a URL: postgresql://USER@HOST[:PORT]/DATABASE")
    parts = urlsplit(f"postgresql://{rest}")
    if parts.password is not None:
        raise ConfigError("the database URL holds a password: remove it from the URL and set "
                          "[database] password = \"env:NAME\" (or file:PATH) in the configuration")
    if not parts.path.strip("/"):
        raise ConfigError("the database URL names no database: postgresql://USER@HOST[:PORT]/DATABASE")
    return f"postgresql://{rest}"


class Database:
    """How to reach one PostgreSQL database: :meth:`connect` gives a new connection each time."""

    def __init__(self, url: str, password: SecretRef | None = None) -> None:
        self.url = conninfo_of(url)
        self.password = password
        self.name = urlsplit(self.url).path.strip("/")

    def kwargs(self) -> dict[str, Any]:
        """libpq keyword arguments besides the URL (the password, revealed now: never stored)."""
        extra: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT, "application_name": "rostersync"}
        if self.password is not None:
            extra["password"] = self.password.reveal()
        return extra

    def open(self, *, autocommit: bool = False) -> psycopg.Connection[Any]:
        psycopg = import_psycopg()
        try:
            return psycopg.connect(self.url, autocommit=autocommit, **self.kwargs())
        except psycopg.OperationalError as exc:
            reason = redact(str(exc).strip()).splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"{self.url}: cannot connect to PostgreSQL: {reason}") from None

    @contextmanager
    def connect(self, *, autocommit: bool = False) -> Iterator[psycopg.Connection[Any]]:
        """A connection for one operation: committed when the block ends, rolled back on an error,
        closed either way."""
        conn = self.open(autocommit=autocommit)
        with conn:
            yield conn
