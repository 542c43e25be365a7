"""The queue's tasks, on a procrastinate App bound to the rostersync database.

* ``rostersync.sync`` (school, source[, full]): one sync of one source, run by the engine in a
  worker thread with the job's id (:class:`rostersync.engine.SyncOptions` ``job``). Deferred with
  the source's ``lock`` (never two at once) and ``queueing_lock`` (at most one waiting).
* ``rostersync.dispatch`` (periodic, ``[workers] dispatch``): enqueues each enabled source whose cron
  schedule fired since its last run and that has no job waiting or running. procrastinate defers a
  periodic task once per period however many workers run (a unique row per timestamp), and the
  task's own lock keeps two dispatches from overlapping.
* ``rostersync.reap`` (periodic, ``[workers] reap``): retries the jobs of workers silent for
  ``stalled_after`` seconds. It has no lock on purpose: a reaper whose worker died must not block the
  next reaper. A stalled job whose source has a newer job waiting cannot go back to the queue (the
  queueing lock allows one waiting job): it is failed, and the waiting job syncs the source.
* ``rostersync.purge`` (periodic, ``[workers] purge``): deletes jobs finished ``keep_hours`` ago.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from pathlib import Path
from typing import Any

import attrs

from rostersync.queue.settings import WorkerSettings
from rostersync.secrets import SecretRef

log = logging.getLogger(__name__)

SYNC_TASK = "rostersync.sync"
DISPATCH_TASK = "rostersync.dispatch"
REAP_TASK = "rostersync.reap"
PURGE_TASK = "rostersync.purge"


def job_lock(school: str, source: str) -> str:
    """The lock every sync job of a source holds while it runs."""
    return f"rostersync-sync:{school}/{source}"


def queueing_lock(school: str, source: str) -> str:
    """At most one sync job of a source waits in the queue."""
    return f"rostersync-queued:{school}/{source}"


@attrs.frozen
class QueueTarget:
    """What the queue's tasks need to know: the configuration file (read afresh by every job: operators
    edit it), the database and its password, and the ``[workers]`` settings."""

    config_path: Path
    url: str
    password: SecretRef | None
    settings: WorkerSettings

    @classmethod
    def of(cls, config: Any) -> QueueTarget:
        """From a loaded :class:`rostersync.config.Config`; its database must be PostgreSQL."""
        from rostersync.errors import ConfigError
        from rostersync.store import scheme_of

        database = config.database
        if scheme_of(database) != "postgresql":
            raise ConfigError(f"{config.path}: workers share a PostgreSQL database; set [database] url = "
                              f'"postgresql://USER@HOST/DB" (the database is {database})')
        table = config.doc.get("workers", {})
        settings = WorkerSettings.from_table(dict(table.unwrap() if hasattr(table, "unwrap") else table))
        return cls(config.path, str(database), config.database_password, settings)

    def kwargs(self) -> dict[str, Any]:
        from rostersync.store.pg.database import Database

        return Database(self.url, self.password).kwargs()


def build_app(target: QueueTarget, *, concurrency: int = 1, worker: bool = False) -> Any:
    """A procrastinate App for the database. ``worker``: an async connector with a pool sized for
    ``concurrency`` jobs and the worker's own connections (listen, heartbeat, fetch); otherwise a
    synchronous one, enough to defer jobs (``rostersync enqueue``)."""
    import procrastinate

    from rostersync.store.pg.database import conninfo_of

    conninfo = conninfo_of(target.url)
    if worker:
        connector = procrastinate.PsycopgConnector(conninfo=conninfo, kwargs=target.kwargs(), min_size=1,
                                                   max_size=concurrency + 4)
    else:
        connector = procrastinate.SyncPsycopgConnector(conninfo=conninfo, kwargs=target.kwargs(), min_size=1,
                                                       max_size=2)
    app = procrastinate.App(connector=connector)
    _register(app, target)
    return app


def _register(app: Any, target: QueueTarget) -> None:
    settings = target.settings

    @app.task(name=SYNC_TASK, pass_context=True)
    def sync(context: Any, school: str, source: str, full: bool = False) -> dict[str, Any]:
        return run_sync(target, context.job.id, school, source, full)

    @app.periodic(cron=settings.dispatch, periodic_id="dispatch")
    @app.task(name=DISPATCH_TASK, pass_context=True, lock=DISPATCH_TASK, queueing_lock=DISPATCH_TASK)
    def dispatch(context: Any, timestamp: int) -> list[str]:
        from rostersync.queue.jobs import enqueue_due

        now = dt.datetime.fromtimestamp(timestamp).astimezone()
        return [f"{school}/{source}" for school, source, _job in enqueue_due(target, app, now)]

    @app.periodic(cron=settings.reap, periodic_id="reap")
    @app.task(name=REAP_TASK, pass_context=True, queueing_lock=REAP_TASK)
    async def reap(context: Any, timestamp: int) -> list[int]:
        return await reap_stalled(app, settings.stalled_after)

    @app.periodic(cron=settings.purge, periodic_id="purge")
    @app.task(name=PURGE_TASK, pass_context=True, queueing_lock=PURGE_TASK)
    async def purge(context: Any, timestamp: int) -> None:
        await purge_finished(app, int(settings.keep_hours))


def run_sync(target: QueueTarget, job_id: int, school_id: str, source: str, full: bool = False) -> dict[str, Any]:
    """One sync job: the engine's :func:`~rostersync.engine.sync_source` with the job's id (a retried job
    that already applied does nothing), its lease held in the job's name."""
    from rostersync.config import Config
    from rostersync.engine import SyncOptions, sync_source
    from rostersync.store import store_at

    config = Config.load(target.config_path)
    school = config.schools().get(school_id)
    enabled = school.connectors.get(source) if school else None
    if school is None or enabled is None:
        log.warning("job %s: %s/%s is no longer configured; nothing synced", job_id, school_id, source)
        return {"run": None, "status": "skipped", "error": f"{school_id}/{source} is not configured"}
    with store_at(config.database, password=config.database_password) as store:
        store.lock_holder = f"job:{job_id}"  # type: ignore[attr-defined] # a retry takes over its own lease
        single = attrs.evolve(school, connectors={source: enabled})
        result = sync_source(store, single, enabled, SyncOptions(full=full, job=str(job_id)))
    assert result is not None  # not only_if_due: a sync always leaves a run
    log.info("job %s: %s/%s run %s %s%s", job_id, school_id, source, result.run_id, result.status,
             f": {result.error}" if result.error else "")
    return {"run": result.run_id, "status": result.status, "error": result.error}


async def reap_stalled(app: Any, stalled_after: float) -> list[int]:
    """Retry the jobs of workers silent for ``stalled_after`` seconds; return their ids. A job that
    cannot go back to the queue because a newer job of its source waits there is failed instead."""
    from procrastinate import exceptions
    from procrastinate.jobs import Status

    retried = []
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        try:
            await app.job_manager.retry_job(job)
            retried.append(job.id)
            log.warning("job %s (%s) was running on a worker that stopped: retried", job.id, job.task_name)
        except exceptions.UniqueViolation:
            await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
            log.warning("job %s (%s) was running on a worker that stopped; a newer job of the same source is "
                        "queued and will sync it: failed", job.id, job.task_name)
    return retried


async def purge_finished(app: Any, hours: int) -> None:
    """Delete the jobs that finished (done, failed, cancelled, aborted) more than ``hours`` ago: a queue
    that keeps every job makes each fetch and each worker start slower (their runs stay in history)."""
    await app.job_manager.delete_old_jobs(nb_hours=hours, include_failed=True, include_cancelled=True,
                                          include_aborted=True)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"
