"""What the server keeps between requests: the config (re-read when the file changes) and how to
open the store.

Parsing a config of a thousand schools takes longer than rendering a page, so the parsed config and
its schools are kept until the file's size or modification time changes: an operator's
``rostersync enable`` (or an edit by hand) shows on the next page without a restart. The store is
opened per request in a worker thread (SQLite connections belong to the thread that opened them;
a PostgreSQL store would pool), without re-checking the schema ``serve`` checked when it started.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import attrs

from rostersync.config import Config, School
from rostersync.store.base import Store
from rostersync.web.security import Access, LoginThrottle

T = TypeVar("T")


class ConfigCache:
    """The config at ``path``, parsed again only when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._config: Config | None = None
        self._schools: dict[str, School] = {}

    def _current(self) -> tuple[Config, dict[str, School]]:
        st = os.stat(self.path)
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        with self._lock:
            if stamp != self._stamp or self._config is None:
                config = Config.load(self.path)
                self._config, self._schools, self._stamp = config, config.schools(), stamp
            return self._config, self._schools

    @property
    def config(self) -> Config:
        return self._current()[0]

    def schools(self) -> dict[str, School]:
        """Every configured school by id (a shared dict: do not change it)."""
        return self._current()[1]


@attrs.define
class WebState:
    """Everything a request handler needs besides the request."""

    configs: ConfigCache
    access: Access
    throttle: LoginThrottle = attrs.Factory(LoginThrottle)

    def with_store(self, work: Callable[[Store], T]) -> T:
        """Run ``work`` with the configured database open (call it in a worker thread). Opened without
        the schema checks: ``serve`` checked (and upgraded) the database once, when it started."""
        from rostersync.store import inspect_store

        with inspect_store(self.configs.config.database, self.configs.config.database_password) as store:
            return work(store)


def state_of(request: Any) -> WebState:
    return request.app.state.web  # type: ignore[no-any-return]
