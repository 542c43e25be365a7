"""Held runs, and the Approve and Discard buttons.

The buttons call :func:`rostersync.review.approve` and :func:`~rostersync.review.discard`, the
functions behind ``rostersync approve``/``discard``: the same store calls, the same step after an
approve (e.g. archiving an SFTP drop), the same audit row, with the signed-in operator and their
address as who and where. A refusal (not held any more, made stale
by a later run, staging gone) is shown as the CLI would print it; the roster is left as it was.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from rostersync import review
from rostersync.errors import RostersyncError
from rostersync.store.base import RunRow, Store
from rostersync.web.auth import action, page
from rostersync.web.paging import Pager, number
from rostersync.web.render import flash, render
from rostersync.web.state import state_of

PAGE = 20


@page
async def holds_page(request: Request) -> Response:
    def work(store: Store) -> list[RunRow]:
        return store.holds()  # at most one per source: a held source skips its later syncs

    held = await run_in_threadpool(state_of(request).with_store, work)
    pager = Pager.of(request, len(held), PAGE)
    return render(request, "holds.html", held=held[pager.start:pager.stop], pager=pager)


@action
async def approve(request: Request) -> Response:
    run_id = number(request.path_params, "run_id", -1)
    actor, web = request.state.actor, state_of(request)
    try:
        result = await run_in_threadpool(web.with_store,
                                         lambda store: review.approve(store, web.configs.config, run_id, actor))
    except RostersyncError as exc:
        flash(request, f"Run {run_id} was not approved: {exc}", "error")
    else:
        flash(request, f"Approved run {run_id}: {result.school}/{result.source} is {result.status}; the staged "
                       f"changes were applied.")
    return RedirectResponse(f"/runs/{run_id}", 303)


@action
async def discard(request: Request) -> Response:
    run_id = number(request.path_params, "run_id", -1)
    actor = request.state.actor
    try:
        await run_in_threadpool(state_of(request).with_store, lambda store: review.discard(store, run_id, actor))
    except RostersyncError as exc:
        flash(request, f"Run {run_id} was not discarded: {exc}", "error")
    else:
        flash(request, f"Discarded run {run_id}; the roster was not changed.")
    return RedirectResponse(f"/runs/{run_id}", 303)
