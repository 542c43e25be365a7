"""A loopback imitation of Clever's Data API (v3.0 and v3.1) and its token list, on 127.0.0.1.

Serves a Clever CSV bundle as Clever would (:mod:`rostersync.testing.clever_data`): the ``{"data":
[{"data": ..., "uri": ...}], "links": [...]}`` envelope, lists sorted by id and paged with ``limit``
(default 100, 413 above 10,000) and ``starting_after``/``ending_before`` with relative ``next``/``prev``
links (a full last page still gets a ``next`` that comes back empty, as Clever's does), single objects
and the nested lists (``/sections/{id}/users``, ``/users/{id}/mycontacts``...), bearer-token checks
(401 ``{"message": ...}``), an HTML 404 for paths Clever does not have, ``X-RateLimit-*`` headers on
every answer and, when asked, 429s. ``GET /oauth/tokens?owner_type=district`` lists the district's
token to the app's client id and secret (HTTP Basic). :meth:`CleverServer.advance` moves the district
to a new bundle and appends the events between the two to ``/events`` (oldest first; 404 for a
``starting_after`` the feed does not hold, as after Clever's 30-day retention: :meth:`forget_events`).

Example::

    with CleverServer(bundle) as clever:
        ...  # sync with base_url=clever.base_url and token=env:... holding clever.token
        clever.advance(next_bundle)
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import attrs

from rostersync.testing.clever_data import CleverDistrict, Ids, events_between, for_version
from rostersync.testing.loopback import Running, Server

VERSIONS = ("3.0", "3.1")
TOKENS_PATH = "/oauth/tokens"
DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000
COLLECTIONS = {"districts", "schools", "terms", "courses", "sections", "users"}


@attrs.frozen
class Behaviour:
    """Switchable habits. The defaults are a well-behaved Clever."""

    throttle_at: tuple[int, ...] = ()  # answer these data requests (1-based) 429 with the rate-limit headers
    reset_seconds: int = 1  # ... whose X-RateLimit-Reset is this far ahead (Unix time)
    limit_cap: int = 0  # serve at most this many objects a page, whatever limit asks (0: no cap)
    normalise: bool = False  # grades, subjects and section names as Clever rewrites them
    no_ending_before_last: bool = False  # /events?ending_before=last answers 400 (an older Clever)
    rotate_at: tuple[int, ...] = ()  # the district token changes just before these data requests (1-based)
    no_previous_attributes: bool = False  # updated events without previous_attributes
    ignore_starting_after: bool = False  # every page starts at the beginning (a broken server)
    next_origin: str = ""  # next links absolute, to this origin (e.g. http://127.0.0.1:9)


@attrs.define
class LogEntry:
    method: str
    path: str
    query: dict[str, list[str]]
    auth: str  # "bearer:<ok|bad>", "basic", "none"
    status: int = 0


class CleverServer(Running):
    """Clever's Data API for a district on 127.0.0.1; a context manager running it in a thread."""

    thread_name = "clever-server"

    def __init__(self, bundle: Path, *, behaviour: Behaviour | None = None, port: int = 0,
                 client_id: str = "rostersync-clever-test", client_secret: str | None = None,
                 token: str | None = None, host: str = "127.0.0.1") -> None:
        self.behaviour = behaviour or Behaviour()
        self.ids = Ids()
        self.district = CleverDistrict.from_bundle(bundle, self.ids, normalise=self.behaviour.normalise)
        self.events: list[dict[str, Any]] = []
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.token = token or secrets.token_hex(20)
        self.log: list[LogEntry] = []
        self.requests = 0
        self._lock = threading.Lock()
        self.server = Server((host, port), _handler_for(self))
        self.host, self.port = host, self.server.server_address[1]

    # -- where it is ------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}{TOKENS_PATH}?owner_type=district"

    # -- the district changing -----------------------------------------------------------------------
    def advance(self, bundle: Path) -> list[dict[str, Any]]:
        """The district becomes ``bundle``'s; the events between the two are appended to the feed."""
        after = CleverDistrict.from_bundle(bundle, self.ids, normalise=self.behaviour.normalise)
        new = list(events_between(self.district, after, self.ids))
        if self.behaviour.no_previous_attributes:
            for event in new:
                event["data"].pop("previous_attributes", None)
        with self._lock:
            self.district = after
            self.events.extend(new)
        return new

    def forget_events(self) -> None:
        """Drop every event so far, as Clever drops those older than 30 days."""
        with self._lock:
            self.events.clear()

    def rotate_token(self) -> str:
        """A new district token (the old one stops working), as when a district re-authorises the app."""
        self.token = secrets.token_hex(20)
        return self.token

    def requests_to(self, fragment: str = "") -> list[LogEntry]:
        return [e for e in self.log if e.path.startswith("/v3") and fragment in e.path]

    # -- answers --------------------------------------------------------------------------------------
    def tokens(self, auth: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if auth != f"Basic {expected}":
            return 401, {"error": "invalid_client", "error_description": "client authentication failed"}
        if query.get("owner_type") != ["district"]:
            return 400, {"error": "invalid_request", "error_description": "owner_type=district is required"}
        district = self.district.district["id"]
        wanted = query.get("district")
        tokens = [] if wanted and wanted[0] != district else [{
            "id": self.ids("token", self.token), "created": "2026-08-01T00:00:00.000Z",
            "owner": {"type": "district", "id": district}, "access_token": self.token,
            "scopes": ["read:district_admins", "read:school_admins", "read:sections", "read:students",
                       "read:teachers", "read:user_id", "read:contacts"]}]
        return 200, {"data": tokens, "links": [{"rel": "self", "uri": f"{TOKENS_PATH}?owner_type=district"}]}

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        """(status, JSON body) for an API path; (404, None) for a path Clever has not (an HTML page)."""
        version, _, rest = path.lstrip("/").partition("/")
        if not version.startswith("v") or version[1:] not in VERSIONS:
            return 404, None
        version = version[1:]
        parts = [p for p in rest.split("/") if p]
        if not parts:
            return 404, None
        if parts[0] == "events":
            return self.event_list(version, query) if len(parts) == 1 else self.event(version, parts[1])
        if parts[0] not in COLLECTIONS or len(parts) > 3:
            return 404, None
        objects = self.district.objects[parts[0]]
        if len(parts) == 1:
            found = self.district.sorted(parts[0])
            if parts[0] == "users" and query.get("role"):
                found = [u for u in found if (u.get("roles") or {}).get(query["role"][0]) is not None]
            return self.page(version, parts[0], found, query)
        obj = objects.get(parts[1])
        if obj is None:
            return 404, {"message": f"Entity Not Found: {parts[0]} {parts[1]}"}
        if len(parts) == 2:
            return 200, {"data": for_version(obj, version)}
        related = self.related(parts[0], obj, parts[2], query)
        if related is None:
            return 404, None
        return self.page(version, "/".join(parts), related, query)

    def related(self, collection: str, obj: dict[str, Any], sub: str,
                query: dict[str, list[str]]) -> list[dict[str, Any]] | None:
        users = self.district.objects["users"]
        sections = self.district.sorted("sections")
        role = (query.get("role") or [""])[0]
        if collection == "sections" and sub == "users":
            ids = [*obj.get("students", []), *obj.get("teachers", [])]
            found = [users[i] for i in sorted(set(ids)) if i in users]
            return [u for u in found if not role or (u.get("roles") or {}).get(role) is not None]
        if collection == "users" and sub == "mycontacts":
            return [u for u in self.district.users("contact") if any(
                r.get("student") == obj["id"] for r in u["roles"]["contact"].get("student_relationships", []))]
        if collection == "users" and sub == "mystudents":
            rels = ((obj.get("roles") or {}).get("contact") or {}).get("student_relationships", [])
            taught = [s for s in sections if obj["id"] in s.get("teachers", [])]
            ids = {r.get("student") for r in rels} | {i for s in taught for i in s.get("students", [])}
            return [users[i] for i in sorted(ids) if i in users]
        if collection == "users" and sub == "sections":
            return [s for s in sections if obj["id"] in (*s.get("students", []), *s.get("teachers", []))]
        if collection in ("courses", "terms", "schools") and sub == "sections":
            field = {"courses": "course", "terms": "term_id", "schools": "school"}[collection]
            return [s for s in sections if s.get(field) == obj["id"]]
        if collection == "schools" and sub == "users":
            return [u for u in self.district.users() if any(
                obj["id"] in (r or {}).get("schools", []) or (r or {}).get("school") == obj["id"]
                for r in (u.get("roles") or {}).values()) and (not role or u["roles"].get(role) is not None)]
        return None

    def page(self, version: str, path: str, objects: list[dict[str, Any]],
             query: dict[str, list[str]]) -> tuple[int, Any]:
        try:
            limit = int((query.get("limit") or [str(DEFAULT_LIMIT)])[0])
        except ValueError:
            return 400, {"message": "limit must be a number"}
        if limit > MAX_LIMIT:
            return 413, {"message": f"limit cannot exceed {MAX_LIMIT}"}
        if limit < 1:
            return 400, {"message": "limit must be positive"}
        served = min(limit, self.behaviour.limit_cap) if self.behaviour.limit_cap else limit
        after = (query.get("starting_after") or [""])[0]
        before = (query.get("ending_before") or [""])[0]
        if after and not self.behaviour.ignore_starting_after:
            chosen = [o for o in objects if o["id"] > after][:served]
        elif before:
            chosen = [o for o in objects if before == "last" or o["id"] < before][-served:]
        else:
            chosen = objects[:served]
        base = f"/v{version}/{path}"
        keep = {k: v for k, v in query.items() if k not in ("starting_after", "ending_before")}
        links = [{"rel": "self", "uri": _uri(base, query)}]
        if chosen and len(chosen) == served:
            nxt = _uri(base, {**keep, "starting_after": [chosen[-1]["id"]]})
            links.append({"rel": "next", "uri": self.behaviour.next_origin + nxt})
        if chosen and (after or before):
            links.append({"rel": "prev", "uri": _uri(base, {**keep, "ending_before": [chosen[0]["id"]]})})
        collection = path.split("/")[-1] if "/" in path and path.split("/")[-1] in COLLECTIONS else path.split("/")[0]
        data = [{"data": for_version(o, version), "uri": f"/v{version}/{collection}/{o['id']}"} for o in chosen]
        return 200, {"data": data, "links": links}

    def event_list(self, version: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        with self._lock:
            events = list(self.events)
        after = (query.get("starting_after") or [""])[0]
        if after and all(e["id"] != after for e in events):
            return 404, {"message": f"Entity Not Found: event {after}"}
        if (query.get("ending_before") or [""])[0] == "last" and self.behaviour.no_ending_before_last:
            return 400, {"message": "ending_before must be an event id"}
        kinds = query.get("record_type") or []
        if kinds:
            events = [e for e in events if e["type"].split(".")[0] in kinds]
        return self.page(version, "events", [for_version(e, version) for e in events], query)

    def event(self, version: str, event_id: str) -> tuple[int, Any]:
        found = next((e for e in self.events if e["id"] == event_id), None)
        return (200, {"data": for_version(found, version)}) if found else (404, {"message": "Entity Not Found"})


def _uri(path: str, query: dict[str, list[str]]) -> str:
    flat = [(k, v) for k, values in query.items() for v in values]
    return f"{path}?{urlencode(flat)}" if flat else path


def _handler_for(server: CleverServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query, keep_blank_values=True)
            auth = self.headers.get("Authorization", "")
            number = 0
            if parts.path.startswith("/v3"):
                with server._lock:
                    server.requests += 1
                    number = server.requests
                    if number in server.behaviour.rotate_at:
                        server.rotate_token()
            entry = LogEntry("GET", parts.path, query, _auth_kind(auth, server))
            server.log.append(entry)
            if parts.path == TOKENS_PATH:
                status, body = server.tokens(auth, query)
                return self._send(entry, status, body)
            if not parts.path.startswith("/v3"):
                return self._html(entry, 404)
            if auth != f"Bearer {server.token}":
                return self._send(entry, 401, {"message": "Unauthorized: invalid or expired token"})
            if number in server.behaviour.throttle_at:
                reset = int(time.time()) + server.behaviour.reset_seconds
                return self._send(entry, 429, {"message": "Too Many Requests"},
                                  {"X-RateLimit-Limit": "1200", "X-RateLimit-Remaining": "0",
                                   "X-RateLimit-Reset": str(reset), "X-RateLimit-Bucket": "all"})
            status, body = server.answer(parts.path, query)
            if body is None:
                return self._html(entry, status)
            return self._send(entry, status, body)

        def _send(self, entry: LogEntry, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            entry.status = status
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            reset = str(int(time.time()) + 60)
            for key, value in {"X-RateLimit-Limit": "1200", "X-RateLimit-Remaining": "1199",
                               "X-RateLimit-Reset": reset, **(headers or {})}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _html(self, entry: LogEntry, status: int) -> None:
            data = b"<!DOCTYPE html><html><body><h1>Not Found</h1></body></html>"
            entry.status = status
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _auth_kind(header: str, server: CleverServer) -> str:
    if header.startswith("Bearer "):
        return "bearer:" + ("ok" if header == f"Bearer {server.token}" else "bad")
    return "basic" if header.startswith("Basic ") else "none"
