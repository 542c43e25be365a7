"""Hold a run that would change too much, instead of applying it (Clever/ClassLink style).

Defaults follow Clever's published thresholds: hold when a run would delete more than 10% or update
more than 75% of an entity's current rows. An absolute minimum keeps tiny schools from being held for
a handful of changes. An entity that comes back empty while the roster holds rows is always held: an
empty export is far more often a broken export than a school that lost everyone.
"""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class Safeguards:
    max_delete_percent: float = 10.0
    max_update_percent: float = 75.0
    min_changes: int = 10  # fewer deletes/updates than this never hold a run

    def reasons(self, counts: dict[str, dict[str, int]]) -> list[str]:
        """Why this run must be held (empty: it may be applied). ``counts[entity]['current']`` is the
        number of live rows before the run; ``staged`` what the run brought for a bulk entity."""
        out = []
        for entity, c in counts.items():
            current = c.get("current", 0)
            if not current:
                continue
            if c.get("bulk") and c.get("staged", 0) == 0:
                out.append(f"{entity}: the source sent no rows but the roster holds {current}")
                continue
            for action, limit in (("deleted", self.max_delete_percent), ("updated", self.max_update_percent)):
                n = c.get(action, 0) + (c.get("delete_skipped", 0) if action == "deleted" else 0)
                if n >= self.min_changes and n * 100 > limit * current:
                    verb = "delete" if action == "deleted" else "update"
                    out.append(f"{entity}: would {verb} {n} of {current} rows ({n * 100 / current:.1f}% > {limit:g}%)")
        return out

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)
