"""``clever``: sync a district's roster from Clever's Data API (v3.0/v3.1) with its district token."""

from __future__ import annotations

from rostersync import hookimpl
from rostersync.clever.settings import CleverApiSettings
from rostersync.connector import Connector

CLEVER = Connector(
    name="clever",
    title="Clever Data API (v3.0 or v3.1, district token; Events for deltas)",
    kind="clever-api",
    settings=CleverApiSettings,
    docs=(
        "Reads a district's schools, terms, courses, sections and users (students, teachers, staff, district "
        "admins, contacts) from Clever's Data API with the district-app token: set token=env:NAME (copied from "
        "the Clever dashboard), or client_id and client_secret (and district_id when the app serves several "
        "districts) to look it up at clever.com/oauth/tokens. Records get the ids a Clever CSV (SFTP) bundle "
        "of the same district gives them, because Clever's sis_id is the CSV's id: students student:<sis_id>, "
        "teachers teacher:<sis_id>, staff staff:<staff_id>, guardians contact:<sis_id> (without one: one per "
        "student and name), schools and sections their sis_id, courses course:<school>:<number>, terms "
        "term:<start>:<end>:<name>; the district and district admins, which the CSV lacks, their Clever id. "
        "So a school moving from Clever CSV to the API keeps every person (rostersync switch-source). "
        "Paging follows Clever's next links (up to 10,000 objects a page) within 1,200 requests a minute; "
        "a 429 waits for the rate limit's reset. With delta=true, runs after a full one read only the Events "
        "feed (the changes since the last event read); a cursor older than Clever's 30 days, or one the feed "
        "no longer knows, means a full sync with a warning. sync --full always pulls everything."
    ),
)


@hookimpl
def rostersync_register_connectors(register):  # type: ignore[no-untyped-def]
    register(CLEVER)
