"""Transport for connectors of kind ``local-folder``: a OneRoster CSV bundle in a folder on this machine
(e.g. where an SFTP server drops a district's files)."""

from __future__ import annotations

from collections.abc import Iterator

from rostersync import hookimpl
from rostersync.batches import RawBatch
from rostersync.connector import Connector, FetchContext
from rostersync.csvbundle import read_bundle

KIND = "local-folder"


@hookimpl
def rostersync_fetch(connector: Connector, context: FetchContext) -> Iterator[RawBatch] | None:
    if connector.kind != KIND:
        return None
    settings = context.settings
    return read_bundle(settings.path, getattr(settings, "format", "auto"),
                       demographics=getattr(settings, "demographics", False))
