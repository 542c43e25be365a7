"""A full pull of a Clever district: every list read once, joined in a private SQLite file, then
yielded as ``clever-api-json`` batches in dependency order, every entity ``bulk``.

Clever relates objects by Clever id and in one direction only: a section lists its students and
teachers, a contact its students (a student does not list its contacts), a section names its course
and term. The canonical records need those ids resolved to the sis ids the id rule keys by, and
links both ways (a student's guardians), and a course per school made from its sections. So the
lists are read first (schools, terms and courses, which are small, into memory; sections and users
into a scratch database, :class:`~rostersync.formats.scratch.ScratchIndex`, removed with the run's
work folder), then each batch of rows is given
the objects it refers to (``refs``), looked up per batch with indexed ``IN`` queries. Memory is
bounded by a batch, whatever the district's size.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from rostersync.batches import RawBatch
from rostersync.clever.client import CleverClient, Item
from rostersync.formats.clever_api import CLEVER_API, course_id, members, relationships, roles_of, term_id
from rostersync.formats.scratch import ScratchIndex

#: rows per raw batch (per-batch work is paid per group)
BATCH_ROWS = 2000
PEOPLE_ORDER = ("student", "contact", "teacher", "staff", "district_admin")


def rows_of(client: CleverClient, uri: str, obj: dict[str, Any], kind: str, refs: Mapping[str, Any],
            **more: Any) -> dict[str, Any]:
    """One raw row: the object, where it is (its API URI), what kind of record it makes, its refs."""
    return {"kind": kind, "uri": client.url(uri) if uri else client.url(f"{_collection(kind)}/{obj.get('id')}"),
            "object": obj, "refs": refs, **more}


def _collection(kind: str) -> str:
    return {"district": "districts", "school": "schools", "term": "terms", "course": "courses",
            "section": "sections", "enrollments": "sections"}.get(kind, "users")


class Index(ScratchIndex):
    """Sections and users of one pull, in a private scratch database."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, """
            CREATE TABLE sections (id TEXT PRIMARY KEY, uri TEXT, course TEXT, school TEXT, json TEXT) WITHOUT ROWID;
            CREATE TABLE users (id TEXT PRIMARY KEY, uri TEXT, json TEXT) WITHOUT ROWID;
            CREATE TABLE roles (role TEXT, id TEXT, PRIMARY KEY (role, id)) WITHOUT ROWID;
            CREATE TABLE contacts (student TEXT, contact TEXT, PRIMARY KEY (student, contact)) WITHOUT ROWID;
        """)

    def add_sections(self, items: Iterable[Item], schools: Mapping[str, Any], courses: Mapping[str, Any]) -> None:
        for chunk in _chunks(items, BATCH_ROWS):
            self.insert("INSERT OR REPLACE INTO sections VALUES (?, ?, ?, ?, ?)", [
                (obj["id"], uri, course_id(obj, schools.get(str(obj.get("school"))),
                                           courses.get(str(obj.get("course")))),
                 str(obj.get("school") or ""), json.dumps(obj)) for uri, obj in chunk])

    def add_users(self, items: Iterable[Item]) -> None:
        for chunk in _chunks(items, BATCH_ROWS):
            self.insert("INSERT OR REPLACE INTO users VALUES (?, ?, ?)",
                        [(obj["id"], uri, json.dumps(obj)) for uri, obj in chunk])
            self.insert("INSERT OR IGNORE INTO roles VALUES (?, ?)",
                        [(role, obj["id"]) for _uri, obj in chunk for role in roles_of(obj)])
            self.insert("INSERT OR IGNORE INTO contacts VALUES (?, ?)",
                        [(str(rel.get("student")), obj["id"]) for _uri, obj in chunk if "contact" in roles_of(obj)
                         for rel in relationships(obj)])

    def sections(self) -> Iterator[list[Item]]:
        cursor = self.conn.execute("SELECT uri, json FROM sections ORDER BY id")
        while chunk := cursor.fetchmany(BATCH_ROWS):
            yield [(uri, json.loads(text)) for uri, text in chunk]

    def courses(self) -> Iterator[tuple[str, str, str, list[dict[str, Any]]]]:
        """(course key, course Clever id, school Clever id, its sections there in id order)."""
        cursor = self.conn.execute("SELECT course, school, json FROM sections ORDER BY course, id")
        group: list[dict[str, Any]] = []
        key = school = None
        for course, where, text in cursor:
            if course != key and group:
                yield key, str(group[0].get("course") or ""), school, group  # type: ignore[misc]
                group = []
            key, school = course, where
            group.append(json.loads(text))
        if group:
            yield key, str(group[0].get("course") or ""), school, group  # type: ignore[misc]

    def people(self, role: str) -> Iterator[list[Item]]:
        cursor = self.conn.execute("SELECT u.uri, u.json FROM roles r JOIN users u ON u.id = r.id WHERE r.role = ? "
                                   "ORDER BY r.id", [role])
        while chunk := cursor.fetchmany(BATCH_ROWS):
            yield [(uri, json.loads(text)) for uri, text in chunk]

    def users(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The users among ``ids`` (one batch's references)."""
        found = self.lookup("SELECT id, json FROM users WHERE id IN ({})", list(dict.fromkeys(ids)))
        return {uid: json.loads(text) for uid, text in found}

    def contacts_of(self, students: Iterable[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = collections.defaultdict(list)
        found = self.lookup("SELECT student, contact FROM contacts WHERE student IN ({}) ORDER BY 2",
                            list(dict.fromkeys(students)))
        for student, contact in sorted(found, key=lambda pair: pair[1]):
            out[student].append(contact)
        return out


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def pull(client: CleverClient, work_dir: Path, *, demographics: bool) -> Iterator[RawBatch]:
    """Every entity of the district, ``bulk``, in dependency order."""
    district = next(client.objects("districts"), None)
    schools = dict(_by_id(client.objects("schools")))
    terms = dict(_by_id(client.objects("terms")))
    courses = dict(_by_id(client.objects("courses")))
    base: dict[str, Any] = {k: obj for k, (_uri, obj) in {**schools, **terms, **courses}.items()}
    objs = {k: obj for k, (_uri, obj) in schools.items()}
    course_objs = {k: obj for k, (_uri, obj) in courses.items()}

    def batch(entity: str, url: str, rows: list[dict[str, Any]]) -> RawBatch:
        return RawBatch(CLEVER_API, entity, url, rows)

    orgs = [rows_of(client, uri, obj, "school", base) for uri, obj in schools.values()]
    if district is not None:
        orgs.insert(0, rows_of(client, district[0], district[1], "district", base))
    yield batch("orgs", client.url("schools"), orgs)
    seen: set[str] = set()
    sessions = []
    for uri, obj in terms.values():
        key = term_id(obj)
        if key is not None and key not in seen:
            seen.add(key)
            sessions.append(rows_of(client, uri, obj, "term", base))
    yield batch("academic_sessions", client.url("terms"), sessions)

    index = Index(work_dir / "clever-index.db")
    try:
        index.add_sections(client.objects("sections"), objs, course_objs)
        index.add_users(client.objects("users"))
        yield from _courses(client, index, base, course_objs)
        yield from _each(index.sections(), "classes", client.url("sections"), lambda items: [
            rows_of(client, uri, obj, "section", base) for uri, obj in items])
        yield from _people(client, index, base)
        if demographics:
            yield from _each(index.people("student"), "demographics", client.url("users"), lambda items: [
                rows_of(client, uri, obj, "demographics", base) for uri, obj in items])
        yield from _each(index.sections(), "enrollments", client.url("sections"),
                         lambda items: _enrollments(client, index, base, items))
    finally:
        index.close()


def _by_id(items: Iterable[Item]) -> Iterator[tuple[str, Item]]:
    for uri, obj in items:
        yield obj["id"], (uri, obj)


def _each(chunks: Iterator[list[Item]], entity: str, url: str, make: Any) -> Iterator[RawBatch]:
    """A batch per chunk, and at least one (an empty bulk entity is a statement: "there are none")."""
    sent = False
    for items in chunks:
        sent = True
        yield RawBatch(CLEVER_API, entity, url, make(items))
    if not sent:
        yield RawBatch(CLEVER_API, entity, url, [])


def _courses(client: CleverClient, index: Index, base: Mapping[str, Any],
             courses: Mapping[str, Any]) -> Iterator[RawBatch]:
    rows: list[dict[str, Any]] = []
    url = client.url("courses")
    for _key, course, school, sections in index.courses():
        uri = f"courses/{course}" if course in courses else f"sections/{sections[0]['id']}"
        rows.append({"kind": "course", "uri": client.url(uri), "object": courses.get(course) or {},
                     "school": school, "sections": sections, "refs": base})
        if len(rows) >= BATCH_ROWS:
            yield RawBatch(CLEVER_API, "courses", url, rows)
            rows = []
    yield RawBatch(CLEVER_API, "courses", url, rows)


def _people(client: CleverClient, index: Index, base: Mapping[str, Any]) -> Iterator[RawBatch]:
    """Users by role: a student with the contacts naming them, a contact with its students."""
    url = client.url("users")
    sent = False
    for role in PEOPLE_ORDER:
        for items in index.people(role):
            ids = [obj["id"] for _uri, obj in items]
            contacts = index.contacts_of(ids) if role == "student" else {}
            wanted = [c for cs in contacts.values() for c in cs]
            if role == "contact":
                wanted = [str(rel.get("student")) for _uri, obj in items for rel in relationships(obj)]
            refs = collections.ChainMap(index.users(wanted), {obj["id"]: obj for _uri, obj in items}, base)
            rows = [rows_of(client, uri, obj, role, refs, **({"contacts": contacts.get(obj["id"], [])}
                                                              if role == "student" else {}))
                    for uri, obj in items]
            sent = True
            yield RawBatch(CLEVER_API, "users", url, rows)
    if not sent:
        yield RawBatch(CLEVER_API, "users", url, [])


def _enrollments(client: CleverClient, index: Index, base: Mapping[str, Any],
                 items: list[Item]) -> list[dict[str, Any]]:
    wanted = [u for _uri, obj in items for group in members(obj) for u in group]
    refs = collections.ChainMap(index.users(wanted), base)
    return [rows_of(client, uri, obj, "enrollments", refs) for uri, obj in items]
