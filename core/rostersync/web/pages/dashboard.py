"""The dashboard: every school x source with its last run, held and failed ones first.

One store query for the newest run of every source (:meth:`Store.latest_runs`), sorted in memory
(a thousand rows), then per row of the shown page only: the roster size after the source's last
applied run (one indexed lookup each) and the next time its cron schedule fires.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from rostersync.config import School
from rostersync.engine import summarise
from rostersync.store.base import RunRow, Store
from rostersync.web.auth import page
from rostersync.web.paging import Pager
from rostersync.web.render import render
from rostersync.web.state import state_of

#: the order rows are listed in: what needs a person first
ORDER = ("held", "failed", "running", "never run", "skipped", "discarded", "dry-run", "ok")
FILTERS = {"attention": ("held", "failed"), **{s: (s,) for s in ORDER}}
PAGE = 50


@attrs.frozen
class Row:
    school: School
    source: str | None  # None: a school with no connector enabled
    run: RunRow | None

    @property
    def status(self) -> str:
        if self.source is None:
            return "no source"
        return self.run["status"] if self.run else "never run"

    @property
    def rank(self) -> tuple[int, str, str]:
        return (ORDER.index(self.status) if self.status in ORDER else len(ORDER), self.school.id, self.source or "")


def rows_of(schools: dict[str, School], latest: list[RunRow]) -> list[Row]:
    newest = {(r["school"], r["source"]): r for r in latest}
    rows = [Row(school, source, newest.get((school.id, source)))
            for school in schools.values() for source in (school.connectors or [None])]
    return sorted(rows, key=lambda r: r.rank)


def roster_users(run: RunRow | None) -> int | None:
    """Live users of the source after ``run`` (its last applied run), from the run's own counts."""
    counts = (run or {}).get("counts", {}).get("users")
    if not counts or "current" not in counts:
        return None
    return counts["current"] + counts.get("inserted", 0) + counts.get("restored", 0) - counts.get("deleted", 0)


def fire_times(expression: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """When a cron schedule last fired at or before ``now``, and when it fires next."""
    from croniter import croniter

    fires = croniter(expression, now)  # validated when the config was loaded
    return fires.get_prev(dt.datetime), fires.get_next(dt.datetime)


def next_due(row: Row, now: dt.datetime, memo: dict[str, tuple[dt.datetime, dt.datetime]]) -> tuple[
        dt.datetime | None, bool]:
    """When the source's schedule fires next, and whether ``run --due`` would sync it now: its schedule
    fired since its last run started (:func:`rostersync.schedule.is_due`). ``memo``: fire times by
    schedule, for one ``now`` (sources mostly share a few schedules)."""
    if row.source is None:
        return None, False
    expression = row.school.connectors[row.source].schedule
    if expression not in memo:
        memo[expression] = fire_times(expression, now)
    fired, upcoming = memo[expression]
    return upcoming, row.run is None or dt.datetime.fromisoformat(row.run["started_at"]) < fired


def _view(row: Row, store: Store, now: dt.datetime, memo: dict[str, Any]) -> dict[str, Any]:
    run = row.run
    applied = run if run and run["status"] == "ok" else None
    if applied is None and row.source is not None and run is not None:
        found = store.run_page(school=row.school.id, source=row.source, status="ok", limit=1)
        applied = found[0] if found else None
    due, due_now = next_due(row, now, memo)
    return {"school": row.school, "source": row.source, "status": row.status, "run": run,
            "totals": summarise(run["counts"]) if run and run["counts"] else None,
            "users": roster_users(applied), "next_due": due, "due_now": due_now}


@page
async def dashboard(request: Request) -> Response:
    web = state_of(request)
    wanted = request.query_params.get("status", "")
    text = request.query_params.get("q", "").strip().lower()
    now = dt.datetime.now().astimezone()

    def work(store: Store) -> dict[str, Any]:
        rows = rows_of(web.configs.schools(), store.latest_runs())
        tally: dict[str, int] = {}
        for row in rows:
            tally[row.status] = tally.get(row.status, 0) + 1
        if wanted in FILTERS:
            rows = [r for r in rows if r.status in FILTERS[wanted]]
        if text:
            rows = [r for r in rows if text in r.school.id.lower() or text in r.school.name.lower()]
        pager = Pager.of(request, len(rows), PAGE)
        memo: dict[str, Any] = {}
        shown = [_view(row, store, now, memo) for row in rows[pager.start:pager.stop]]
        return {"rows": shown, "pager": pager, "tally": tally}

    data = await run_in_threadpool(web.with_store, work)
    return render(request, "dashboard.html", status=wanted, q=text, order=ORDER, filters=FILTERS, **data)
