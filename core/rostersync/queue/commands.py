"""``rostersync worker``, ``rostersync enqueue`` and ``rostersync jobs``: syncs as jobs on the PostgreSQL
database's queue. Only click is imported here; procrastinate when a command runs."""

from __future__ import annotations

from typing import Any

import click

from rostersync.cli import Ctx, json_option, pass_ctx


@click.command()
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Syncs this process runs at once (threads: fetching waits on the network; "
                   "run one worker process per core for CPU).")
@pass_ctx
def worker(ctx: Ctx, concurrency: int) -> None:
    """Run syncs from the queue until stopped (SIGTERM/Ctrl-C: finish the running syncs, then exit).

    Also, on whichever worker is free: enqueues due syncs from each source's schedule (once per period
    however many workers run), retries the jobs of workers that stopped, and purges finished jobs.
    The database's schema must be current (rostersync db upgrade): a worker never changes it.
    """
    from rostersync.queue.worker import run_worker

    run_worker(ctx.config, concurrency)


@click.command()
@click.argument("school_id", required=False)
@click.option("--all", "all_schools", is_flag=True, help="Every school's enabled sources.")
@click.option("--due", is_flag=True, help="Only sources whose schedule is due and have no job queued or running.")
@click.option("--full", is_flag=True, help="Ignore delta cursors and unchanged-drop checks; pull everything.")
@json_option
@pass_ctx
def enqueue(ctx: Ctx, school_id: str | None, all_schools: bool, due: bool, full: bool, as_json: bool) -> None:
    """Queue syncs for the workers: one SCHOOL's sources, --all, or --due ones.

    A source that already has a sync waiting is not queued twice ("already queued").
    """
    import datetime as dt

    from rostersync.errors import ConfigError
    from rostersync.output import emit
    from rostersync.queue.app import QueueTarget, build_app
    from rostersync.queue.jobs import enqueue as enqueue_one
    from rostersync.queue.jobs import enqueue_due

    if sum(map(bool, (school_id, all_schools, due))) != 1:
        raise ConfigError("name one SCHOOL, or pass --all or --due")
    target = QueueTarget.of(ctx.config)
    _require_queue(ctx)
    app = build_app(target)
    with app.open():
        if due:
            queued = enqueue_due(target, app, dt.datetime.now().astimezone())
        else:
            schools = list(ctx.config.schools().values()) if all_schools else [ctx.config.school(school_id)]
            if not all_schools and not schools[0].connectors:
                raise ConfigError(f"school {school_id!r} has no connector enabled (rostersync enable {school_id} ...)")
            queued = [(s.id, name, enqueue_one(app, s.id, name, full)) for s in schools for name in s.connectors]
    rows = [{"school": s, "source": n, "job": job, "state": "queued" if job else "already queued"}
            for s, n, job in queued]
    emit(rows, ["school", "source", "job", "state"], as_json=as_json, empty="nothing to queue")


@click.command()
@click.option("--state", "states", multiple=True,
              type=click.Choice(["queued", "running", "failed", "done", "cancelled", "aborted"]),
              help="Only jobs in this state (repeatable). Default: every state.")
@click.option("--limit", default=50, show_default=True, help="How many jobs, newest first.")
@json_option
@pass_ctx
def jobs(ctx: Ctx, states: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Sync jobs, newest first: queued, running, failed or done, and the run each produced."""
    from rostersync.output import emit
    from rostersync.queue.app import QueueTarget
    from rostersync.queue.jobs import list_jobs

    target = QueueTarget.of(ctx.config)
    _require_queue(ctx)
    rows: list[dict[str, Any]] = list_jobs(target, states, limit)
    emit(rows, ["job", "state", "school", "source", "attempts", "queued", "started", "run", "run_status"],
         as_json=as_json, empty="no jobs")


def _require_queue(ctx: Ctx) -> None:
    """The schema must be current and the queue's tables there (``rostersync db upgrade``)."""
    from rostersync.queue.schema import require
    from rostersync.store.pg.database import Database

    with ctx.store():  # refuses an older or damaged schema
        pass
    with Database(str(ctx.config.database), ctx.config.database_password).connect() as conn:
        require(conn, str(ctx.config.database))
