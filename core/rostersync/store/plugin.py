"""The default destination: stage mapped batches in the run's SQLite staging area.

Imports the store lazily: every CLI command loads the plugins, and `connectors list` must not pay
for sqlite-utils.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rostersync import hookimpl

if TYPE_CHECKING:
    from rostersync.batches import MappedBatch


@hookimpl(trylast=True)
def rostersync_load(staging: Any, batch: MappedBatch) -> int | None:
    from rostersync.store.sqlite import StagingArea

    if not isinstance(staging, StagingArea):
        return None
    return staging.write(batch)
