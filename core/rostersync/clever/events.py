"""Full sync or Events delta for a Clever source, and the delta itself.

**When a run is a delta.** With ``delta=true``, a full sync first notes the newest event of the feed
(``GET /events?ending_before=last&limit=1``) and leaves it, with the time it was read, in the run's
state (saved only if the run succeeds). The next run reads the events after it
(``starting_after=<id>``, paged like every list). Clever keeps events 30 days: a cursor read more than
``retention_days`` minus a day ago may have lost events, so the run is a full sync with a warning; so
it is when the feed answers 404 for the cursor (it no longer knows it), when there are more than
``max_events`` events (a full pull is cheaper), or when something a delta cannot replay turns up (an
update without ``previous_attributes``, an sis id changed under the same Clever id). No cursor yet,
``delta=false`` or ``sync --full``: a full sync. Everything a delta does is decided before its first
batch is yielded, so falling back to a full sync never mixes the two.

**What a delta sends.** Events are folded per object into its state before the first event (the
first update with its ``previous_attributes`` undone; none for an object created in the window) and
after the last (none once deleted). Each changed object is mapped again from its state after, with
the objects it refers to looked up as they are now, and so is what embeds something of it: a
student's and a contact's links to each other, a section's enrollments and the courses made from
sections, the classes of a renamed course or term. Every record of the state before that no current
record has any more is sent as ``tobedeleted``. Batches are ``delta`` (so what a delta does not
mention stays), the safeguards and reference checks apply as to any run, and replaying the same
events gives the same batches: a failed run is simply read again.
"""

from __future__ import annotations

import collections
import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from rostersync.api.http import NotShared
from rostersync.batches import RawBatch
from rostersync.clever.full import BATCH_ROWS, pull, rows_of
from rostersync.errors import SourceError
from rostersync.formats.clever_api import (
    CLEVER_API,
    PEOPLE,
    course_id,
    members,
    person_sis,
    relationships,
    roles_of,
    row_ids,
    sis,
    term_id,
)

if TYPE_CHECKING:
    from rostersync.clever.client import CleverClient
    from rostersync.clever.settings import CleverApiSettings
    from rostersync.connector import FetchContext

STATE = "clever_events"
ENTITY_ORDER = ("orgs", "academic_sessions", "courses", "classes", "users", "demographics", "enrollments")
KIND_ENTITY = {"district": "orgs", "school": "orgs", "term": "academic_sessions", "course": "courses",
               "section": "classes", "student": "users", "teacher": "users", "staff": "users",
               "district_admin": "users", "contact": "users", "demographics": "demographics",
               "enrollments": "enrollments"}
Obj = dict[str, Any]


class Fallback(Exception):
    """This delta cannot be replayed from the feed: run a full sync (the message says why)."""


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def newest_event(client: CleverClient) -> str | None:
    """The id of the newest event in the feed; None when it is empty. Asked with
    ``ending_before=last&limit=1``; a server refusing that (400/404) is paged to its end instead."""
    try:
        _where, body = client.get("events", {"ending_before": "last", "limit": "1"})
    except SourceError as exc:
        if not re.search(r"HTTP (400|404)\b", str(exc)):
            raise
        last = None
        for _uri, event in client.objects("events"):
            last = str(event.get("id"))
        return last
    items = body.get("data") if isinstance(body, dict) else None
    if not items:
        return None
    item = items[-1] if isinstance(items[-1], dict) else {}
    event = item.get("data") if isinstance(item.get("data"), dict) else item
    return str(event.get("id")) if event.get("id") else None


