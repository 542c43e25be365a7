"""A OneRoster CSV bundle as the JSON objects a OneRoster REST server returns (1.1 or 1.2 shapes).

Values are served as the CSV holds them (grades stay ``K`` if the CSV says ``K``), so syncing the API
and syncing the bundle must give the same roster. The JSON layout is derived from the two mappers'
tables, joined on the canonical attribute: the CSV column that fills ``given_name`` is served under the
JSON key that the JSON mapper reads into ``given_name``, with references as GUIDRef objects, lists as
arrays and ``metadata.*`` columns in a ``metadata`` object.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rostersync.csvbundle import bundle_plan, read_csv_batches
from rostersync.formats import fields as f
from rostersync.formats import oneroster_csv, oneroster_json
from rostersync.formats.oneroster_json import LIST, REF, REFS, TEXT, USER_IDS

#: GUIDRef ``type`` and collection path of what each JSON reference key points at.
REF_TARGETS = {
    "parent": ("org", "orgs"), "school": ("org", "orgs"), "org": ("org", "orgs"), "orgs": ("org", "orgs"),
    "course": ("course", "courses"), "class": ("class", "classes"), "user": ("user", "users"),
    "agents": ("user", "users"), "terms": ("academicSession", "academicSessions"),
    "schoolYear": ("academicSession", "academicSessions"), "primaryOrg": ("org", "orgs"),
}
SESSION_PARENT = ("academicSession", "academicSessions")
NEVER_SERVED = frozenset({"password"})


def now_z() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_when(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(str(value).strip())
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


class RosterData:
    """Every served object by entity, in bundle order; thread-safe edits for delta tests."""

    def __init__(self, bundle: Path, version: str, base_url: str = "") -> None:
        self.version, self.base_url = version, base_url.rstrip("/")
        self.lock = threading.Lock()
        self.objects: dict[str, list[dict[str, Any]]] = {}
        self._encoded: dict[int, tuple[dict[str, Any], bytes]] = {}  # id -> (object kept alive, its JSON)
        for name, entity, _mode in bundle_plan(Path(bundle)):
            self.objects[entity] = list(self._read(Path(bundle) / name, entity))

    def _read(self, path: Path, entity: str) -> Iterator[dict[str, Any]]:
        csv_columns = oneroster_csv.FILES[entity].columns
        by_attr = {c.attr: c.name for c in csv_columns}
        json_fields = _json_fields(entity, self.version)
        for batch in read_csv_batches(path, format="csv", entity=entity):
            index = {name: i for i, name in enumerate(batch.header)}
            metadata_cols = [(i, n) for n, i in index.items()
                             if n not in {c.name for c in csv_columns} and n not in NEVER_SERVED]
            for _line, row in batch.rows:
                raw = {name: row[i] for name, i in index.items()}
                obj: dict[str, Any] = {}
                for field in json_fields:
                    column = by_attr.get(field.attr)
                    value = raw.get(column, "") if column else ""
                    obj[field.key] = self._value(field, value, entity)
                if entity == "users" and self.version == "1.2":
                    obj["roles"] = self._roles(raw)
                metadata = {n.removeprefix("metadata."): row[i] for i, n in metadata_cols if row[i] != ""}
                if metadata:
                    obj["metadata"] = metadata
                yield obj

    def _value(self, field: oneroster_json.Field, value: str, entity: str) -> Any:
        if value == "":
            return [] if field.kind in (REFS, LIST, USER_IDS) else None
        if field.kind == TEXT:
            return (value.strip().lower() == "true") if field.parse is f.boolean else value
        if field.kind == LIST:
            return list(f.id_list(value))
        if field.kind == USER_IDS:
            return [{"type": u.type, "identifier": u.identifier} for u in f.user_ids(value)]
        target = SESSION_PARENT if entity == "academic_sessions" and field.key == "parent" else REF_TARGETS[field.key]
        if field.kind == REF:
            return self.ref(target, value)
        return [self.ref(target, v) for v in f.id_list(value)]

    def ref(self, target: tuple[str, str], sourced_id: str) -> dict[str, str]:
        kind, path = target
        return {"href": f"{self.base_url}/{path}/{sourced_id.strip()}", "sourcedId": sourced_id, "type": kind}

    def _roles(self, raw: dict[str, str]) -> list[dict[str, Any]]:
        """1.2 roles[]: the 1.1 role at each of the user's orgs, the first one primary."""
        orgs = f.id_list(raw.get("orgSourcedIds", ""))
        return [{"roleType": "primary" if n == 0 else "secondary", "role": raw.get("role") or None,
                 "org": self.ref(("org", "orgs"), org)} for n, org in enumerate(orgs)]

    def encoded(self, obj: dict[str, Any]) -> bytes:
        """``obj`` as compact JSON, cached (an edit replaces the object, so its cache entry is never stale)."""
        hit = self._encoded.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        data = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self._encoded[id(obj)] = (obj, data)
        return data

    # -- edits (each stamps dateLastModified, as a SIS does) --------------------------------------------
    def find(self, entity: str, sourced_id: str) -> dict[str, Any] | None:
        return next((o for o in self.objects.get(entity, []) if o["sourcedId"] == sourced_id), None)

    def update(self, entity: str, sourced_id: str, **changes: Any) -> dict[str, Any]:
        with self.lock:
            obj = self.find(entity, sourced_id)
            if obj is None:
                raise KeyError(f"{entity} {sourced_id} not in the simulator")
            new = {**obj, **changes, "status": changes.get("status", "active"), "dateLastModified": now_z()}
            items = self.objects[entity]
            items[items.index(obj)] = new
            return new

    def delete(self, entity: str, sourced_id: str) -> dict[str, Any]:
        return self.update(entity, sourced_id, status="tobedeleted")

    def add(self, entity: str, obj: dict[str, Any]) -> None:
        with self.lock:
            self.objects.setdefault(entity, []).append({**obj, "status": "active", "dateLastModified": now_z()})


def _json_fields(entity: str, version: str) -> list[oneroster_json.Field]:
    _record, by_version = oneroster_json.ENTITIES[entity]
    return by_version.get(version) or by_version["*"]
