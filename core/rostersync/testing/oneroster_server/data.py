"""The objects a loopback server serves: a OneRoster CSV bundle read once into spec-exact JSON objects.

Objects are kept per entity in bundle order, with an index by ``sourcedId``, each one's compact JSON
cached (pages of a well-behaved server are joined from those bytes, which keeps a 20k-student
district fast), and the links files (classResources, courseResources) as (owner, resource) pairs for
the nested endpoints. Edits (:meth:`RosterData.update`, :meth:`delete`, :meth:`add`) stamp
``dateLastModified`` as a SIS does, so delta tests can change the roster while the server runs; each
edit replaces the object (a cached encoding is never stale) and drops cached selections.

Which objects had no ``status``/``dateLastModified`` in the bundle (bulk rows) is remembered, so the
``nulls`` behaviour can send those as ``null`` the way some servers do.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rostersync.csvbundle import bundle_plan, read_csv_batches
from rostersync.formats.oneroster12_csv import HeldRole
from rostersync.testing.oneroster_server import fields as spec
from rostersync.testing.oneroster_server.serialise import NEVER_SERVED, Hrefs, Serialiser, utc_z


def now_z() -> str:
    return utc_z(dt.datetime.now(dt.UTC))


def export_time(bundle: Path) -> str:
    """When the bundle was exported, as far as it tells: its newest file's modification time."""
    newest = max((p.stat().st_mtime for p in Path(bundle).glob("*.csv")), default=0.0)
    return utc_z(dt.datetime.fromtimestamp(newest, dt.UTC))


class RosterData:
    """Every served object by entity, in bundle order; thread-safe edits for delta tests."""

    def __init__(self, bundle: Path, version: str, hrefs: Hrefs, exported_at: str | None = None) -> None:
        self.version = version
        self.exported_at = exported_at or export_time(bundle)
        self.lock = threading.Lock()
        self.objects: dict[str, list[dict[str, Any]]] = {}
        self.links: dict[str, list[tuple[str, str]]] = {}
        self.defaulted: dict[str, set[str]] = {}
        self._index: dict[str, dict[str, dict[str, Any]]] = {}
        self._encoded: dict[int, tuple[dict[str, Any], bytes]] = {}  # id -> (object kept alive, its JSON)
        self._selections: dict[Any, list[dict[str, Any]]] = {}
        serialiser = Serialiser(hrefs, self.exported_at, self.find)
        roles: dict[str, list[HeldRole]] = {}
        served = spec.served(version)
        for name, entity, _mode in bundle_plan(Path(bundle)):
            path = Path(bundle) / name
            if entity == "roles":
                _read_roles(_rows(path, entity), roles)
            elif entity in spec.LINKS:
                owner, resource = spec.LINKS[entity]
                self.links[entity] = [(r.get(owner, "").strip(), r.get(resource, "").strip())
                                      for r in _rows(path, entity)]
            elif entity in served:
                self._load(entity, _rows(path, entity), serialiser, roles if entity == "users" else None)

    def _load(self, entity: str, rows: Iterator[dict[str, str]], serialiser: Serialiser,
              roles: dict[str, list[HeldRole]] | None) -> None:
        fields = spec.fields(entity, self.version)
        known = {c for v in ("1.1", "1.2") for f in spec.fields(entity, v) for c in f.columns} | {"role"}
        items, defaulted = self.objects.setdefault(entity, []), self.defaulted.setdefault(entity, set())
        extra: list[str] | None = None  # the file's columns the binding does not define (one header a file)
        for raw in rows:
            if extra is None:
                extra = [n for n in raw if n not in known and n not in NEVER_SERVED and not n.startswith("_")]
            metadata = {n.removeprefix("metadata."): raw[n] for n in extra if raw.get(n, "") != ""}
            held = roles.get(raw.get("sourcedId", "").strip(), []) if roles else None
            obj, blank = serialiser.row(fields, raw, metadata, held)
            items.append(obj)
            if blank:
                defaulted.add(obj["sourcedId"])
        self._index[entity] = {o["sourcedId"]: o for o in items}

    def encoded(self, obj: dict[str, Any]) -> bytes:
        """``obj`` as compact JSON, cached (an edit replaces the object, so its cache entry is never stale)."""
        hit = self._encoded.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        data = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self._encoded[id(obj)] = (obj, data)
        return data

    def selection(self, key: Any, select: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        """The objects ``select()`` picks, cached under ``key`` until the next edit (paging a nested
        endpoint asks for the same selection once per page)."""
        with self.lock:
            hit = self._selections.get(key)
        if hit is None:
            hit = select()
            with self.lock:
                self._selections[key] = hit
        return hit

    # -- look-ups and edits (each edit stamps dateLastModified, as a SIS does) ----------------------------
    def find(self, entity: str, sourced_id: str) -> dict[str, Any] | None:
        return self._index.get(entity, {}).get(sourced_id)

    def update(self, entity: str, sourced_id: str, **changes: Any) -> dict[str, Any]:
        with self.lock:
            obj = self.find(entity, sourced_id)
            if obj is None:
                raise KeyError(f"{entity} {sourced_id} not in the simulator")
            new = {**obj, **changes, "status": changes.get("status", "active"), "dateLastModified": now_z()}
            items = self.objects[entity]
            items[items.index(obj)] = new
            self._index[entity][sourced_id] = new
            self.defaulted.get(entity, set()).discard(sourced_id)
            self._selections.clear()
            return new

    def delete(self, entity: str, sourced_id: str) -> dict[str, Any]:
        return self.update(entity, sourced_id, status="tobedeleted")

    def add(self, entity: str, obj: dict[str, Any]) -> None:
        with self.lock:
            new = {**obj, "status": "active", "dateLastModified": now_z()}
            self.objects.setdefault(entity, []).append(new)
            self._index.setdefault(entity, {})[new["sourcedId"]] = new
            self._selections.clear()


def _rows(path: Path, entity: str) -> Iterator[dict[str, str]]:
    for batch in read_csv_batches(path, format="csv", entity=entity):
        header = batch.header
        for _line, row in batch.rows:
            yield dict(zip(header, row, strict=False))


def _read_roles(rows: Iterator[dict[str, str]], into: dict[str, list[HeldRole]]) -> None:
    """A 1.2 bundle's roles.csv as each user's live roles (not ``tobedeleted``), primary first, then in file
    order, as the bundle reader joins them: values, never text joined with commas (an org id may hold one)."""
    for raw in rows:
        if raw.get("status", "").strip().lower() != "tobedeleted":
            into.setdefault(raw.get("userSourcedId", "").strip(), []).append(HeldRole(
                raw.get("roleType", "").strip().lower() == "primary", raw.get("role", "").strip(),
                raw.get("orgSourcedId", "").strip()))
    for held in into.values():
        held.sort(key=lambda r: not r.primary)
