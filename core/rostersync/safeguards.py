"""Hold a run that would change too much, instead of applying it (Clever/ClassLink style).

Defaults follow Clever's published thresholds: hold when a run would delete more than 10% or update
more than 75% of an entity's current rows. An absolute minimum keeps tiny schools from being held for
a handful of changes. An entity that comes back empty while the roster holds rows is always held: an
empty export is far more often a broken export than a school that lost everyone. Each reason names
where the entity came from ("users.csv has a header and no rows, but the roster holds 1,031 users"),
so the operator knows which file of the drop, or which endpoint, to look at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs


@attrs.frozen
class Safeguards:
    max_delete_percent: float = 10.0
    max_update_percent: float = 75.0
    min_changes: int = 10  # fewer deletes/updates than this never hold a run

    def reasons(self, counts: dict[str, dict[str, int]],
                sources: Mapping[str, Sequence[str]] | None = None) -> list[str]:
        """Why this run must be held (empty: it may be applied). ``counts[entity]['current']`` is the
        number of live rows before the run; ``staged`` what the run brought for a bulk entity.
        ``sources[entity]`` names where the entity's rows came from (files or URLs), so the reason
        says which file to look at."""
        out = []
        for entity, c in counts.items():
            current = c.get("current", 0)
            if not current:
                continue
            where = list((sources or {}).get(entity, ()))
            if c.get("bulk") and c.get("staged", 0) == 0:
                out.append(_empty(entity, where, c, current))
                continue
            for action, limit in (("deleted", self.max_delete_percent), ("updated", self.max_update_percent)):
                n = c.get(action, 0) + (c.get("delete_skipped", 0) if action == "deleted" else 0)
                if n >= self.min_changes and n * 100 > limit * current:
                    verb = "delete" if action == "deleted" else "update"
                    named = f"{entity} ({_some(where)})" if where else entity
                    share = f"{n * 100 / current:.1f}% > {limit:g}%"
                    out.append(f"{named}: would {verb} {n:,} of {current:,} rows ({share})")
        return out

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _empty(entity: str, where: list[str], c: dict[str, int], current: int) -> str:
    """Why an entity that comes back empty is held, naming the file (or URL) it came from."""
    holds = f"the roster holds {current:,} {entity.replace('_', ' ')}"
    if not where:
        return f"{entity}: the source sent no rows, but {holds}"
    files = _and(where) if len(where) <= 3 else _some(where)
    fetched, elsewhere = c.get("fetched", 0), c.get("out_of_scope", 0)
    if fetched:
        return (f"{files}: all {fetched:,} rows were skipped by the reference checks (see the run's warnings), "
                f"but {holds}")
    if elsewhere:
        return f"{files}: {elsewhere:,} rows, none of them this school's (all out of scope), but {holds}"
    if all(w.lower().endswith(".csv") for w in where):
        has = "has a header" if len(where) == 1 else "have headers"
        return f"{files} {has} and no rows, but {holds}"
    return f"{entity}: {files} returned no rows, but {holds}"


def _some(items: list[str], most: int = 3) -> str:
    """The first few of ``items``, comma-separated; ``...`` when there are more."""
    return ", ".join(items[:most]) + (", ..." if len(items) > most else "")


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
