"""The PostgreSQL store backend (``postgresql://USER@HOST[:PORT]/DATABASE``), and the commands that run
syncs as jobs on a queue in the same database (``rostersync worker``, ``enqueue``, ``jobs``).

Registered like any plugin, and light: psycopg and procrastinate are imported only when a PostgreSQL
database is opened or a queue command runs (``pip install rostersync[postgres]`` brings them), since
plugins load on every command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rostersync import hookimpl
from rostersync.store.base import StoreBackend

if TYPE_CHECKING:
    import click

    from rostersync.secrets import SecretRef
    from rostersync.store.base import Store


def _connect(target: str, password: SecretRef | None = None) -> Store:
    from rostersync.store.pg.database import import_psycopg
    from rostersync.store.pg.store import connect

    import_psycopg()  # a clear error when the extra is not installed
    return connect(target, password)


@hookimpl
def rostersync_register_stores(register: Callable[[StoreBackend], None]) -> None:
    register(StoreBackend(scheme="postgresql", title="PostgreSQL (postgresql://USER@HOST/DB): for many workers",
                          connect=_connect, upgrades_on_open=False))


@hookimpl
def rostersync_register_commands(cli: click.Group) -> None:
    from rostersync.queue.commands import enqueue, jobs, worker

    for command in (worker, enqueue, jobs):
        cli.add_command(command)
