"""Which academic sessions a school means by "the current term" and "the next term", from the sessions'
own dates and today's date (selective sync's ``terms``, ``rostersync periods --term``).

* **current**: every term-like session (semester, term, grading period) whose dates contain today;
  when none does (summer, a gap between terms), the school year that contains today;
* **next**: the term-like sessions that start first after today (several when a district runs
  semesters and terms side by side: all that start on that first date);
* anything else names a session by sourcedId or title (any case).

A class belongs to a selection when one of its terms is a selected session, a session inside one
(a grading period of the current semester) or the school year a selected session is part of (a
year-long class meets in the current term too).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import attrs

TERM_LIKE = ("term", "semester", "gradingPeriod")
KEYWORDS = ("current", "next")


@attrs.frozen
class Session:
    sourced_id: str
    title: str
    type: str
    start: str
    end: str
    parent: str | None = None


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10])
    except (TypeError, ValueError):
        return None


def resolve(sessions: Sequence[Session], wanted: Iterable[str], today: dt.date) -> dict[str, str]:
    """The sessions ``wanted`` names (keywords, sourcedIds or titles), as ``{sourcedId: title}``."""
    by_id = {s.sourced_id: s for s in sessions}
    chosen: dict[str, str] = {}
    for word in wanted:
        if word == "current":
            found = [s for s in sessions if s.type in TERM_LIKE and _contains(s, today)]
            found = found or [s for s in sessions if s.type == "schoolYear" and _contains(s, today)]
        elif word == "next":
            later = [s for s in sessions if s.type in TERM_LIKE and (_day(s.start) or today) > today]
            first = min((_day(s.start) for s in later), default=None)
            found = [s for s in later if _day(s.start) == first]
        else:
            found = [s for s in sessions if s.sourced_id == word or s.title.lower() == word.lower()]
        chosen.update({s.sourced_id: s.title for s in found})
    return {sid: chosen[sid] for sid in sorted(chosen, key=lambda i: (by_id[i].start, i))}


def _contains(session: Session, day: dt.date) -> bool:
    start, end = _day(session.start), _day(session.end)
    return start is not None and end is not None and start <= day <= end


def covering(sessions: Sequence[Session], selected: Iterable[str]) -> frozenset[str]:
    """The sessions a class may name to be in ``selected``: those, the ones inside them (any depth) and
    the ones they are inside (their school year)."""
    parent = {s.sourced_id: s.parent for s in sessions}
    down = set(selected)
    while inside := {s.sourced_id for s in sessions if s.parent in down} - down:  # grading periods of a term
        down |= inside
    out = set(down)
    for sid in selected:  # up: the year (a year-long class is in every term of it)
        seen: set[str] = set()
        while (up := parent.get(sid)) and up not in seen:
            seen.add(up)
            out.add(up)
            sid = up
    return frozenset(out)