def sync(client: CleverClient, context: FetchContext) -> Iterator[RawBatch]:
    """A delta when the state allows one, else a full sync (noting the feed's newest event for the next)."""
    options: CleverApiSettings = context.settings
    assert context.work_dir is not None
    started = now()
    state = context.state.get(STATE) if options.delta and not context.full else None
    reason = stale(state, options, started) if state else None
    if state and reason is None:
        try:
            batches, cursor = Delta(client, options).run(state.get("cursor"))
        except Fallback as exc:
            reason = str(exc)
        else:
            context.next_state[STATE] = {**state, "cursor": cursor, "read_at": stamp(started)}
            yield from batches
            return
    if reason:
        context.warn(f"Clever Events: {reason}; this run is a full sync instead")
    cursor, noted = None, False
    if options.delta:
        try:
            cursor, noted = newest_event(client), True
        except NotShared as exc:
            context.warn(f"Clever Events: the feed is not available ({exc}); later runs stay full syncs until "
                         "events are enabled for the app")
    yield from pull(client, context.work_dir, demographics=options.demographics)
    if noted:
        context.next_state[STATE] = {"cursor": cursor, "read_at": stamp(started), "version": options.api_version}


def stale(state: Mapping[str, Any], options: CleverApiSettings, when: dt.datetime) -> str | None:
    """Why the saved cursor cannot be used, or None."""
    if state.get("version") != options.api_version:
        return f"the cursor was read with API v{state.get('version')}, this run reads v{options.api_version}"
    try:
        read = dt.datetime.fromisoformat(str(state.get("read_at")).replace("Z", "+00:00"))
    except ValueError:
        return "the saved cursor has no time"
    age = when - read
    if age > dt.timedelta(days=options.retention_days - 1):
        return (f"the last events were read {age.days} days ago and Clever keeps events {options.retention_days} "
                "days, so some may be gone")
    return None


@attrs.define
class Change:
    """One object's state before the events read and after them (None: did not exist / deleted)."""

    collection: str
    id: str
    uri: str
    before: Obj | None
    after: Obj | None = None


