"""Where rostersync keeps the roster: the store interface (:mod:`rostersync.store.base`), the SQLite
store (:mod:`rostersync.store.sqlite`), and :func:`open_store`, the one place a store is opened.

Store backends are plugins registered by URL scheme (``rostersync_register_stores``): the configured
database is a file path or ``sqlite:///PATH`` (built in), or e.g. ``postgresql://...`` once a plugin
registers that scheme. Nothing heavy is imported here: every command imports this package.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rostersync.errors import ConfigError

if TYPE_CHECKING:
    from rostersync.secrets import SecretRef
    from rostersync.store.base import Store, StoreBackend

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def scheme_of(target: str | os.PathLike[str]) -> str:
    """The backend a database target names: its URL scheme (``postgresql+psycopg`` counts as
    ``postgresql``), or ``sqlite`` for a plain file path."""
    text = os.fspath(target)
    match = _SCHEME.match(text)
    if match is None or len(match[1]) == 1:  # a path, or a Windows drive letter
        return "sqlite"
    return match[1].split("+", 1)[0].lower()


def shown(target: str | os.PathLike[str]) -> str:
    """``target`` as messages may show it: a URL's password masked."""
    text = os.fspath(target)
    if scheme_of(text) == "sqlite":
        return text
    from urllib.parse import urlsplit

    parts = urlsplit(text)
    if parts.password is None:
        return text
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def backend_for(target: str | os.PathLike[str]) -> StoreBackend:
    """The installed backend for ``target``'s scheme; a ConfigError naming the installed ones if none."""
    from rostersync.plugins import get_store_backends

    backends = get_store_backends()
    scheme = scheme_of(target)
    if scheme not in backends:
        raise ConfigError(f"no installed store handles {scheme}: databases (installed: {', '.join(backends)}); "
                          f"install the plugin providing it")
    return backends[scheme]


def open_store(target: str | os.PathLike[str], *, upgrade: bool | None = None,
               password: SecretRef | None = None) -> Store:
    """Open the database ``target`` (a path or URL; ``password``: the configured secret reference, for a
    server) with the backend registered for its scheme, checked:

    * a newer schema than this rostersync knows is refused (upgrade rostersync);
    * an older one is upgraded when ``upgrade`` is True, or None and the backend upgrades on open
      (SQLite does), and refused otherwise, asking for ``rostersync db upgrade``;
    * a damaged one (a table or column missing) is refused, naming what is missing.

    Every refusal is a :class:`~rostersync.errors.ConfigError`; the store is closed before it is raised.
    """
    backend = backend_for(target)
    store = backend.connect(os.fspath(target), password)
    try:
        version = store.schema_version()
        if version.pending:
            if version.pending > 0 and not (backend.upgrades_on_open if upgrade is None else upgrade):
                raise ConfigError(f"{shown(target)}: database schema version {version.current} is older than "
                                  f"this rostersync ({version.latest}): run rostersync db upgrade")
            store.upgrade()  # refuses a newer database
        store.verify_schema()
    except BaseException:
        store.close()
        raise
    return store


@contextmanager
def inspect_store(target: str | os.PathLike[str], password: SecretRef | None = None) -> Iterator[Store]:
    """``target`` opened without upgrading or checking its schema, closed on leaving (``rostersync db
    version``/``upgrade``: they report or change the schema version themselves)."""
    store = backend_for(target).connect(os.fspath(target), password)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def store_at(target: str | os.PathLike[str], *, upgrade: bool | None = None,
             password: SecretRef | None = None) -> Iterator[Store]:
    """:func:`open_store` as a context manager: the store is closed on leaving, whatever happens."""
    store = open_store(target, upgrade=upgrade, password=password)
    try:
        yield store
    finally:
        store.close()
