"""A run (its counts, its report, its changes with their before and after values, who decided it)
and the list of runs (newest first, by school and source).

The changes of a run page by cursor (the last change id shown), filtered by entity and action, so
the thousandth page of a million-row first sync costs what the first does. The report is the run's
structured warnings (:class:`rostersync.issues.Issue`: where, which record, why), paged.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from rostersync.store.base import Store
from rostersync.store.schema import TABLES
from rostersync.web.auth import page
from rostersync.web.paging import number
from rostersync.web.render import ACTIONS, error_page, render
from rostersync.web.state import state_of

CHANGES, ISSUES, RUNS = 50, 50, 50
COUNT_COLUMNS = ("current", "fetched", "inserted", "updated", "restored", "deleted", "delete_skipped", "unchanged",
                 "out_of_scope")


def changed_entities(counts: dict[str, dict[str, int]]) -> list[str]:
    """The entities a run changed (or would change), in the run's order."""
    return [e for e, c in counts.items() if any(c.get(a, 0) for a in ("inserted", "updated", "restored", "deleted"))]


@page
async def run_page(request: Request) -> Response:
    run_id = number(request.path_params, "run_id", -1)
    params = request.query_params
    entity = params.get("entity") if params.get("entity") in TABLES else None
    action = params.get("action") if params.get("action") in ACTIONS else None
    after = number(params, "after")
    issues_from = number(params, "w")

    def work(store: Store) -> dict[str, Any] | None:
        run = store.run(run_id)
        if run is None:
            return None
        changes = store.change_page(run_id, entity=entity, action=action, after=after, limit=CHANGES + 1)
        issues = store.issue_page(run_id, offset=issues_from, limit=ISSUES + 1)
        return {"run": run, "changes": changes[:CHANGES], "more_changes": len(changes) > CHANGES,
                "issues": issues[:ISSUES], "more_issues": len(issues) > ISSUES,
                "actions": store.actions(run_id=run_id, limit=20)}

    data = await run_in_threadpool(state_of(request).with_store, work)
    if data is None:
        return error_page(request, 404, "No such run", f"there is no run {run_id}")
    return render(request, "run.html", entity=entity, action=action, after=after, issues_from=issues_from,
                  columns=COUNT_COLUMNS, entities=changed_entities(data["run"]["counts"]), page_size=ISSUES, **data)


@page
async def runs_list(request: Request) -> Response:
    params = request.query_params
    school, source = params.get("school") or None, params.get("source") or None
    before = number(params, "before") or None

    def work(store: Store) -> list[Any]:
        return store.run_page(school=school, source=source, before=before, limit=RUNS + 1)

    runs = await run_in_threadpool(state_of(request).with_store, work)
    return render(request, "runs.html", runs=runs[:RUNS], more=len(runs) > RUNS, school=school, source=source,
                  before=before)
