"""When a source is due: cron schedules (croniter) against the start of the source's last run."""

from __future__ import annotations

import datetime as dt

from rostersync.errors import ConfigError

DEFAULT_SCHEDULE = "0 2 * * *"  # nightly at 02:00 (machine local time)


def validate(expression: str) -> str:
    from croniter import croniter

    if not croniter.is_valid(expression):
        raise ConfigError(f"schedule {expression!r} is not a valid cron expression (e.g. '0 2 * * *')")
    return expression


def last_fire(expression: str, now: dt.datetime) -> dt.datetime:
    """The most recent time at or before ``now`` the schedule fired."""
    from croniter import croniter

    return croniter(validate(expression), now).get_prev(dt.datetime)


def is_due(expression: str, last_started: dt.datetime | None, now: dt.datetime) -> bool:
    """Due when the schedule has fired since the last run started (or the source never ran)."""
    return last_started is None or last_started < last_fire(expression, now)
