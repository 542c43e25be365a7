"""The OneRoster ``filter`` query parameter: its grammar, and the predicate it selects objects with.

Grammar (the 1.1 and 1.2 REST bindings): ``field op 'value'``, or two such clauses joined by one
logical operator, `` AND `` or `` OR ``. ``op`` is one of ``=``, ``!=``, ``>``, ``>=``, ``<``, ``<=``
and ``~`` (contains). Values are single-quoted; a quote inside a value is doubled (``'O''Brien'``).
``field`` is a JSON key of the object, or a dotted path into what it holds (``school.sourcedId``,
``roles.role``, ``metadata.bus``); a path through a list matches when any item matches.

Comparison follows the field's type (:mod:`.fields`): date-times (``dateLastModified``,
``assignDate``...) compare as instants whatever their zone, numbers as numbers, booleans as
``true``/``false`` whichever way they are sent, everything else as text (case-sensitive; ``~`` is
a case-insensitive substring test). An object without the field never matches, even with ``!=``.

Errors: a field the entity does not have, or an expression the grammar does not read, is
:class:`~.errors.ApiError` 400 ``invalid_filter_field``; a well-formed clause whose value cannot be
compared with its field (``dateLastModified>'yesterday'``) is 422 ``invaliddata``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from rostersync.formats.oneroster_fields import DATETIME, NUMBER
from rostersync.testing.oneroster_server.errors import ApiError
from rostersync.testing.oneroster_server.fields import BOOLEANS, Field
from rostersync.testing.oneroster_server.serialise import number, parse_when

Predicate = Callable[[dict[str, Any]], bool]

_FIELD = r"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
_OP = r"(!=|>=|<=|=|>|<|~)"
_VALUE = r"'((?:''|[^'])*)'"
_CLAUSE = rf"\s*{_FIELD}\s*{_OP}\s*{_VALUE}\s*"
ONE = re.compile(rf"^{_CLAUSE}$")
TWO = re.compile(rf"^{_CLAUSE}\s(AND|OR)\s{_CLAUSE}$")

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, "!=": lambda a, b: a != b, ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
}


def compile_filter(expression: str, fields: dict[str, Field]) -> Predicate:
    """A predicate for ``expression`` over objects whose top-level fields are ``fields`` (by key)."""
    two = TWO.match(expression)
    if two:
        left = _clause(*two.group(1, 2, 3), fields)
        right = _clause(*two.group(5, 6, 7), fields)
        if two.group(4) == "AND":
            return lambda o: left(o) and right(o)
        return lambda o: left(o) or right(o)
    one = ONE.match(expression)
    if one:
        return _clause(*one.group(1, 2, 3), fields)
    raise ApiError(400, f"cannot read filter {expression!r}: expected field op 'value', or two such clauses joined "
                        f"by ' AND ' or ' OR ' (op one of = != > >= < <= ~, values in single quotes)",
                   "invalid_filter_field")


def check_path(path: str, fields: dict[str, Field], minor: str, what: str) -> Field:
    """The field a (dotted) path starts at; ApiError ``minor`` when the entity has no such field."""
    head = path.split(".", 1)[0]
    field = fields.get(head)
    if field is None or ("." in path and field.kind not in ("ref", "refs", "roles", "user_ids", "metadata")):
        known = ", ".join(sorted(fields))
        raise ApiError(400, f"{what} field {path!r} is not a field of these objects (fields: {known})", minor)
    return field


def values_at(obj: Any, path: list[str]) -> list[Any]:
    """Every value at ``path`` inside ``obj``, lists flattened."""
    if isinstance(obj, list):
        return [v for item in obj for v in values_at(item, path)]
    if not path:
        return [] if obj is None else [obj]
    if not isinstance(obj, dict):
        return []
    return values_at(obj.get(path[0]), path[1:])


def typed(kind: str, value: Any) -> Any:
    """``value`` in a form that compares as the field's type does; None when it cannot."""
    if kind == DATETIME:
        return parse_when(value)
    if kind == NUMBER:
        result = number(str(value)) if not isinstance(value, bool) else None
        return result if isinstance(result, int | float) else None
    if kind in BOOLEANS or isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _clause(path: str, op: str, raw: str, fields: dict[str, Field]) -> Predicate:
    field = check_path(path, fields, "invalid_filter_field", "filter")
    value = raw.replace("''", "'")
    steps = path.split(".")
    kind = field.kind if len(steps) == 1 else "text"
    if op == "~":
        needle = value.lower()
        return lambda o: any(needle in str(v).lower() for v in values_at(o, steps))
    wanted = typed(kind, value)
    if wanted is None:
        raise ApiError(422, f"filter value {value!r} cannot be compared with {path} ({kind})", "invaliddata")
    compare = _COMPARE[op]

    def keep(obj: dict[str, Any]) -> bool:
        for found in values_at(obj, steps):
            have = typed(kind, found)
            if have is not None and compare(have, wanted):
                return True
        return False

    return keep
