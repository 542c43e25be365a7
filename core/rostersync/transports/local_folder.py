"""Transport for connectors of kind ``local-folder``: a OneRoster CSV bundle in a folder on this machine
(e.g. where an SFTP server drops a district's files)."""

from __future__ import annotations

from collections.abc import Iterator

from rostersync import hookimpl
from rostersync.batches import RawBatch
from rostersync.connector import Connector, FetchContext
from rostersync.csvbundle import read_oneroster_bundle

KIND = "local-folder"


def _fetch(context: FetchContext) -> Iterator[RawBatch]:
    settings = context.settings
    for batch in read_oneroster_bundle(settings.path):
        if batch.entity == "demographics" and not getattr(settings, "demographics", False):
            continue
        yield batch


@hookimpl
def rostersync_fetch(connector: Connector, context: FetchContext) -> Iterator[RawBatch] | None:
    if connector.kind != KIND:
        return None
    return _fetch(context)
