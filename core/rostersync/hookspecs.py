"""The hooks rostersync calls. One documented spec per concern; plugins implement them with ``hookimpl``.

A sync of one source runs fetch -> map -> load, **per batch** (thousands of rows): pluggy's call cost is
fine per batch and ruinous per row. Built-in transports, formats and the SQLite destination implement
these same hooks and are loaded through the ``rostersync`` entry-point group, like third-party plugins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from rostersync.batches import MappedBatch, RawBatch
    from rostersync.connector import CheckStep, Connector, FetchContext
    from rostersync.store.sqlite import StagingArea

hookspec = pluggy.HookspecMarker("rostersync")
hookimpl = pluggy.HookimplMarker("rostersync")


@hookspec
def rostersync_register_connectors(register: Callable[[Connector], None]) -> None:
    """Register connectors by calling ``register(Connector(...))`` once for each.

    A connector is a named, configurable source (an SIS, or a generic kind such as ``csv-folder``).
    The host refuses a second connector with a name already taken, loudly.
    """


@hookspec(firstresult=True)
def rostersync_fetch(connector: Connector, context: FetchContext) -> Iterable[RawBatch] | None:
    """Return an iterable of raw batches for ``connector``, or None when its kind is not yours.

    Called once per sync of a source; the iterable it returns is consumed lazily, batch by batch,
    so a transport streams (CSV rows read from disk, REST pages as they arrive) and never holds a
    whole district. Each batch names its entity, format, location and whether it is a full (bulk)
    or partial (delta) picture of the entity. Settings (already validated, secrets as references)
    are in ``context.settings``.
    """


@hookspec(firstresult=True)
def rostersync_check(connector: Connector, context: FetchContext) -> list[CheckStep] | None:
    """Check a source without touching the roster (``rostersync check SCHOOL``), or return None.

    Reach the server, authenticate, verify host keys or TLS, look for the data a sync would import
    and run the cheap validations (required files...). Return one :class:`CheckStep` per step, in
    order, stopping at the first failure; an operator reads them to see which step fails and why.
    """


@hookspec(firstresult=True)
def rostersync_map(batch: RawBatch) -> MappedBatch | None:
    """Turn one raw batch into canonical records, or return None when ``batch.format`` is not yours.

    Validation happens here: raise :class:`rostersync.errors.DataError` naming file, line and field
    for a problem with the whole file (a broken header), and return invalid rows as DataErrors in
    ``MappedBatch.errors`` (with the reader's ``batch.errors`` and ``batch.warnings`` passed on): a
    sync refuses a batch with errors, ``rostersync validate`` lists them all. Columns the format does
    not map are kept in each record's ``extra``.
    """


@hookspec(firstresult=True)
def rostersync_load(staging: StagingArea, batch: MappedBatch) -> int | None:
    """Write one batch of canonical records into the run's staging area; return the rows written.

    The default SQLite destination implements this with ``trylast=True``. Staged rows never touch
    the live roster: the store diffs and applies them in one transaction after the last batch.
    """
