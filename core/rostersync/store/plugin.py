"""The built-in store backend: SQLite, for a database given as a file path or ``sqlite:///PATH``.

Registered like any store plugin; the store itself (and sqlite-utils) is imported only when a
database is opened, since plugins load on every command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rostersync import hookimpl
from rostersync.store.base import StoreBackend

if TYPE_CHECKING:
    from rostersync.secrets import SecretRef
    from rostersync.store.base import Store


def _connect(target: str, password: SecretRef | None = None) -> Store:
    from rostersync.errors import ConfigError
    from rostersync.store.sqlite import connect

    if password is not None:
        raise ConfigError(f"{target}: an SQLite database has no password; remove [database] password")
    return connect(target)


@hookimpl
def rostersync_register_stores(register: Callable[[StoreBackend], None]) -> None:
    register(StoreBackend(scheme="sqlite", title="SQLite file (a path, or sqlite:///PATH): the default",
                          connect=_connect, upgrades_on_open=True))
