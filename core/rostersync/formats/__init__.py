"""Wire formats: what turns a transport's raw rows into canonical records.

Format plugins register :class:`Format` objects through ``rostersync_register_formats``; the host
keeps them in a dict keyed by name (``oneroster-1.1-csv``, ``oneroster-1.2-json``, ``clever-csv``...)
and refuses a second format of a taken name, naming both packages. A transport names the format of
each :class:`~rostersync.batches.RawBatch` it yields; the engine hands the batch to that format's
``map``, once per batch.

A format that is also a file layout of its own (a vendor CSV export described by a column map, see
:mod:`rostersync.formats.column_map`) carries a :class:`BundleReader`: how a folder or zip in that
layout is checked and read. The ``format`` setting of every file-based connector accepts its name, so
a connector selects it by registry name, never by string dispatch in the transports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from rostersync.errors import SourceError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rostersync.batches import MappedBatch, RawBatch
    from rostersync.bundlefiles import Bundle
    from rostersync.formats.oneroster_bundle import BundlePlan

#: map(batch): validate one raw batch into canonical records; invalid rows go to ``MappedBatch.errors``
Map = Callable[["RawBatch"], "MappedBatch | None"]
#: plan(bundle): check a bundle's make-up (every missing file at once) and say what to read; reads no row
Plan = Callable[["Bundle"], "BundlePlan"]
#: read(bundle, plan, *, demographics): the bundle's raw batches in dependency order, streamed
Read = Callable[..., "Iterator[RawBatch]"]


@attrs.frozen
class BundleReader:
    """How a file bundle in a format's own layout is planned and read (what
    :func:`rostersync.csvbundle.read_bundle` does for OneRoster and Clever bundles)."""

    plan: Plan
    read: Read


@attrs.frozen
class Format:
    """One wire format. ``map`` raises :class:`~rostersync.errors.DataError` for a problem with the
    whole file (a broken header) and returns invalid rows in ``MappedBatch.errors`` (a sync refuses a
    batch with errors; ``rostersync validate`` lists them all); columns it does not map go to each
    record's ``extra``. ``bundle``: set by a format that is a file layout of its own (a column map),
    whose name the ``format`` setting of file sources then accepts. ``package``/``version`` are
    filled in by the host."""

    name: str
    title: str
    map: Map
    bundle: BundleReader | None = attrs.field(default=None, kw_only=True)
    package: str = ""
    version: str = ""


def map_raw(formats: dict[str, Format], raw: RawBatch) -> MappedBatch:
    """Map one raw batch with the format it names (``formats``: :func:`rostersync.plugins.get_formats`)."""
    fmt = formats.get(raw.format)
    if fmt is None:
        raise SourceError(f"no installed format plugin reads {raw.format!r} (installed: {', '.join(formats)})",
                          raw.location)
    mapped = fmt.map(raw)
    if mapped is None:
        raise SourceError(f"format {raw.format} cannot read {raw.entity} records", raw.location)
    return mapped
