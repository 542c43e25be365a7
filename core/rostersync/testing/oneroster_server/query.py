"""The query parameters of a OneRoster read: ``limit``/``offset``, ``sort``/``orderBy``, ``fields``, ``filter``.

* ``limit`` (default 100, at least 1) and ``offset`` (default 0, at least 0) are integers; anything else
  is 400 ``invaliddata``. An offset past the end gives an empty page.
* ``sort`` names a field (or a dotted path into one, like ``filter``); ``orderBy`` is ``asc`` (default)
  or ``desc``. Values sort by the field's type; objects without the field sort last. An unknown sort
  field is 400: ``invalid_sort_field`` in 1.1; 1.2 has no such codeMinor, so ``invaliddata``.
* ``fields`` selects top-level fields: comma-separated (1.1: ``explode: false``) or repeated (1.2's
  OpenAPI default, ``explode: true``), or both. An unknown field is 400 ``invalid_selection_field``.
* ``filter``: :mod:`.filters`.

A page's headers: ``X-Total-Count`` (the 1.1 and 1.2 bindings) and an RFC 8288 ``Link`` header with
``first``/``last``/``next``/``prev`` (what 1.1 servers send; the 1.2 OpenAPI declares the same links).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import attrs

from rostersync.testing.oneroster_server.errors import ApiError
from rostersync.testing.oneroster_server.fields import Field
from rostersync.testing.oneroster_server.filters import Predicate, check_path, compile_filter, typed, values_at

DEFAULT_LIMIT = 100


@attrs.frozen
class Query:
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    sort: str = ""
    descending: bool = False
    fields: tuple[str, ...] = ()
    keep: Predicate | None = None
    filter: str = ""


def _integer(params: dict[str, str], name: str, default: int, least: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ApiError(400, f"{name} must be an integer (got {raw!r})", "invaliddata") from None
    if value < least:
        raise ApiError(400, f"{name} must be at least {least} (got {value})", "invaliddata")
    return value


def read_query(params: list[tuple[str, str]], fields: dict[str, Field], version: str, *, collection: bool) -> Query:
    """The query of one request, checked against the entity's ``fields``; raises ApiError."""
    single = dict(params)
    selected = tuple(f.strip() for name, value in params if name == "fields" for f in value.split(",") if f.strip())
    for name in selected:
        if name not in fields:
            known = ", ".join(sorted(fields))
            raise ApiError(400, f"fields: {name!r} is not a field of these objects (fields: {known})",
                           "invalid_selection_field")
    if not collection:
        return Query(fields=selected)
    sort = single.get("sort", "").strip()
    if sort:
        check_path(sort, fields, "invalid_sort_field" if version == "1.1" else "invaliddata", "sort")
    order = single.get("orderBy", "asc").strip() or "asc"
    if order not in ("asc", "desc"):
        raise ApiError(400, f"orderBy must be asc or desc (got {order!r})", "invaliddata")
    expression = single.get("filter", "")
    return Query(limit=_integer(single, "limit", DEFAULT_LIMIT, 1), offset=_integer(single, "offset", 0, 0),
                 sort=sort, descending=order == "desc", fields=selected, filter=expression,
                 keep=compile_filter(expression, fields) if expression.strip() else None)


def sort_objects(items: list[dict[str, Any]], query: Query, fields: dict[str, Field]) -> list[dict[str, Any]]:
    """``items`` in the order ``query.sort``/``orderBy`` asks; objects without a value last either way."""
    steps = query.sort.split(".")
    kind = fields[steps[0]].kind if len(steps) == 1 else "text"

    def key(obj: dict[str, Any]) -> Any:
        found = [t for t in (typed(kind, v) for v in values_at(obj, steps)) if t is not None]
        return min(found) if found else None

    present = [(key(o), o) for o in items]
    valued = sorted((p for p in present if p[0] is not None), key=lambda p: p[0], reverse=query.descending)
    return [o for _k, o in valued] + [o for k, o in present if k is None]


def select_fields(obj: dict[str, Any], wanted: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k in wanted} if wanted else obj


def link_header(url: str, params: list[tuple[str, str]], offset: int, limit: int, total: int) -> str:
    """RFC 8288 ``Link``: first, last, and next/prev where there are such pages."""
    kept = [(k, v) for k, v in params if k not in ("offset", "limit")]

    def at(off: int) -> str:
        return url + "?" + urlencode([*kept, ("offset", str(off)), ("limit", str(limit))])

    links = [f'<{at(0)}>; rel="first"', f'<{at(max(0, (total - 1) // limit * limit))}>; rel="last"']
    if offset + limit < total:
        links.append(f'<{at(offset + limit)}>; rel="next"')
    if offset > 0:
        links.append(f'<{at(max(0, offset - limit))}>; rel="prev"')
    return ", ".join(links)