def undo(obj: Obj, previous: Mapping[str, Any]) -> Obj:
    """``obj`` with the values ``previous_attributes`` gives put back (None: the field was absent)."""
    out = dict(obj)
    for key, old in previous.items():
        if isinstance(old, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = undo(dict(out[key]), old)
        elif old is None:
            out.pop(key, None)
        else:
            out[key] = old
    return out


def fold(events: Iterable[tuple[str, Obj]]) -> dict[tuple[str, str], Change]:
    """Events (oldest first) folded into one Change per object."""
    changes: dict[tuple[str, str], Change] = {}
    for uri, event in events:
        collection, _, action = str(event.get("type", "")).partition(".")
        data = event.get("data") if isinstance(event.get("data"), Mapping) else {}
        obj = data.get("object")
        if action not in ("created", "updated", "deleted") or not isinstance(obj, dict) or not obj.get("id"):
            continue
        key = (collection, str(obj["id"]))
        if key not in changes:
            before = None if action == "created" else obj
            if action == "updated":
                previous = data.get("previous_attributes", event.get("previous_attributes"))
                if not isinstance(previous, Mapping):
                    raise Fallback(f"event {event.get('id')} ({event.get('type')}) has no previous_attributes, so "
                                   "what it replaced cannot be told")
                before = undo(obj, previous)
            changes[key] = Change(collection, key[1], uri, before)
        changes[key].after = None if action == "deleted" else obj
    return changes


class Lookup:
    """Objects as the API has them now, fetched once each, plus the former state of changed ones."""

    def __init__(self, client: CleverClient) -> None:
        self.client = client
        self.current: dict[str, Obj | None] = {}
        self.former: dict[str, Obj] = {}
        self.lists: dict[str, list[Obj]] = {}

    def users(self, ids: Iterable[str], *, former: bool = False) -> dict[str, Obj]:
        """Users by Clever id as they are now (``former``: as they were, for what changed); missing ids
        (deleted, not shared) are left out."""
        out: dict[str, Obj] = {}
        for uid in dict.fromkeys(ids):
            if former and uid in self.former:
                out[uid] = self.former[uid]
                continue
            if uid not in self.current:
                self.current[uid] = self.client.one(f"users/{uid}")
            found = self.current[uid] or (self.former.get(uid) if former else None)
            if found is not None:
                out[uid] = found
        return out

    def listed(self, path: str) -> list[Obj]:
        """A nested list (``users/<id>/mycontacts``, ``courses/<id>/sections``), read once; a 404 (its owner
        is gone) is an empty list. Users listed are remembered as they are now."""
        if path not in self.lists:
            try:
                found = [obj for _uri, obj in self.client.objects(path)]
            except NotShared as exc:
                if exc.status != 404:
                    raise
                found = []
            if path.endswith(("/mycontacts", "/mystudents", "/users")):
                self.current.update((obj["id"], obj) for obj in found)
            self.lists[path] = found
        return self.lists[path]


class Delta:
    """One delta run: read the feed, fold it, and work out the rows to send."""

    def __init__(self, client: CleverClient, options: CleverApiSettings) -> None:
        self.client, self.options = client, options
        self.lookup = Lookup(client)
        self.upserts: dict[tuple[str, str], dict[str, Any]] = {}  # (kind, key) -> row
        self.former: list[dict[str, Any]] = []  # rows of former states (candidates for deletion)

    # -- reading the feed ------------------------------------------------------------------------------
    def read(self, cursor: str | None) -> list[tuple[str, Obj]]:
        params = {"starting_after": cursor} if cursor else {}
        events: list[tuple[str, Obj]] = []
        try:
            for uri, event in self.client.objects("events", params):
                events.append((uri, event))
                if len(events) > self.options.max_events:
                    raise Fallback(f"more than max_events ({self.options.max_events}) events since the last run")
        except NotShared as exc:
            if exc.status == 404 and cursor:
                raise Fallback(f"the feed no longer knows event {cursor} ({exc})") from None
            raise
        return events

    def run(self, cursor: str | None) -> tuple[list[RawBatch], str | None]:
        events = self.read(cursor)
        if not events:
            return [], cursor
        changes = fold(events)
        self.load_lists(changes)
        for change in changes.values():
            self.check_keys(change)
        self.lookup.former.update((c.id, c.before) for c in changes.values()
                                  if c.collection == "users" and c.before is not None)
        for (collection, _id), change in changes.items():
            handler = getattr(self, f"on_{collection}", None)
            if handler is not None:
                handler(change)
        self.recompute_courses()
        return self.batches(), str(events[-1][1].get("id") or cursor)

    def load_lists(self, changes: Mapping[tuple[str, str], Change]) -> None:
        """Schools, terms and courses as they are now (small lists), and as they were for what changed."""
        self.schools = {obj["id"]: obj for _uri, obj in self.client.objects("schools")}
        self.terms = {obj["id"]: obj for _uri, obj in self.client.objects("terms")}
        self.courses = {obj["id"]: obj for _uri, obj in self.client.objects("courses")}
        self.refs: dict[str, Obj] = {**self.schools, **self.terms, **self.courses}
        self.former_refs: dict[str, Obj] = dict(self.refs)
        for (collection, oid), change in changes.items():
            if collection in ("schools", "terms", "courses") and change.before is not None:
                self.former_refs[oid] = change.before
        self.current_terms = {key for term in self.terms.values() if (key := term_id(term))}
        self.course_ids: set[str] = set()  # Clever courses whose sections' courses must be made again
        self.lone_sections: dict[str, Obj | None] = {}  # sections without a course: their one-section course
        self.course_keys_before: dict[str, dict[str, Any]] = {}  # course key -> a row making it (former)

    def check_keys(self, change: Change) -> None:
        """An object whose CSV id changed under the same Clever id would re-key everything referring to it."""
        before, after = change.before, change.after
        if before is None or after is None:
            return
        if change.collection == "schools" and sis(before) != sis(after):
            raise Fallback(f"school {change.id} changed its sis_id from {sis(before)!r} to {sis(after)!r}")
        if change.collection == "users":
            for role in set(roles_of(before)) & set(roles_of(after)) & {"student", "teacher", "staff"}:
                if person_sis(before, role) != person_sis(after, role):
                    raise Fallback(f"user {change.id} changed its {role} id from {person_sis(before, role)!r} to "
                                   f"{person_sis(after, role)!r}")

    # -- rows --------------------------------------------------------------------------------------------
    def upsert(self, kind: str, obj: Obj, refs: Mapping[str, Any], key: str | None = None, **more: Any) -> None:
        self.upserts[(kind, key or obj["id"])] = rows_of(self.client, "", obj, kind, refs, **more)

    def gone(self, kind: str, obj: Obj, refs: Mapping[str, Any], **more: Any) -> None:
        self.former.append(rows_of(self.client, "", obj, kind, refs, deleted=True, **more))

    def on_districts(self, change: Change) -> None:
        if change.after is not None:
            self.upsert("district", change.after, self.refs)

    def on_schools(self, change: Change) -> None:
        if change.after is not None:
            self.upsert("school", change.after, self.refs)
        if change.before is not None:
            self.gone("school", change.before, self.former_refs)

    def on_terms(self, change: Change) -> None:
        if change.after is not None and term_id(change.after):
            self.upsert("term", change.after, self.refs, key=term_id(change.after))
        if change.before is not None:
            self.gone("term", change.before, self.former_refs)
            if change.after is not None and term_id(change.before) != term_id(change.after):
                for section in self.lookup.listed(f"terms/{change.id}/sections"):
                    self.upsert("section", section, self.refs)

    def on_courses(self, change: Change) -> None:
        self.course_ids.add(change.id)
        if change.before is None:
            return
        now_sections = self.lookup.listed(f"courses/{change.id}/sections")
        for section in now_sections:
            self.note_course_before(section, self.former_refs)
        renamed = change.after is not None and (change.before.get("number"), change.before.get("name")) != (
            change.after.get("number"), change.after.get("name"))
        for section in now_sections if renamed else ():
            self.upsert("section", section, self.refs)

    def note_course_before(self, section: Obj, refs: Mapping[str, Any]) -> None:
        school = str(section.get("school") or "")
        course = refs.get(str(section.get("course") or ""))
        key = course_id(section, refs.get(school), course)
        self.course_keys_before.setdefault(key, {"kind": "course", "object": course or {}, "school": school,
                                                 "sections": [section], "refs": refs})

    def on_sections(self, change: Change) -> None:
        for state in (change.before, change.after):
            if state is not None:
                if state.get("course"):
                    self.course_ids.add(str(state["course"]))
                else:
                    self.lone_sections[sis(state)] = None
        if change.after is not None:
            self.upsert("section", change.after, self.refs)
            users = {obj["id"]: obj for obj in self.lookup.listed(f"sections/{change.id}/users")}
            wanted = [u for group in members(change.after) for u in group if u not in users]
            users.update(self.lookup.users(wanted))
            self.upsert("enrollments", change.after, collections.ChainMap(users, self.refs))
            if not change.after.get("course"):
                self.lone_sections[sis(change.after)] = change.after
        if change.before is not None:
            self.gone("section", change.before, self.former_refs)
            wanted = [u for group in members(change.before) for u in group]
            users = self.lookup.users(wanted, former=True)
            missing = [u for u in wanted if u not in users]
            if missing:
                raise Fallback(f"section {change.id} had users the API no longer knows ({', '.join(missing[:3])}), "
                               "so their enrollments cannot be named")
            self.gone("enrollments", change.before, collections.ChainMap(users, self.former_refs))
            self.note_course_before(change.before, self.former_refs)

    def on_users(self, change: Change) -> None:
        before, after = change.before, change.after
        if after is not None:
            self.person(after)
        if before is not None:
            refs = collections.ChainMap(self.student_refs(before, former=True), self.former_refs)
            for role in roles_of(before):
                if role == "contact" or role in PEOPLE or role == "district_admin":
                    self.gone(role, before, refs)
                if role == "student" and self.options.demographics:
                    self.gone("demographics", before, refs)
        # what embeds something of this user: a student's guardians, a guardian's students
        linked_students = {str(r.get("student")) for state in (before, after) if state for r in relationships(state)}
        for student in self.lookup.users(linked_students).values():
            self.person(student, roles=("student",))
        if after is not None and "student" in roles_of(after):
            for contact in self.lookup.listed(f"users/{change.id}/mycontacts"):
                self.person(contact, roles=("contact",))

    def student_refs(self, user: Obj, *, former: bool = False) -> dict[str, Obj]:
        """The students a contact's relationships name, and the user itself."""
        ids = [str(r.get("student")) for r in relationships(user)]
        found = self.lookup.users(ids, former=former)
        missing = [i for i in ids if i not in found]
        if former and missing:
            raise Fallback(f"contact {user.get('id')} had students the API no longer knows ({', '.join(missing[:3])})")
        return {**found, user["id"]: user}

    def person(self, user: Obj, roles: Iterable[str] | None = None) -> None:
        """Rows of a user's current roles, with what they link to as it is now."""
        for role in roles or roles_of(user):
            if role not in roles_of(user):
                continue
            if role == "student":
                contacts = self.lookup.listed(f"users/{user['id']}/mycontacts")
                refs = collections.ChainMap({c["id"]: c for c in contacts}, {user["id"]: user}, self.refs)
                self.upsert("student", user, refs, contacts=[c["id"] for c in contacts])
                if self.options.demographics:
                    self.upsert("demographics", user, refs)
            elif role == "contact":
                self.upsert("contact", user, collections.ChainMap(self.student_refs(user), self.refs))
            else:
                self.upsert(role, user, self.refs)

    def recompute_courses(self) -> None:
        """The courses made from the sections of every Clever course touched, as they are now, and the
        one-section courses of changed sections without one."""
        for cid in sorted(self.course_ids):
            sections = sorted(self.lookup.listed(f"courses/{cid}/sections"), key=lambda s: str(s["id"]))
            latest = {key[1]: row["object"] for key, row in self.upserts.items() if key[0] == "section"}
            merged = {s["id"]: latest.get(s["id"], s) for s in sections}
            for sid, obj in latest.items():  # a section moved to this course since the list was read
                if str(obj.get("course")) == cid:
                    merged[sid] = obj
            groups: dict[str, list[Obj]] = {}
            for section in sorted(merged.values(), key=lambda s: str(s["id"])):
                if str(section.get("course")) != cid:
                    continue
                key = course_id(section, self.refs.get(str(section.get("school"))), self.courses.get(cid))
                groups.setdefault(key, []).append(section)
            for key, group in groups.items():
                self.upserts[("course", key)] = {"kind": "course", "uri": self.client.url(f"courses/{cid}"),
                                                 "object": self.courses.get(cid) or {},
                                                 "school": str(group[0].get("school") or ""), "sections": group,
                                                 "refs": self.refs}
        for section in self.lone_sections.values():
            if section is not None:
                key = course_id(section, self.refs.get(str(section.get("school"))), None)
                self.upserts[("course", key)] = {"kind": "course", "uri": self.client.url(f"sections/{section['id']}"),
                                                 "object": {}, "school": str(section.get("school") or ""),
                                                 "sections": [section], "refs": self.refs}
        for row in self.course_keys_before.values():
            self.former.append({**row, "uri": self.client.url(f"sections/{row['sections'][0]['id']}"),
                                "deleted": True})

    def batches(self) -> list[RawBatch]:
        """Current rows, and former rows limited to the records no current row has (``only``)."""
        live: set[tuple[str, str]] = {(e, i) for row in self.upserts.values() for e, i in row_ids(row)}
        live |= {("academic_sessions", key) for key in self.current_terms}
        by_entity: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        for row in self.upserts.values():
            by_entity[KIND_ENTITY[row["kind"]]].append(row)
        for row in self.former:
            only = [i for e, i in row_ids(row) if (e, i) not in live]
            live.update((KIND_ENTITY[row["kind"]], i) for i in only)  # each deletion sent once
            if only:
                by_entity[KIND_ENTITY[row["kind"]]].append({**row, "only": only})
        out = []
        for entity in ENTITY_ORDER:
            rows = by_entity.get(entity, [])
            for start in range(0, len(rows), BATCH_ROWS):
                out.append(RawBatch(CLEVER_API, entity, self.client.url("events"), rows[start:start + BATCH_ROWS],
                                    "delta"))
        return out
