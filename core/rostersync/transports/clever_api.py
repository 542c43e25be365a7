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

import collections
from collections.abc import Iterator
from typing import TYPE_CHECKING

from rostersync import hookimpl
from rostersync.batches import RawBatch
from rostersync.clever.settings import CleverApiSettings
from rostersync.connector import CheckStep, Connector, FetchContext
from rostersync.errors import RostersyncError, SourceError
from rostersync.transport import Transport

if TYPE_CHECKING:
    from rostersync.clever.client import CleverClient

KIND = "clever-api"


def fetch(connector: Connector, context: FetchContext) -> Iterator[RawBatch]:
    from rostersync.clever.client import CleverClient
    from rostersync.clever.events import sync

    options: CleverApiSettings = context.settings
    assert context.work_dir is not None
    with CleverClient(options) as client:
        yield from sync(client, context)


def _district(client: CleverClient) -> str:
    found = next(client.objects("districts"), None)
    if found is None:
        raise SourceError("the token works but /districts lists no district: is it a district-app token?")
    return f"valid for district {found[1].get('name') or found[1].get('id')} ({found[1].get('id')})"


def _roles(client: CleverClient) -> str:
    from rostersync.formats.clever_api import roles_of

    counts = collections.Counter(role for _uri, user in client.objects("users") for role in roles_of(user))
    return ", ".join(f"{counts[r]} {r}" for r in ("student", "teacher", "staff", "district_admin", "contact"))


def _sections(client: CleverClient) -> str:
    sections = sum(1 for _ in client.objects("sections"))
    return f"{sections} sections in {sum(1 for _ in client.objects('schools'))} schools"


def _events(client: CleverClient) -> str:
    from rostersync.clever.events import newest_event

    try:
        newest = newest_event(client)
    except RostersyncError as exc:
        raise SourceError(f"{exc} (delta=true needs the Events feed: enable events for the app)") from None
    return f"newest event {newest}" if newest else "the feed is empty"


def check(connector: Connector, context: FetchContext) -> list[CheckStep]:
    """The token works (for which district), what the API shares (users by role, sections) and, with
    delta on, the Events feed; stops at the first failure."""
    from rostersync.clever.client import CleverClient

    options: CleverApiSettings = context.settings
    how = "district token" if options.token is not None else f"token looked up for client {options.client_id}"
    steps = [CheckStep("settings", True, f"Clever Data API v{options.api_version} at {options.api_root()}, {how}")]
    looks = [("token", _district), ("users", _roles), ("sections", _sections)]
    name = "token"
    try:
        with CleverClient(options) as client:
            for name, look in looks + ([("events", _events)] if options.delta else []):
                steps.append(CheckStep(name, True, look(client)))
    except RostersyncError as exc:
        steps.append(CheckStep(name, False, str(exc)))
    return steps


@hookimpl
def rostersync_register_transports(register):  # type: ignore[no-untyped-def]
    register(Transport(KIND, "Clever's Data API v3.0/v3.1 (district token; Events for deltas)", CleverApiSettings,
                       fetch, check))
