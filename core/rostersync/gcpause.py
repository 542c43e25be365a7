"""Fewer garbage-collector passes while a sync streams rows (the CLI wraps its syncs in it).

CPython starts a young-generation collection after every 700 new container objects. A sync makes
millions of short-lived ones (each CSV row is a list, each JSON record a dict, each column a list)
and almost none form reference cycles, so those passes find nothing yet cost ~15% of a first sync,
and the older generations' passes keep walking the objects alive since start-up (plugins, modules).
For the length of a run this moves the objects alive at its start out of the collector's sight
(:func:`gc.freeze`) and raises the young threshold, so collections are rarer but still happen:
cyclic garbage made during the run is still found, up to a hundred thousand objects later.
The collector is process-wide state, so library code never calls this: a program running syncs does
(see :mod:`rostersync.process`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: new container objects between young collections during a run (CPython's default is 700)
RUN_THRESHOLD = 100_000


@contextmanager
def fewer_collections(threshold: int = RUN_THRESHOLD) -> Iterator[None]:
    """Collect garbage less often inside the block; the previous settings come back after it."""
    before = gc.get_threshold()
    # an application that froze objects itself (a pre-forking server, say) keeps its freeze untouched
    freeze = gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    gc.set_threshold(threshold, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        if freeze:
            gc.unfreeze()
