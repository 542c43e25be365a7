"""Transport for connectors of kind ``clever-api``: Clever's Data API v3.0/v3.1 with a district token.

A full sync reads every list (:mod:`rostersync.clever.full`) and yields ``bulk`` batches of the
``clever-api-json`` format. With the ``delta`` setting on, a full sync first notes the newest event of
the district's Events feed, and later runs read only the events after it (:mod:`rostersync.clever.events`)
and yield ``delta`` batches; no cursor yet, ``sync --full``, a cursor older than the feed keeps events,
one the server no longer knows, or more events than a full sync would cost: a full sync, with a
warning saying why. The cursor is saved only when the run succeeds, so a failed or refused run is
read again. ``check`` shows the token works, the district's name, and how many users of each role
and sections the API shares.
"""

from __future__ import annotations

from collections.abc import Iterator

from rostersync import hookimpl
from rostersync.batches import RawBatch
from rostersync.clever.settings import CleverApiSettings
from rostersync.connector import CheckStep, Connector, FetchContext
from rostersync.errors import RostersyncError
from rostersync.transport import Transport

KIND = "clever-api"


def fetch(connector: Connector, context: FetchContext) -> Iterator[RawBatch]:
    from rostersync.clever.client import CleverClient
    from rostersync.clever.events import sync

    options: CleverApiSettings = context.settings
    assert context.work_dir is not None
    with CleverClient(options) as client:
        yield from sync(client, context)


def _checks(context: FetchContext) -> Iterator[CheckStep]:
    from rostersync.clever.client import CleverClient
    from rostersync.formats.clever_api import roles_of

    options: CleverApiSettings = context.settings
    try:
        client = CleverClient(options)
    except RostersyncError as exc:
        yield CheckStep("settings", False, str(exc))
        return
    how = "district token" if options.token is not None else f"token looked up for client {options.client_id}"
    yield CheckStep("settings", True, f"Clever Data API v{options.api_version} at {options.api_root()}, {how}")
    with client:
        try:
            district = next(client.objects("districts"), None)
        except RostersyncError as exc:
            yield CheckStep("token", False, str(exc))
            return
        if district is None:
            yield CheckStep("token", False, "the token works but /districts lists no district")
            return
        name = district[1].get("name") or district[1].get("id")
        yield CheckStep("token", True, f"valid for district {name} ({district[1].get('id')})")
        counts: dict[str, int] = {}
        try:
            for _uri, user in client.objects("users"):
                for role in roles_of(user):
                    counts[role] = counts.get(role, 0) + 1
            sections = sum(1 for _ in client.objects("sections"))
            schools = sum(1 for _ in client.objects("schools"))
        except RostersyncError as exc:
            yield CheckStep("users", False, str(exc))
            return
        roles = ", ".join(f"{counts.get(r, 0)} {r}" for r in ("student", "teacher", "staff", "district_admin",
                                                                "contact"))
        yield CheckStep("users", True, roles)
        yield CheckStep("sections", True, f"{sections} sections in {schools} schools")
        if options.delta:
            yield _events_step(client)


def _events_step(client: object) -> CheckStep:
    from rostersync.clever.client import CleverClient
    from rostersync.clever.events import newest_event

    assert isinstance(client, CleverClient)
    try:
        newest = newest_event(client)
    except RostersyncError as exc:
        return CheckStep("events", False, f"{exc} (delta=true needs the Events feed: enable events for the app)")
    return CheckStep("events", True, f"newest event {newest}" if newest else "the feed is empty")


def check(connector: Connector, context: FetchContext) -> list[CheckStep]:
    return list(_checks(context))


@hookimpl
def rostersync_register_transports(register):  # type: ignore[no-untyped-def]
    register(Transport(KIND, "Clever's Data API v3.0/v3.1 (district token; Events for deltas)", CleverApiSettings,
                       fetch, check))
