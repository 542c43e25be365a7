"""Finding a person, and what the roster knows of them: their record, enrollments and change history.

Search (:meth:`Store.find_people`): exact sourcedId, identifier or email, or the start of a name, in
every school and source (or one school). A person is one ``users`` row, keyed by school, source and
sourcedId; their page lists their enrollments (live first, with the runs that added and removed
them) and every audited change of their record, newest first, each linking to its run.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from rostersync.store.base import Store
from rostersync.web.auth import page
from rostersync.web.paging import number
from rostersync.web.render import error_page, render
from rostersync.web.state import state_of

RESULTS, ENROLLMENTS, HISTORY = 50, 50, 25
#: shown at the top of a person's page, in this order; the other stored fields follow
MAIN = ("role", "given_name", "preferred_given_name", "middle_name", "family_name", "status", "identifier",
        "email", "username", "grades", "org_sourced_ids", "primary_org_sourced_id", "user_ids", "agent_sourced_ids",
        "enabled_user", "date_last_modified")
BOOKKEEPING = ("created_run", "updated_run", "deleted_at", "deleted_run")


@page
async def people_page(request: Request) -> Response:
    params = request.query_params
    text, school = params.get("q", "").strip()[:200], params.get("school") or None
    offset = number(params, "offset")

    def work(store: Store) -> list[Any]:
        return store.find_people(text, school=school, offset=offset, limit=RESULTS + 1) if text else []

    found = await run_in_threadpool(state_of(request).with_store, work)
    return render(request, "people.html", q=text, school=school, people=found[:RESULTS], offset=offset,
                  more=len(found) > RESULTS, size=RESULTS)


def fields_of(person: dict[str, Any]) -> list[tuple[str, Any]]:
    """The person's stored fields for display: the main ones first, then the rest, then ``extra``'s keys."""
    skip = {"school", "source", "sourced_id", "extra", *BOOKKEEPING}
    rest = sorted(k for k in person if k not in skip and k not in MAIN)
    extra = json.loads(person["extra"]) if person.get("extra") else {}
    shown = [(k, person.get(k)) for k in (*MAIN, *rest) if person.get(k) not in (None, "")]
    return [(k, {0: "no", 1: "yes"}.get(v, v) if k == "enabled_user" else v) for k, v in shown] + sorted(extra.items())


@page
async def person_page(request: Request) -> Response:
    params = request.query_params
    school, source, sourced_id = params.get("school", ""), params.get("source", ""), params.get("id", "")
    enrollments_from, before = number(params, "e"), number(params, "before") or None

    def work(store: Store) -> dict[str, Any] | None:
        person = store.person(school, source, sourced_id)
        if person is None:
            return None
        enrollments = store.person_enrollments(school, source, sourced_id, offset=enrollments_from,
                                               limit=ENROLLMENTS + 1)
        history = store.person_changes(school, source, sourced_id, before=before, limit=HISTORY + 1)
        held = {c["run_id"] for c in history[:HISTORY]
                if (store.run(c["run_id"]) or {}).get("status") == "held"}  # pending, not applied
        return {"person": person, "fields": fields_of(person), "enrollments": enrollments[:ENROLLMENTS],
                "more_enrollments": len(enrollments) > ENROLLMENTS, "history": history[:HISTORY],
                "more_history": len(history) > HISTORY, "held": held}

    data = await run_in_threadpool(state_of(request).with_store, work)
    if data is None:
        return error_page(request, 404, "No such person", f"no person {sourced_id!r} from {source!r} in {school!r}")
    return render(request, "person.html", school=school, source=source, sourced_id=sourced_id,
                  enrollments_from=enrollments_from, before=before, size=ENROLLMENTS, **data)
