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
(the user's role at each of their orgs, the first one primary) instead of ``role``/``orgs``.
A value the bundle holds that cannot be typed (``enabledUser=maybe``) is served as it is: the
server imitates a SIS, and the client must say what is wrong with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from rostersync.formats import fields as parse
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
    """CSV rows of one bundle -> JSON objects of one version."""

    def __init__(self, version: str, hrefs: Hrefs, exported_at: str,
                 find: Callable[[str, str], dict[str, Any] | None]) -> None:
        """``find(entity, sourcedId)``: an object served earlier (orgs and classes are read first)."""
        self.version, self.hrefs, self.exported_at, self.find = version, hrefs, exported_at, find

    def ref(self, kind: str, sourced_id: str) -> dict[str, str]:
        sourced_id = sourced_id.strip()
        return {"href": self.hrefs(kind, sourced_id), "sourcedId": sourced_id, "type": kind}

    def row(self, fields: tuple[Field, ...], raw: dict[str, str],
            metadata: dict[str, str]) -> tuple[dict[str, Any], bool]:
        """(object, whether status/dateLastModified were defaulted) for one CSV row."""
        obj: dict[str, Any] = {}
        defaulted = False
        for field in fields:
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
                obj["roles"] = self.roles(raw.get("role", ""), text)
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

    def roles(self, role: str, orgs_text: str) -> list[dict[str, Any]]:
        """1.2 ``roles[]``: the user's role at each of their orgs, the first one primary."""
        orgs = parse.id_list(orgs_text)
        role = self.role_12(role, orgs)
        return [{"roleType": "primary" if n == 0 else "secondary", "role": role, "org": self.ref("org", org)}
                for n, org in enumerate(orgs)]

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


def _status(text: str) -> str:
    """``active`` when blank (a bulk row); 1.0's ``inactive`` is ``tobedeleted`` (1.2 binding)."""
    key = text.strip().lower()
    if not key:
        return "active"
    return "tobedeleted" if key == "inactive" else key if key in ("active", "tobedeleted") else text
