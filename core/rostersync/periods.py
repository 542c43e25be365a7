"""Bell-schedule periods: the period codes an SIS puts on classes (``periods``: "1", "2", "A", "HR"...)
and each school's map from those codes to the names of its bell schedule (``[schools.X.periods]``).

``rostersync periods SCHOOL [--term T]`` lists the codes the school's live classes use with how many
classes use each per term (``--term current`` resolves from the sessions' dates and today's), so an
operator sees what needs a name; ``rostersync periods map SCHOOL 1="First Period" ...`` stores names in
the config (an empty name removes one). ``status`` shows how many codes are mapped, each sync of a
school that has a map warns about the codes it lacks, and ``export`` writes the mapped names in
``periods`` (the SIS's codes in ``metadata.rostersync.sisPeriods``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from rostersync.selection import live_sessions
from rostersync.sessions import covering, resolve

if TYPE_CHECKING:
    from rostersync.config import School
    from rostersync.store.base import Store


def period_counts(store: Store, school: School, term: str | None = None,
                  today: dt.date | None = None) -> list[dict[str, Any]]:
    """One row per (period code, term): ``period``, ``name`` (mapped, or None), ``term`` (sourcedId),
    ``term_title``, ``classes``; only classes of ``term`` (a session, ``current`` or ``next``) when given."""
    sessions = live_sessions(store, school.id)
    titles = {s.sourced_id: s.title for s in sessions}
    allowed = None
    if term:
        allowed = covering(sessions, resolve(sessions, [term], today or dt.date.today()))
    counts: dict[tuple[str, str], int] = {}
    for periods, terms in store.live_rows(school.id, "classes", ["periods", "term_sourced_ids"]):
        term_ids = json.loads(terms) if terms else [""]
        if allowed is not None:
            term_ids = [t for t in term_ids if t in allowed]
        for code in json.loads(periods) if periods else []:
            for t in term_ids:
                counts[(code, t)] = counts.get((code, t), 0) + 1
    return [{"period": code, "name": school.periods.get(code), "term": t or None, "term_title": titles.get(t),
             "classes": n} for (code, t), n in sorted(counts.items(), key=lambda kv: (_order(kv[0][0]), kv[0][1]))]


def _order(code: str) -> tuple[int, int | str]:
    """Numeric codes in numeric order, then the others alphabetically."""
    return (0, int(code)) if code.isdigit() else (1, code)


def codes(store: Store, school: School) -> list[str]:
    """Every period code on the school's live classes, in order."""
    found: set[str] = set()
    for (periods,) in store.live_rows(school.id, "classes", ["periods"]):
        found.update(json.loads(periods) if periods else ())
    return sorted(found, key=_order)


def unmapped(store: Store, school: School) -> list[str]:
    """The period codes on the school's live classes its bell-schedule map lacks."""
    return [c for c in codes(store, school) if c not in school.periods]


def parse_mapping(items: tuple[str, ...]) -> dict[str, str]:
    """``CODE=NAME`` arguments as a mapping (``CODE=`` removes a code's name)."""
    from rostersync.errors import ConfigError

    out = {}
    for item in items:
        code, sep, name = item.partition("=")
        if not sep or not code.strip():
            raise ConfigError(f"{item!r}: expected CODE=NAME, e.g. 1=\"First Period\" (CODE= removes a name)")
        out[code.strip()] = name.strip()
    return out
