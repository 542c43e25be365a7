"""Field parsers shared by the format plugins. Each takes a non-empty string and returns the stored
value, or raises ValueError with a message an operator can act on."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

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


def date(value: str) -> str:
    """A calendar date, YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise ValueError(f"{value!r} is not a date (expected YYYY-MM-DD)") from None


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


_USER_ID = re.compile(r"\{\s*([^:{}]+?)\s*:\s*([^{}]*?)\s*\}")


def user_ids(value: str) -> tuple[UserId, ...]:
    """OneRoster ``userIds``: ``{type:identifier}`` items, comma-separated."""
    found = _USER_ID.findall(value)
    leftover = _USER_ID.sub("", value).replace(",", "").strip()
    if leftover or not found:
        raise ValueError(f"{value!r} is not a list of {{type:identifier}} items")
    return tuple(UserId(t, i) for t, i in found)
