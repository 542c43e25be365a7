"""SQL and rules both stores share, written once: each store passes its placeholder (``?`` for SQLite,
``%s`` for psycopg) and the functions that run a statement on its open transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rostersync.errors import ConfigError
from rostersync.store.schema import IDENTITY_COLUMNS, TABLES
from rostersync.store.sqlfiles import q

#: first(sql, params): whether the query returns a row
First = Callable[[str, Sequence[Any]], bool]
#: update(sql, params): how many rows the statement changed
Update = Callable[[str, Sequence[Any]], int]


def live_rows_sql(entity: str, columns: Sequence[str], mark: str) -> str:
    """The query streaming a school's live rows of ``entity`` (``columns`` checked against its table),
    every source, ordered by source and sourcedId; one parameter: the school."""
    known = (*TABLES[entity].columns, *IDENTITY_COLUMNS.get(entity, ()))
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise ValueError(f"{entity} has no column {', '.join(unknown)}")
    return (f"SELECT {', '.join(map(q, columns))} FROM {q(entity)} WHERE school={mark} AND deleted_at IS NULL "
            f"ORDER BY source, sourced_id")


def refuse_move(school: str, old: str, new: str, held: int | None) -> None:
    """What :meth:`~rostersync.store.base.Store.move_source` refuses before it looks at any row."""
    if old == new:
        raise ConfigError("the two sources are the same")
    if held:
        raise ConfigError(f"run {held} of {old} is held: rostersync approve {held} or rostersync discard {held} "
                          "first")


def move_rows(school: str, old: str, new: str, first: First, update: Update, mark: str) -> dict[str, int]:
    """Inside the caller's transaction: refuse a ``new`` source with runs or rows of its own for the
    school, else hand ``old``'s rows (soft-deleted ones too) to it; the rows moved per entity."""
    p = mark
    if first(f"SELECT 1 FROM sync_runs WHERE school={p} AND source={p} LIMIT 1", [school, new]):
        raise ConfigError(f"{new} has already synced school {school}: its roster is its own (nothing moved)")
    moved: dict[str, int] = {}
    for entity in TABLES:
        if first(f"SELECT 1 FROM {q(entity)} WHERE school={p} AND source={p} LIMIT 1", [school, new]):
            raise ConfigError(f"{new} already holds {entity} of school {school} (nothing moved)")
        count = update(f"UPDATE {q(entity)} SET source={p} WHERE school={p} AND source={p}", [new, school, old])
        if count:
            moved[entity] = count
    return moved


def held(run_id: int, row: dict[str, Any] | None) -> dict[str, Any]:
    """The run's row if it is held, else the ConfigError approve and discard give."""
    if row is None:
        raise ConfigError(f"no run {run_id} (see rostersync history)")
    if row["status"] != "held":
        raise ConfigError(f"run {run_id} is {row['status']}, not held (see rostersync holds)")
    return row


def stale_hold(run_id: int, newer: int) -> ConfigError:
    return ConfigError(f"run {newer} applied after run {run_id} was held; its diff is stale. "
                       f"Discard it: rostersync discard {run_id}")
