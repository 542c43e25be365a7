"""Field parsers shared by the format plugins. Each takes a non-empty string and returns the stored
value, or raises ValueError with a message an operator can act on."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

import attrs

from rostersync.model import UserId

Parser = Callable[[str], Any]


def ident(value: str) -> str:
    """A sourcedId or reference: surrounding whitespace is an export artefact, not part of the id."""
    value = value.strip()
    if not value:
        raise ValueError("is blank")
    return value


def text(value: str) -> str:
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})")
#: a two-digit year is the year ending in those digits within this window around the current year
YEARS_BEFORE, YEARS_AFTER = 80, 19


def date(value: str) -> str:
    """A calendar date, YYYY-MM-DD (OneRoster). Python's other ISO forms (20260901, 2026-W01-1) are refused."""
    text = value.strip()
    try:
        if _ISO_DATE.fullmatch(text):
            return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise ValueError(f"{value!r} is not a date (expected YYYY-MM-DD)")


def century(two_digits: int, today: dt.date | None = None) -> int:
    """The four-digit year of a two-digit one: the year ending in those digits from
    :data:`YEARS_BEFORE` years before the current year to :data:`YEARS_AFTER` after it. In 2026 that is
    1946..2045: ``12/03/45`` (a term's end) is 2045, ``3/4/47`` (a teacher's birth date) is 1947.
    Spreadsheets write dates this way; birth dates over 80 years old are not in a school roster."""
    this = (today or dt.date.today()).year
    year = this // 100 * 100 + two_digits
    if year > this + YEARS_AFTER:
        year -= 100
    elif year < this - YEARS_BEFORE:
        year += 100
    return year


def us_date(value: str) -> str:
    """A Clever date, stored as YYYY-MM-DD: ``MM/DD/YYYY`` (Clever's documented form), ``M/D/YYYY``,
    ``M/D/YY`` and ``MM/DD/YY`` (what spreadsheets and older exports write; see :func:`century`) or
    ``YYYY-MM-DD``. A date that does not exist (02/30/2026, 13/01/26) is refused."""
    match = _US_DATE.fullmatch(value.strip())
    try:
        if match:
            month, day, year = (int(g) for g in match.groups())
            if len(match.group(3)) == 2:
                year = century(year)
            return dt.date(year, month, day).isoformat()
        return date(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (expected MM/DD/YYYY, M/D/YY or YYYY-MM-DD)") from None


def decimal(value: str) -> str:
    """A finite number (scores, weights), kept as the text sent so the stored value is exact. ``NaN``,
    ``Infinity`` and numbers too large for a double (``1e999``) are refused: no score is one, and
    every program reading the roster would choke on them."""
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{value[:40]!r} is not a finite number (NaN, infinity or too large)")
    return text


def datetime(value: str) -> str:
    """An ISO 8601 date-time (``2026-09-01T12:00:00.000Z``); a bare date is accepted too."""
    try:
        dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a date-time (expected YYYY-MM-DDTHH:MM:SS.sssZ)") from None
    return value.strip()


def boolean(value: str) -> bool:
    key = value.strip().lower()
    if key == "true":
        return True
    if key == "false":
        return False
    raise ValueError(f"{value!r} is not a boolean (expected true or false)")


def yes_no(value: str) -> bool:
    """Clever's Y/N flags (also yes/no, true/false), any case."""
    key = value.strip().lower()
    if key in ("y", "yes", "true"):
        return True
    if key in ("n", "no", "false"):
        return False
    raise ValueError(f"{value!r} is not Y or N")


def id_list(value: str) -> tuple[str, ...]:
    """A comma-separated list inside one field (``"a,b"``); spaces around items are tolerated."""
    return tuple(item.strip() for item in value.split(",") if item.strip())


def one_of(*allowed: str) -> Parser:
    """An enumeration matched case-insensitively, stored in the spec's spelling."""
    lookup = {a.lower(): a for a in allowed}

    def parse(value: str) -> str:
        key = value.strip().lower()
        if key in lookup:
            return lookup[key]
        raise ValueError(f"{value!r} is not one of: {', '.join(allowed)}")

    return parse


def one_of_ext(*allowed: str) -> Parser:
    """A OneRoster 1.2 enumeration: the spec's values, or an extension value written ``ext:name``."""
    strict = one_of(*allowed)

    def parse(value: str) -> str:
        text = value.strip()
        if text.startswith("ext:") and len(text) > 4:
            return text
        return strict(value)

    return parse


@attrs.frozen
class ListOf:
    """A comma-separated list whose items each pass ``item``: a class rather than a closure so that the
    OneRoster field table can tell a list from text (REST JSON sends it as an array)."""

    item: Parser

    def __call__(self, value: str) -> tuple[Any, ...]:
        return tuple(self.item(v) for v in id_list(value))


def list_of(item: Parser) -> Parser:
    """A comma-separated list whose items each pass ``item`` (e.g. resource roles)."""
    return ListOf(item)


_USER_ID = re.compile(r"\{\s*([^:{}]+?)\s*:\s*([^{}]*?)\s*\}")


def user_ids(value: str) -> tuple[UserId, ...]:
    """OneRoster ``userIds``: ``{type:identifier}`` items, comma-separated."""
    found = _USER_ID.findall(value)
    leftover = _USER_ID.sub("", value).replace(",", "").strip()
    if leftover or not found:
        raise ValueError(f"{value!r} is not a list of {{type:identifier}} items")
    return tuple(UserId(t, i) for t, i in found)
