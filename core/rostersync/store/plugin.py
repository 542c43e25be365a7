"""The default destination: stage mapped batches in the run's SQLite staging area."""

from __future__ import annotations

from rostersync import hookimpl
from rostersync.batches import MappedBatch
from rostersync.store.sqlite import StagingArea


@hookimpl(trylast=True)
def rostersync_load(staging: StagingArea, batch: MappedBatch) -> int | None:
    if not isinstance(staging, StagingArea):
        return None
    return staging.write(batch)
