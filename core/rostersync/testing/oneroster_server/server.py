"""The loopback OneRoster provider: a CSV bundle served as the 1.1 or 1.2 REST binding on 127.0.0.1.

:class:`Simulator` wires the pieces, one concept per module:

=================  ==================================================================================
``routes``         every GET endpoint per version and service, and the :class:`~.routes.Paths` they live at
``relations``      which objects a collection, singleton or nested endpoint returns
``query``          limit/offset, sort/orderBy, fields; the Link header
``filters``        the filter grammar
``fields``         the JSON fields of each entity per version, from the OneRoster field table
``serialise``      CSV rows -> spec-exact JSON objects; ``data`` holds them
``relaxed``        the relaxed payload forms real servers send (behaviours)
``errors``         imsx status payloads and :class:`~.errors.ApiError`
``auth``           :class:`~.auth.AuthPolicy`: token endpoint, bearer tokens, OAuth 1 signatures
``behaviour``      :class:`~.behaviour.Behaviour`: every habit, off by default
``http``           the threaded HTTP server and the behaviours that garble bodies
=================  ==================================================================================

A request goes: request log -> redirect behaviour -> token endpoint, or: a path under no service is
404; credentials (401) -> only GET (405) -> throttling (429) and random failures (500) -> the route
(404 for an unknown path or id) -> refused collections (403) -> query parameters (400/422) -> the
objects, paged, with ``X-Total-Count`` and ``Link``. Every error is an imsx payload (:mod:`.errors`).

Profiles (a SIS's base path, token path, auth flavour, page cap and quirks) are built from the seams
here: ``Simulator(bundle, version=..., paths=Paths(...), auth=AuthPolicy(..., token_path=...),
behaviour=Behaviour(page_clamp=..., ...))``.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import attrs

from rostersync.testing.loopback import Running, Server
from rostersync.testing.oneroster_server import relations
from rostersync.testing.oneroster_server.auth import AuthPolicy, auth_kind
from rostersync.testing.oneroster_server.behaviour import Behaviour
from rostersync.testing.oneroster_server.data import RosterData
from rostersync.testing.oneroster_server.errors import ApiError, payload, unknown
from rostersync.testing.oneroster_server.fields import REF_TARGETS, Field, by_key, fields
from rostersync.testing.oneroster_server.http import Cut, Encoded, handler_for, json_body
from rostersync.testing.oneroster_server.query import link_header, read_query, select_fields, sort_objects
from rostersync.testing.oneroster_server.relaxed import relax
from rostersync.testing.oneroster_server.routes import COLLECTION, NESTED, SINGLE, Paths, Route, find_route

VERSIONS = ("1.1", "1.2")


@attrs.define
class LogEntry:
    method: str
    path: str
    query: dict[str, str]
    auth: str  # "bearer", "oauth1:HMAC-SHA256", "none"...
    status: int = 0


class Simulator(Running):
    """A OneRoster API for ``bundle`` on 127.0.0.1; a context manager that runs it in a thread."""

    thread_name = "oneroster-simulator"

    def __init__(self, bundle: Path, *, version: str = "1.1", behaviour: Behaviour | None = None,
                 port: int = 0, client_id: str = "rostersync-test", client_secret: str | None = None,
                 host: str = "127.0.0.1", ssl_context: Any = None, paths: Paths | None = None,
                 auth: AuthPolicy | None = None, exported_at: str | None = None) -> None:
        if version not in VERSIONS:
            raise ValueError(f"version must be one of {', '.join(VERSIONS)}")
        self.version, self.behaviour = version, behaviour or Behaviour()
        self.paths = paths or Paths.default(version)
        self.auth = auth or AuthPolicy(client_id, client_secret or secrets.token_urlsafe(24), oauth1=version == "1.1")
        self.log: list[LogEntry] = []
        self._lock = threading.Lock()
        self._requests = 0
        self.cuts = 0  # responses whose connection was dropped (Behaviour.cut_every)
        self._random = random.Random(self.behaviour.seed)
        self.server = Server((host, port), handler_for(self.handle, lambda: self.behaviour,
                                                       lambda: self.auth.token_path))
        self.scheme = "http"
        if ssl_context is not None:
            self.server.socket = ssl_context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.host = host
        self.port = self.server.server_address[1]
        self.data = RosterData(bundle, version, self.href, exported_at)
        self._fields = {e: by_key(e, version) for e in self.data.objects}

    # -- where it is and who may use it ---------------------------------------------------------------
    @property
    def root(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The rostering service (1.1: every service)."""
        return self.root + self.paths.rostering

    def service_url(self, service: str) -> str:
        return self.root + self.paths.of(service)

    @property
    def token_url(self) -> str:
        query = urlencode(self.auth.token_query)
        return self.root + self.auth.token_path + (f"?{query}" if query else "")

    @property
    def client_id(self) -> str:
        return self.auth.client_id

    @property
    def client_secret(self) -> str:
        return self.auth.client_secret

    @client_secret.setter
    def client_secret(self, value: str) -> None:
        self.auth.client_secret = value

    @property
    def tokens_issued(self) -> int:
        return self.auth.tokens_issued

    def href(self, kind: str, sourced_id: str) -> str:
        service, collection = REF_TARGETS[kind]
        return f"{self.service_url(service)}/{collection}/{sourced_id}"

    # -- what tests look at ----------------------------------------------------------------------------
    def requests(self, prefix: str = "") -> list[LogEntry]:
        """Logged requests to rostering paths starting with ``prefix`` (relative to the API root)."""
        base = self.paths.rostering + "/"
        with self._lock:
            return [e for e in self.log if e.path.startswith(base + prefix)]

    def expire_tokens(self) -> None:
        """Revoke every token now, as a server restart or a key rotation would."""
        self.auth.expire_tokens()

    # -- answering -------------------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], Any]:
        url = urlsplit(target)
        params = parse_qsl(url.query, keep_blank_values=True)
        entry = LogEntry(method, url.path, dict(params), auth_kind(headers))
        with self._lock:
            self.log.append(entry)
        b = self.behaviour
        if b.redirect and (url.path != self.auth.token_path or b.redirect_token):
            status, out_headers, answer = 302, {"Location": b.redirect.rstrip("/") + target}, {}
        elif url.path == self.auth.token_path:
            status, out_headers, answer = self.auth.token(headers, body, b.token_ttl, method, dict(params))
        else:
            try:
                status, out_headers, answer = self._read(method, target, url.path, params, headers)
            except ApiError as error:
                status, out_headers = error.status, error.headers
                answer = payload(self.version, error, b.error_envelope)
        entry.status = status
        if b.latency:  # after the work, as a slow network or a busy server would add it
            time.sleep(b.latency)
        return status, out_headers, answer

    def _read(self, method: str, target: str, path: str, params: list[tuple[str, str]],
              headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        b = self.behaviour
        if not any(path.startswith(self.paths.of(s) + "/") for s in ("rostering", "gradebook", "resources")):
            raise unknown(f"no such path {path}")
        found = find_route(self.version, self.paths, path)
        self.auth.check(f"{self.root}{target}", headers, b.token_max_uses, found[0] if found else None,
                        doomed=(b.expire_token, b.expire_token_after))
        if method != "GET":
            raise ApiError(405, f"{method} is not served (a read-only provider)", "invaliddata", major="unsupported")
        with self._lock:
            self._requests += 1
            n = self._requests
            throttled = b.throttle_every and n % (b.throttle_every + b.throttle_burst) >= b.throttle_every
            fail = b.error_rate and self._random.random() < b.error_rate
        if throttled:
            raise ApiError(429, "slow down", "server_busy", headers={"Retry-After": f"{b.retry_after:g}"})
        if fail:
            raise ApiError(500, "simulated failure", "internal_server_error")
        if found is None:
            raise unknown(f"no such endpoint {path}")
        status, out_headers, answer = self._answer(found, path, params)
        if b.cut_every and n % b.cut_every == 0:  # the link drops halfway through this response
            with self._lock:
                self.cuts += 1
            return status, out_headers, Cut(answer if isinstance(answer, bytes) else json_body(answer))
        return status, out_headers, answer

    def _answer(self, found: tuple[Route, list[str]], path: str, params: list[tuple[str, str]]
                ) -> tuple[int, dict[str, str], Any]:
        b = self.behaviour
        route, ids = found
        literal = [s for s in route.pattern if not s.startswith("{")]
        if b.no_school_paths and route.kind == NESTED and route.pattern[0] == "schools":
            raise unknown("nested paths are not supported")
        if literal[-1] in b.forbidden:
            raise ApiError(403, f"{literal[-1]} is not shared with this client", "forbidden")
        if route.kind == SINGLE:
            return self._single(route, ids, params)
        return self._collection(route, ids, params, path, literal[-1])

    def _single(self, route: Route, ids: list[str], params: list[tuple[str, str]]) -> tuple[int, dict[str, str], Any]:
        known = self._fields_of(route.entity)
        query = read_query(params, known, self.version, collection=False)
        obj = relations.one(self.data, route.name, ids[0])
        return 200, {}, {route.envelope: self._out(route.entity, obj, query.fields)}

    def _collection(self, route: Route, ids: list[str], params: list[tuple[str, str]], path: str,
                    last: str) -> tuple[int, dict[str, str], Any]:
        b = self.behaviour
        known = self._fields_of(route.entity)
        query = read_query(params, known, self.version, collection=True)
        limit = min(query.limit, b.page_clamp) if b.page_clamp else query.limit
        offset = 0 if b.ignore_offset else query.offset

        def select() -> list[dict[str, Any]]:
            items = (relations.everything(self.data, route.name) if route.kind == COLLECTION
                     else relations.nested(route.name, self.data, ids))
            if query.keep is not None:
                items = [o for o in items if query.keep(o)]
            return sort_objects(items, query, known) if query.sort else items

        key = (route.kind, route.name, tuple(ids), query.filter, query.sort, query.descending)
        selected = self.data.selection(key, select)
        if b.unstable_order and not query.sort:  # no natural order: each request sees another one
            with self._lock:
                selected = self._random.sample(selected, len(selected))
        with self.data.lock:
            total, page = len(selected), selected[offset:offset + limit]
        out_headers: dict[str, str] = {}
        if not b.no_total_count:
            out_headers["X-Total-Count"] = str(total + b.total_skew)
        if not b.no_link:
            out_headers["Link"] = link_header(self.root + path, params, offset, limit, total)
        envelope = last if b.path_envelopes else route.envelope
        if query.fields or b.relaxed:
            return 200, out_headers, {envelope: [self._out(route.entity, o, query.fields) for o in page]}
        joined = b",".join(self.data.encoded(o) for o in page)
        return 200, out_headers, Encoded(b'{"' + envelope.encode() + b'":[' + joined + b"]}")

    def _fields_of(self, entity: str) -> dict[str, Field]:
        known = self._fields.get(entity)
        if known is None:  # an entity the bundle does not hold: its fields all the same
            known = self._fields[entity] = by_key(entity, self.version)
        return known

    def _out(self, entity: str, obj: dict[str, Any], wanted: tuple[str, ...]) -> dict[str, Any]:
        if self.behaviour.relaxed:
            defaulted = obj.get("sourcedId") in self.data.defaulted.get(entity, ())
            obj = relax(obj, fields(entity, self.version), self.behaviour, defaulted=defaulted, entity=entity)
        return select_fields(obj, wanted)
