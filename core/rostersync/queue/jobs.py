"""Putting syncs on the queue, and listing the queue's sync jobs with the run each produced."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from rostersync.queue.app import SYNC_TASK, QueueTarget, job_lock, queueing_lock

#: how ``rostersync jobs`` names procrastinate's job states
STATES = {"todo": "queued", "doing": "running", "failed": "failed", "succeeded": "done", "cancelled": "cancelled",
          "aborted": "aborted", "aborting": "aborted"}


def enqueue(app: Any, school: str, source: str, full: bool = False) -> int | None:
    """Queue a sync of one source; its job id, or None when one is already waiting (its queueing lock)."""
    from procrastinate import exceptions

    deferrer = app.configure_task(SYNC_TASK, lock=job_lock(school, source), queueing_lock=queueing_lock(school, source))
    try:
        return int(deferrer.defer(school=school, source=source, full=full))
    except exceptions.AlreadyEnqueued:
        return None


def active_sources(target: QueueTarget) -> set[tuple[str, str]]:
    """(school, source) of every sync job waiting or running."""
    from rostersync.store.pg.database import Database

    with Database(target.url, target.password).connect() as conn:
        rows = conn.execute("SELECT args->>'school', args->>'source' FROM procrastinate_jobs "
                            "WHERE task_name=%s AND status IN ('todo', 'doing')", [SYNC_TASK]).fetchall()
    return {(school, source) for school, source in rows}


def due_sources(target: QueueTarget, now: dt.datetime) -> Iterator[tuple[str, str]]:
    """(school, source) of every enabled source whose schedule fired since its last run started."""
    from rostersync import schedule
    from rostersync.config import Config
    from rostersync.store import store_at

    config = Config.load(target.config_path)
    with store_at(config.database, password=config.database_password) as store:
        for school in config.schools().values():
            for name, enabled in school.connectors.items():
                if schedule.is_due(enabled.schedule, store.last_started(school.id, name), now):
                    yield school.id, name


def enqueue_due(target: QueueTarget, app: Any, now: dt.datetime) -> list[tuple[str, str, int | None]]:
    """Queue every due source with no job waiting or running; (school, source, job id) of each."""
    active = active_sources(target)
    return [(school, source, enqueue(app, school, source)) for school, source in due_sources(target, now)
            if (school, source) not in active]


def list_jobs(target: QueueTarget, states: Iterable[str] = (), limit: int = 50) -> list[dict[str, Any]]:
    """The newest sync jobs (of the given states, as :data:`STATES` names them), each with its source,
    attempts, when it was queued and last started, and the run it produced (the run that applied or
    held it, else its latest)."""
    from psycopg.rows import dict_row

    from rostersync.store.pg.database import Database

    wanted = [raw for raw, shown in STATES.items() if not states or shown in states]
    sql = """
        SELECT j.id AS job, j.status AS state, j.args->>'school' AS school, j.args->>'source' AS source,
               j.attempts,
               (SELECT min(e.at) FROM procrastinate_events e WHERE e.job_id = j.id AND e.type = 'deferred') AS queued,
               (SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id AND e.type = 'started') AS started,
               r.id AS run, r.status AS run_status, r.error AS run_error
          FROM procrastinate_jobs j
          LEFT JOIN LATERAL (SELECT id, status, error FROM sync_runs WHERE job_id = j.id::text
                             ORDER BY status IN ('ok', 'held') DESC, id DESC LIMIT 1) r ON true
         WHERE j.task_name = %s AND j.status::text = ANY(%s)
         ORDER BY j.id DESC LIMIT %s"""
    with Database(target.url, target.password).connect() as conn:
        rows = conn.cursor(row_factory=dict_row).execute(sql, [SYNC_TASK, wanted, limit]).fetchall()
    for row in rows:
        row["state"] = STATES.get(row["state"], row["state"])
        for key in ("queued", "started"):
            row[key] = row[key].astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if row[key] else None
    return rows
