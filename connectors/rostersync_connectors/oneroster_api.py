"""``oneroster-api``: sync from any SIS that serves the OneRoster 1.1 or 1.2 REST API."""

from __future__ import annotations

from rostersync import hookimpl
from rostersync.api.settings import OneRosterApiSettings
from rostersync.connector import Connector

ONEROSTER_API = Connector(
    name="oneroster-api",
    title="OneRoster REST API (1.1 or 1.2)",
    kind="oneroster-api",
    settings=OneRosterApiSettings,
    docs=(
        "Pulls orgs, academic sessions, courses, classes, users, enrollments and (opt-in) demographics from "
        "a OneRoster REST API, with OAuth 2 client credentials (1.2, and 1.1 servers that offer it) or "
        "OAuth 1 two-legged signing (1.1). Pages are fetched with bounded concurrency when the server "
        "reports a total. An endpoint the SIS does not share (403/404) is reported and left alone, never "
        "emptied. With delta=true, runs after the first ask only for records changed since the last "
        "successful run (minus delta_overlap seconds); sync --full pulls everything."
    ),
)


@hookimpl
def rostersync_register_connectors(register):  # type: ignore[no-untyped-def]
    register(ONEROSTER_API)
