"""The ``[workers]`` table of the configuration: how often the periodic tasks run and when a silent
worker counts as dead. Every worker reads the same configuration file (the schools, their sources and
schedules, and these settings)::

    [workers]
    dispatch = "* * * * *"      # cron: how often due syncs are enqueued (from each source's schedule)
    reap = "* * * * *"          # cron: how often jobs of dead workers are found and retried
    stalled_after = 60          # seconds without a worker's heartbeat before its jobs are retried
    heartbeat = 10              # seconds between a worker's heartbeats
    purge = "17 4 * * *"        # cron: when finished jobs older than keep_hours are deleted
    keep_hours = 72             # how long finished jobs stay listed by `rostersync jobs`

Crons may have a sixth field for seconds (tests run them every second).
"""

from __future__ import annotations

from typing import Any

import attrs

from rostersync.errors import ConfigError


def _cron(_instance: object, attribute: attrs.Attribute, value: str) -> None:  # type: ignore[type-arg]
    from croniter import croniter

    if not croniter.is_valid(value):
        raise ConfigError(f"[workers] {attribute.name} = {value!r} is not a valid cron expression (e.g. '* * * * *')")


def _positive(_instance: object, attribute: attrs.Attribute, value: float) -> None:  # type: ignore[type-arg]
    if not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"[workers] {attribute.name} must be a positive number of seconds, not {value!r}")


@attrs.frozen
class WorkerSettings:
    dispatch: str = attrs.field(default="* * * * *", validator=_cron)
    reap: str = attrs.field(default="* * * * *", validator=_cron)
    stalled_after: float = attrs.field(default=60, validator=_positive)
    heartbeat: float = attrs.field(default=10, validator=_positive)
    purge: str = attrs.field(default="17 4 * * *", validator=_cron)
    keep_hours: int = attrs.field(default=72, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.heartbeat * 2 > self.stalled_after:
            raise ConfigError(f"[workers] stalled_after ({self.stalled_after}) must be at least twice heartbeat "
                              f"({self.heartbeat}): a live worker would be taken for dead")

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> WorkerSettings:
        known = {f.name for f in attrs.fields(cls)}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(f"[workers]: unknown setting {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        return cls(**table)
