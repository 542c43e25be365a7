"""The hooks rostersync calls. One documented spec per concern; plugins implement them with ``hookimpl``.

Most hooks are **registries**: the host calls each plugin's implementation once with a ``register``
callback, keeps what is registered in a dict keyed by name, and refuses a second registration of a
taken name loudly, naming both packages (like llm's ``register_models``). Built-in transports,
formats and connectors are registered the same way, through the ``rostersync`` entry-point group.

What is registered is called **per batch** (thousands of rows), never per row: a transport's
``fetch`` yields raw batches, a format's ``map`` turns one raw batch into canonical records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from rostersync.connector import Connector
    from rostersync.formats import Format
    from rostersync.notify import Notifier
    from rostersync.store.base import StoreBackend
    from rostersync.transport import Transport

hookspec = pluggy.HookspecMarker("rostersync")
hookimpl = pluggy.HookimplMarker("rostersync")


@hookspec
def rostersync_register_connectors(register: Callable[[Connector], None]) -> None:
    """Register connectors by calling ``register(Connector(...))`` once for each.

    A connector is a named, configurable source (an SIS, or a generic kind such as ``csv-folder``)
    served by the transport of its ``kind``; its ``settings`` class must be (or subclass) that
    transport's settings class. The host refuses a connector whose name is taken or whose kind no
    installed transport provides, when plugins load.
    """


@hookspec
def rostersync_register_transports(register: Callable[[Transport], None]) -> None:
    """Register transports by calling ``register(Transport(...))`` once for each kind you serve.

    A transport fetches for every connector of its kind: ``fetch(connector, context)`` returns an
    iterable of :class:`~rostersync.batches.RawBatch`, consumed lazily so it streams (CSV rows read
    from disk, REST pages as they arrive) and never holds a whole district; ``check(connector,
    context)`` returns :class:`~rostersync.connector.CheckStep` objects for ``rostersync check``.
    ``context.settings`` is an instance of the connector's settings class, already validated.
    """


@hookspec
def rostersync_register_formats(register: Callable[[Format], None]) -> None:
    """Register wire formats by calling ``register(Format(...))`` once for each format name.

    ``map(batch)`` turns one raw batch of the format into a :class:`~rostersync.batches.MappedBatch`.
    Validation happens there: raise :class:`rostersync.errors.DataError` naming file, line and field
    for a problem with the whole file, and return invalid rows as DataErrors in ``MappedBatch.errors``
    (with the reader's ``batch.errors`` and ``batch.warnings`` passed on). A vendor CSV layout needs no
    code: register ``rostersync.formats.column_map.column_map_format(ColumnMap(...))``, whose ``bundle``
    reader lets file sources select it by name in their ``format`` setting.
    """


@hookspec
def rostersync_register_commands(cli: click.Group) -> None:
    """Add commands to the ``rostersync`` command line: ``@cli.command()`` or ``cli.add_command(...)``.

    Called once when the CLI starts. Keep imports inside the command functions so start-up stays fast.
    """


@hookspec
def rostersync_register_stores(register: Callable[[StoreBackend], None]) -> None:
    """Register store backends by calling ``register(StoreBackend(...))`` once for each URL scheme.

    A backend keeps the live roster, run history and holds in one kind of database, implementing
    :class:`rostersync.store.base.Store`; the configured database's scheme chooses it (``sqlite``, built
    in: a file path or ``sqlite:///PATH``; e.g. ``postgresql://...``). The host refuses a second
    backend for a taken scheme. Run ``tests/store_contract.py`` against a new backend.
    """


@hookspec
def rostersync_register_notifiers(register: Callable[[Notifier], None]) -> None:
    """Register notification channel kinds by calling ``register(Notifier(...))`` once for each kind.

    A :class:`~rostersync.notify.Notifier` has a ``kind`` (``email`` and ``webhook`` are built in), a typed
    ``settings`` class (secrets typed SecretRef) and ``send(settings, notification)``, which delivers one
    :class:`~rostersync.notify.Notification` or raises. Operators configure channels of the kind in
    ``[notify.NAME]``; the host calls ``send`` after every run whose status the channel wants (and for
    daily digests and ``rostersync notify test``), catches a failure, and logs it on the run: a failing
    channel never fails a sync. A registry rather than a broadcast hook: each channel is configured,
    validated, tested and logged on its own, and one plugin's failure cannot stop another's delivery.
    """
