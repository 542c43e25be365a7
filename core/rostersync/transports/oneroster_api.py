"""Transport for connectors of kind ``oneroster-api``: a OneRoster 1.1/1.2 REST API.

Consecutive pages are grouped into raw batches of about 2000 rows (format ``oneroster-1.x-json``,
location = the first page's URL; each row remembers its own page for error messages), so rows reach
the store while later pages are still being fetched. An endpoint the SIS does not share (403/404
on its first page) is reported with ``context.warn`` and its entity is not yielded at all: the store
leaves it alone rather than reading silence as "delete everything".

Delta: with the ``delta`` setting on, each entity's cursor (this run's start in UTC minus
``delta_overlap``) is left in ``next_state`` - saved only if the run succeeds - and the next run asks
for ``filter=dateLastModified>'cursor'`` only (batches of mode ``delta``; ``tobedeleted`` means delete).
An entity without a cursor, or ``sync --full``, gets a full pull. httpx and oauthlib load only here,
inside the hooks, so ``rostersync connectors list`` stays fast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from rostersync import hookimpl
from rostersync.api.settings import OneRosterApiSettings
from rostersync.batches import RawBatch
from rostersync.connector import CheckStep, Connector, FetchContext
from rostersync.errors import RostersyncError
from rostersync.transport import Transport

KIND = "oneroster-api"
#: Pages are grouped into raw batches of about this many rows (per-batch work is paid per group).
BATCH_ROWS = 2000


def cursor_for(start: dt.datetime, overlap_seconds: int) -> str:
    """A delta cursor: UTC with ``Z``, ``overlap_seconds`` before ``start``."""
    return (start - dt.timedelta(seconds=overlap_seconds)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fetch(connector: Connector, context: FetchContext) -> Iterator[RawBatch]:
    from rostersync.api.http import NotShared
    from rostersync.api.paging import batched
    from rostersync.api.source import ENDPOINTS, ApiSource

    options: OneRosterApiSettings = context.settings
    started = dt.datetime.now(dt.UTC)
    previous: dict[str, str] = dict(context.state.get("delta") or {}) if options.delta else {}
    cursors: dict[str, str] = {}
    with ApiSource(options) as source:
        for endpoint in ENDPOINTS:
            if endpoint.entity == "demographics" and not options.demographics:
                continue
            since = None if context.full else previous.get(endpoint.entity)
            params = {"filter": f"dateLastModified>'{since}'"} if since else {}
            mode = "delta" if since else "bulk"
            try:
                for rows in batched(source.entity_pages(endpoint, context.org_ids, params), BATCH_ROWS):
                    yield RawBatch(options.format, endpoint.entity, rows.urls[0], rows, mode)
            except NotShared as exc:
                context.warn(f"{endpoint.path}: not shared by the SIS ({exc}); {endpoint.entity} left unchanged")
                if endpoint.entity in previous:
                    cursors[endpoint.entity] = previous[endpoint.entity]
                continue
            cursors[endpoint.entity] = cursor_for(started, options.delta_overlap)
    if options.delta:
        context.next_state["delta"] = cursors


def _checks(context: FetchContext) -> Iterator[CheckStep]:
    from rostersync.api.auth import ClientCredentials
    from rostersync.api.http import NotShared
    from rostersync.api.source import ENDPOINTS, ApiSource

    options: OneRosterApiSettings = context.settings
    try:
        source = ApiSource(options)
    except RostersyncError as exc:
        yield CheckStep("settings", False, str(exc))
        return
    token = f", token URL {options.token_endpoint()}" if options.auth.startswith("oauth2") else ""
    yield CheckStep("settings", True, f"OneRoster {options.version} at {options.api_root()}, {options.auth}{token}")
    with source:
        if isinstance(source.auth, ClientCredentials):
            try:
                source.auth.token()
            except RostersyncError as exc:
                yield CheckStep("token", False, str(exc))
                return
            yield CheckStep("token", True, f"access token from {options.token_endpoint()}")
        for endpoint in ENDPOINTS:
            if endpoint.entity == "demographics" and not options.demographics:
                continue
            path = source.paths(endpoint, context.org_ids)[0]
            try:
                try:
                    page = source.get_page(path, endpoint.keys, {}, 0, 1)
                except NotShared as exc:
                    if exc.status != 404 or path == endpoint.path:
                        raise
                    page = source.get_page(endpoint.path, endpoint.keys, {}, 0, 1)  # as a sync falls back
            except NotShared as exc:
                yield CheckStep(endpoint.path, True, f"not shared ({exc}); a sync leaves it unchanged")
                continue
            except RostersyncError as exc:
                yield CheckStep(endpoint.path, False, str(exc))
                return
            total = f"{page.total} records" if page.total is not None else "no X-Total-Count"
            yield CheckStep(endpoint.path, True, f"{page.url}: {total}")


def check(connector: Connector, context: FetchContext) -> list[CheckStep]:
    return list(_checks(context))


@hookimpl
def rostersync_register_transports(register):  # type: ignore[no-untyped-def]
    register(Transport(KIND, "A OneRoster 1.1 or 1.2 REST API (OAuth 2 or OAuth 1)", OneRosterApiSettings,
                       fetch, check))


