"""Data quirks of SIS connectors: where an SIS's records break the spec, the small fix applied per batch.

Each :class:`~rostersync.connector.Quirk` rewrites a raw batch before its format maps it, so the
format's validation still judges the result. A fix never drops what the SIS sent: a value it replaces
is kept in the record's ``metadata`` as ``original.<field>`` (stored in ``extra`` as
``metadata.original.<field>``). HTTP habits (sort order, refresh on 500, token URL query strings,
scopes, cookies) are profile settings, not quirks.

Checked and left to the formats, so no quirk exists for them: JSON sourcedIds and references are
trimmed by the OneRoster JSON mapper for every SIS (PowerSchool's padded ids); ``userIds`` types are
free text there; ``metadata`` objects are kept in ``extra`` (Smartschool's ``smsc.classInfo``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
from rostersync.batches import RawBatch
from rostersync.connector import Quirk
from rostersync.model import CLASS_TYPES, ENROLLMENT_ROLES, ORG_TYPES, SESSION_TYPES, USER_ROLES

JSON_FORMATS = ("oneroster-1.1-json", "oneroster-1.2-json")


def rewrite(batch: RawBatch, fix: Callable[[dict[str, Any]], dict[str, Any]]) -> RawBatch:
    """``batch`` with each JSON object passed through ``fix`` (which returns it, or a changed copy);
    the same batch when nothing changed."""
    rows = [fix(row) if type(row) is dict else row for row in batch.rows]
    if all(new is old for new, old in zip(rows, batch.rows, strict=True)):
        return batch
    replaced = getattr(batch.rows, "replaced", None)  # pages grouped in one batch: each row keeps its page
    return attrs.evolve(batch, rows=replaced(rows) if replaced else rows)


def keep_original(obj: dict[str, Any], field: str, raw: Any, **changes: Any) -> dict[str, Any]:
    """A copy of ``obj`` with ``changes``, its ``metadata`` noting ``original.<field>`` = ``raw``."""
    metadata = obj.get("metadata")
    metadata = dict(metadata) if isinstance(metadata, Mapping) else {}
    metadata[f"original.{field}"] = raw
    return {**obj, **changes, "metadata": metadata}


def _enum(allowed: tuple[str, ...], extra: Mapping[str, str], fallback: str | None) -> Callable[[Any, bool], Any]:
    """(value, ext_ok) -> the spec value it stands for, or None to keep it as sent. ``extra`` names known
    extension values; ``ext:<spec value>`` is that value; another ``ext:`` value is kept where the format
    accepts extensions (``ext_ok``: OneRoster 1.2); anything else unknown is ``fallback`` (None: left for
    the format to refuse, naming the record)."""
    spec = {a.lower(): a for a in allowed}
    known = {k.lower(): v for k, v in extra.items()}

    def nearest(value: Any, ext_ok: bool) -> str | None:
        if not isinstance(value, str) or value.strip().lower() in spec:
            return None
        key = value.strip().lower()
        if key in known:
            return known[key]
        if key.startswith("ext:") and key[4:] in spec:
            return spec[key[4:]]
        if key.startswith("ext:") and ext_ok:
            return None
        return fallback

    return nearest


# -- OneRoster 1.2 Norwegian profile (Vigilo, Skool) ---------------------------------------------------------
#: The profile's own enumeration values are not public (only ``ext:primaryGuardian``, in Vigilo's docs), so
#: an unknown class type is read as ``scheduled`` (the spec's general kind) and an unknown org type as
#: ``department`` (a unit that is not a school, district or state); an unknown person role is not guessed.
_NORWEGIAN = {
    "orgs": ("type", _enum(ORG_TYPES, {}, "department")),
    "classes": ("classType", _enum(CLASS_TYPES, {}, "scheduled")),
    "academic_sessions": ("type", _enum(SESSION_TYPES, {}, None)),
    "enrollments": ("role", _enum(ENROLLMENT_ROLES, {}, None)),
    "users": ("role", _enum(USER_ROLES, {"ext:primaryGuardian": "guardian"}, None)),
}


def _user_roles(obj: dict[str, Any], nearest: Callable[[Any], str | None]) -> dict[str, Any]:
    """1.2 users: each ``roles[].role`` read through ``nearest``; the raw roles kept, comma-separated."""
    new, changed = [], []
    for role in obj["roles"]:
        value = nearest(role.get("role")) if isinstance(role, Mapping) else None
        new.append({**role, "role": value} if value else role)
        if value:
            changed.append(str(role["role"]))
    return keep_original(obj, "role", ",".join(changed), roles=new) if changed else obj


def norwegian_profile(batch: RawBatch) -> RawBatch:
    """Enumeration values of the OneRoster 1.2 Norwegian profile read as the spec's nearest values."""
    if batch.entity not in _NORWEGIAN:
        return batch
    field, table = _NORWEGIAN[batch.entity]
    ext_ok = batch.format == "oneroster-1.2-json"

    def nearest(value: Any) -> str | None:
        return table(value, ext_ok)

    def fix(obj: dict[str, Any]) -> dict[str, Any]:
        if batch.entity == "users" and isinstance(obj.get("roles"), list):
            return _user_roles(obj, nearest)
        value = nearest(obj.get(field))
        return keep_original(obj, field, obj[field], **{field: value}) if value else obj

    return rewrite(batch, fix)


NORWEGIAN_PROFILE = Quirk(
    "norwegian-profile",
    "OneRoster Norwegian profile values are read as the spec's: role ext:primaryGuardian as guardian (so "
    "guardians are guardians), ext:<spec value> as that value, and a class or org type the format would refuse "
    "as scheduled or department; each replaced value is kept in the record's metadata as original.<field>. "
    "Other ext: values are kept as sent (OneRoster 1.2 allows them); userIds types and onedhub.* metadata need "
    "no fix; an unknown person role is refused with its record named.",
    JSON_FORMATS, norwegian_profile)


# -- Rediker: schools sent as departments -------------------------------------------------------------------
def _org_type(obj: Any) -> str:
    return str(obj.get("type") or "").strip().lower() if isinstance(obj, Mapping) else ""


def rediker_departments(batch: RawBatch) -> RawBatch:
    """Rediker's non-standard org type ``departments`` read as ``department``; when a batch of orgs has no
    school at all (some Rediker tenants send every school as a department), its departments are schools."""
    if batch.entity != "orgs":
        return batch
    schools_missing = not any(_org_type(o) == "school" for o in batch.rows)

    def fix(obj: dict[str, Any]) -> dict[str, Any]:
        if _org_type(obj) not in ("department", "departments"):
            return obj
        wanted = "school" if schools_missing else "department"
        return obj if obj["type"] == wanted else keep_original(obj, "type", obj["type"], type=wanted)

    return rewrite(batch, fix)


REDIKER_DEPARTMENTS = Quirk(
    "department-schools",
    "Org type 'departments' (non-standard) is read as department; when the orgs Rediker sends hold no school "
    "at all, its departments are the schools and are read as such (the type sent is kept in metadata as "
    "original.type). Judged per batch of orgs (about 2000).",
    JSON_FORMATS, rediker_departments)
