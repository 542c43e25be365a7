"""A bundle's CSV row as the spec-exact JSON object of its entity (OneRoster 1.1 or 1.2 binding).

Spec-exact means: every object has ``status`` and ``dateLastModified`` (a bulk row that leaves them
blank, as the CSV binding says it must, gets ``active`` and the bundle's export time), optional fields
without a value are omitted (never ``null``), required text without a value is ``""``, values are
typed as the binding types them (:mod:`.fields`), references are GUIDRefs with ``href``,
``sourcedId`` and ``type``, and columns the binding does not define go in ``metadata``.

Values are otherwise served as the CSV holds them (grades stay ``K`` if the CSV says ``K``), so syncing
the API and syncing the bundle give the same roster. Two translations a 1.1 bundle needs in 1.2 are
made here: 1.2 has no plain ``administrator`` role (it is served as ``siteAdministrator``, or
``districtAdministrator`` for a user whose orgs are no schools), and 1.2 users carry ``roles[]``
(the user's role at each of their orgs, the first one primary) instead of ``role``/``orgs``. A 1.2
bundle's users get role, orgs and ``roles[]`` from roles.csv, handed over as values
(:class:`~rostersync.formats.oneroster12_csv.HeldRole`, one per role row): an org id may hold a comma.
A value the bundle holds that cannot be typed (``enabledUser=maybe``) is served as it is: the
server imitates a SIS, and the client must say what is wrong with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from rostersync.formats import fields as parse
from rostersync.formats.oneroster12_csv import FROM_ROLES, HeldRole
from rostersync.formats.oneroster_fields import BOOL, DATETIME, JOINED, LIST, NUMBER, REF, REFS, ROLES, USER_IDS
from rostersync.testing.oneroster_server.fields import BOOLEANS, Field

#: CSV columns never served (a SIS does not hand out passwords).
NEVER_SERVED = frozenset({"password"})
#: 1.2 role of a 1.1 ``administrator`` by whether one of the user's orgs is a school.
ADMINISTRATOR_12 = {True: "siteAdministrator", False: "districtAdministrator"}

Hrefs = Callable[[str, str], str]  # (GUIDRef type, sourcedId) -> href


def utc_z(when: dt.datetime) -> str:
    """A UTC date-time as the binding writes it: ``2026-09-01T12:00:00.000Z``."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_when(value: Any) -> dt.datetime | None:
    """An ISO 8601 date or date-time (naive ones are UTC), or None."""
    if not value or not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def number(text: str) -> Any:
    """``"85"`` -> 85, ``"85.5"`` -> 85.5; text that is no finite number stays text."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(parse.decimal(text))
    except ValueError:
        return text


class Serialiser:
    """CSV rows of one bundle -> JSON objects of the version whose fields :meth:`row` is given (the fields
    carry each version's keys and wire types, so nothing here asks which version it is)."""

    def __init__(self, hrefs: Hrefs, exported_at: str, find: Callable[[str, str], dict[str, Any] | None]) -> None:
        """``find(entity, sourcedId)``: an object served earlier (orgs and classes are read first)."""
        self.hrefs, self.exported_at, self.find = hrefs, exported_at, find

    def ref(self, kind: str, sourced_id: str) -> dict[str, str]:
        sourced_id = sourced_id.strip()
        return {"href": self.hrefs(kind, sourced_id), "sourcedId": sourced_id, "type": kind}

    def row(self, fields: tuple[Field, ...], raw: dict[str, str], metadata: dict[str, str],
            roles: Sequence[HeldRole] | None = None) -> tuple[dict[str, Any], bool]:
        """(object, whether status/dateLastModified were defaulted) for one CSV row. ``roles``: a 1.2
        bundle's user's roles from roles.csv (primary first), which give the role, orgs and ``roles[]``
        instead of the row's ``role``/``orgSourcedIds`` columns."""
        obj: dict[str, Any] = {}
        defaulted = False
        for field in fields:
            if roles is not None and field.column in FROM_ROLES:
                self._from_roles(obj, field, roles)
                continue
            columns = field.columns
            text = raw.get(columns[0], "") if len(columns) == 1 else next(
                (raw[c] for c in columns if raw.get(c, "") != ""), "")
            if not text and field.derive:
                text = self._derived(field.derive, raw)
            if field.key == "status":
                defaulted = defaulted or not text
                obj["status"] = _status(text)
            elif field.key == "dateLastModified":
                defaulted = defaulted or not text
                obj["dateLastModified"] = self._datetime(text) if text else self.exported_at
            elif field.kind == ROLES:
                obj[field.key] = self.roles(row_roles(raw.get("role", ""), text))
            elif text != "":
                obj[field.key] = self.value(field, text)
            elif field.required and field.kind != REF:
                obj[field.key] = [] if field.kind == REFS else ""
        if metadata:
            obj["metadata"] = metadata
        return obj, defaulted

    def value(self, field: Field, text: str) -> Any:
        kind = field.kind
        if kind in BOOLEANS:
            key = text.strip().lower()
            if key not in ("true", "false"):
                return text
            return key == "true" if kind == BOOL else key
        if kind == NUMBER:
            return number(text)
        if kind == DATETIME:
            return self._datetime(text)
        if kind == LIST:
            return list(parse.id_list(text))
        if kind == JOINED:
            return ",".join(parse.id_list(text))
        if kind == REF:
            return self.ref(field.ref, text)
        if kind == REFS:
            return [self.ref(field.ref, v) for v in parse.id_list(text)]
        if kind == USER_IDS:
            try:
                return [{"type": u.type, "identifier": u.identifier} for u in parse.user_ids(text)]
            except ValueError:
                return text
        return text  # (an enrollment's role keeps administrator: 1.2 enrollments have it)

    def roles(self, held: Sequence[HeldRole]) -> list[dict[str, Any]]:
        """1.2 ``roles[]``: each role at its org (a 1.1 ``administrator`` as 1.2 names it)."""
        held = [r for r in held if r.org]
        orgs = tuple(r.org for r in held)
        return [{"roleType": "primary" if r.primary else "secondary", "role": self.role_12(r.role, orgs),
                 "org": self.ref("org", r.org)} for r in held]

    def _from_roles(self, obj: dict[str, Any], field: Field, roles: Sequence[HeldRole]) -> None:
        """A user's ``roles[]`` (1.2), or ``orgs`` and ``role`` (1.1: every org once, the primary role)."""
        if field.kind == ROLES:
            obj[field.key] = self.roles(roles)
        elif field.kind == REFS:
            obj[field.key] = [self.ref(field.ref, org) for org in dict.fromkeys(r.org for r in roles if r.org)]
        elif roles and roles[0].role:
            obj[field.key] = roles[0].role
        elif field.required:
            obj[field.key] = ""

    def role_12(self, role: str, orgs: tuple[str, ...]) -> str:
        if role.strip().lower() != "administrator":
            return role
        return ADMINISTRATOR_12[any((self.find("orgs", o) or {}).get("type") == "school" for o in orgs)]

    def _derived(self, derive: tuple[str, str, str], raw: dict[str, str]) -> str:
        entity, column, key = derive
        found = self.find(entity, raw.get(column, "").strip())
        value = found.get(key) if found else None
        return str(value.get("sourcedId", "")) if isinstance(value, dict) else str(value or "")

    def _datetime(self, text: str) -> str:
        when = parse_when(text)
        return utc_z(when) if when is not None else text


def row_roles(role: str, orgs: str) -> list[HeldRole]:
    """The roles a users row with its own ``role`` and ``orgSourcedIds`` (1.1) stands for: that role at each
    of its orgs, the first one primary."""
    return [HeldRole(n == 0, role, org) for n, org in enumerate(parse.id_list(orgs))]


def _status(text: str) -> str:
    """``active`` when blank (a bulk row); 1.0's ``inactive`` is ``tobedeleted`` (1.2 binding)."""
    key = text.strip().lower()
    if not key:
        return "active"
    return "tobedeleted" if key == "inactive" else key if key in ("active", "tobedeleted") else text
