"""``rostersync worker``: a procrastinate worker running the queue's tasks (:mod:`rostersync.queue.app`).

A worker is a program that runs syncs, so it does what the ``rostersync`` command does for its own:
:func:`rostersync.process.tune` once at start, and fewer garbage-collector passes
(:func:`rostersync.gcpause.fewer_collections`) for its whole life. It checks the database before it
takes a job: the schema must be the one this rostersync knows (it never upgrades it: ``rostersync db
upgrade`` does, once) and the queue's tables must be there.

Sync jobs are synchronous code and run in threads (``--concurrency``): fetching waits on the network,
so a few per process overlap well, but Python runs one thread at a time; use a process per core.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def run_worker(config: Any, concurrency: int = 1) -> None:
    """Run a worker for ``config``'s database until SIGTERM/SIGINT (running syncs finish first)."""
    from rostersync.gcpause import fewer_collections
    from rostersync.process import tune
    from rostersync.queue.app import QueueTarget, build_app, worker_name
    from rostersync.queue.schema import require
    from rostersync.store import store_at
    from rostersync.store.pg.database import Database

    tune()
    target = QueueTarget.of(config)
    with store_at(target.url, password=target.password):  # refuses an older schema: rostersync db upgrade
        pass
    with Database(target.url, target.password).connect() as conn:
        require(conn, target.url)
    app = build_app(target, concurrency=concurrency, worker=True)
    settings = target.settings
    log.info("worker %s: %d at a time on %s", worker_name(), concurrency, target.url)
    with fewer_collections():
        app.run_worker(concurrency=concurrency, name=worker_name(), update_heartbeat_interval=settings.heartbeat,
                       stalled_worker_timeout=settings.stalled_after, delete_jobs="never",
                       install_signal_handlers=True)
