"""A loopback OneRoster REST server: a CSV bundle served as a 1.1 or 1.2 API, with real servers' habits.

Runs on 127.0.0.1 in a thread (tests, benchmarks, demos) or in the foreground (``rostersync simulate``).
Speaks OAuth 2 client credentials (``POST /oauth/token``, client credentials in a Basic header or the
body) and, for 1.1, two-legged OAuth 1 (HMAC-SHA256/HMAC-SHA1, verified by oauthlib); pages with
limit/offset, ``X-Total-Count`` and ``Link``; filters (``dateLastModified>'...'``, ``status='...'``, at
most two clauses joined by AND/OR), ``sort``/``orderBy`` and ``fields``. :class:`Behaviour` switches on
what real servers do: clamp page sizes, omit headers, throttle with 429 + Retry-After, fail at random
(seeded), answer slowly, expire tokens mid-sync, refuse an endpoint, pad ids with spaces, send booleans
as strings... Every request is logged in :attr:`Simulator.log` so tests can see what a client asked.

Example::

    with Simulator(bundle, version="1.2", behaviour=Behaviour(page_clamp=50)) as sim:
        ...  # sync with base_url=sim.base_url, token_url=sim.token_url, client_id=sim.client_id
"""

from __future__ import annotations

import base64
import gzip
import json
import random
import re
import secrets
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import attrs

from rostersync.testing.sim_data import RosterData, parse_when

BASE_PATHS = {"1.1": "/ims/oneroster/v1p1", "1.2": "/ims/oneroster/rostering/v1p2"}
TOKEN_PATH = "/oauth/token"

#: collection path -> (entity, envelope key, predicate on objects or None)
COLLECTIONS: dict[str, tuple[str, str, Callable[[dict[str, Any]], bool] | None]] = {
    "orgs": ("orgs", "orgs", None),
    "schools": ("orgs", "orgs", lambda o: o.get("type") == "school"),
    "academicSessions": ("academic_sessions", "academicSessions", None),
    "terms": ("academic_sessions", "academicSessions", lambda o: o.get("type") == "term"),
    "courses": ("courses", "courses", None),
    "classes": ("classes", "classes", None),
    "users": ("users", "users", None),
    "students": ("users", "users", lambda o: _role(o) == "student"),
    "teachers": ("users", "users", lambda o: _role(o) == "teacher"),
    "enrollments": ("enrollments", "enrollments", None),
    "demographics": ("demographics", "demographics", None),
}
SCHOOL_COLLECTIONS = {"classes", "enrollments", "courses", "students", "teachers"}
_CLAUSE = re.compile(r"^\s*(\w+)\s*(>=|<=|!=|=|>|<|~)\s*'([^']*)'\s*$")


def _role(obj: dict[str, Any]) -> str | None:
    if "roles" in obj:
        return next((r.get("role") for r in obj["roles"] or [] if r.get("roleType") == "primary"), None)
    return obj.get("role")


def _orgs(obj: dict[str, Any]) -> set[str]:
    refs = [r.get("org") or {} for r in obj.get("roles") or []] + list(obj.get("orgs") or [])
    return {str(r.get("sourcedId", "")).strip() for r in refs}


@attrs.frozen
class Behaviour:
    """Switchable habits of real OneRoster servers. The defaults are a well-behaved server."""

    page_clamp: int | None = None  # largest page served, whatever limit asks
    no_total_count: bool = False  # omit X-Total-Count
    no_link: bool = False  # omit the Link header
    throttle_every: int = 0  # after every N data requests ...
    throttle_burst: int = 3  # ... answer this many with 429 ...
    retry_after: float = 1.0  # ... and this Retry-After (seconds)
    error_rate: float = 0.0  # share of data requests answered 500, at random
    seed: int = 0  # for error_rate: the same run fails the same way
    latency: float = 0.0  # seconds added to every response
    token_ttl: int = 3600  # expires_in of issued tokens (enforced)
    token_max_uses: int = 0  # a token stops working after this many requests (0: never), whatever its ttl
    forbidden: tuple[str, ...] = ()  # collections answered 403 (e.g. demographics)
    id_whitespace: bool = False  # sourcedIds and references padded with spaces
    string_booleans: bool = False  # booleans sent as "true"/"false"
    ignore_offset: bool = False  # every page starts at offset 0 (a broken server)
    total_skew: int = 0  # X-Total-Count off by this much
    no_school_paths: bool = False  # /schools/{id}/... answers 404
    path_envelopes: bool = False  # /students answers {"students": [...]} (not the spec's "users")
    # hostile or broken servers (and what sits between them and rostersync):
    truncate_body: bool = False  # data pages cut in half (with a matching Content-Length): broken JSON
    content_type: str = "application/json"  # the Content-Type of data pages
    html: int = 0  # answer data requests with this status and an HTML page (200: a login page, 502: a proxy)
    pad_bytes: int = 0  # append this many spaces to each data page (an enormous page)
    gzip: bool = False  # gzip every body when the client accepts it (with pad_bytes: a gzip bomb)
    redirect: str = ""  # answer data requests 302 to this origin (e.g. http://127.0.0.1:9), same path
    redirect_token: bool = False  # ... and the token request too
    trickle: float = 0.0  # send each body in 64-byte pieces, this many seconds apart (slowloris)

    @classmethod
    def parse(cls, items: tuple[str, ...] | list[str]) -> Behaviour:
        """From ``key=value`` strings (the ``--behaviour`` CLI option)."""
        values: dict[str, Any] = {}
        fields = attrs.fields_dict(cls)
        for item in items:
            key, _, raw = item.partition("=")
            key = key.strip().replace("-", "_")
            if key not in fields:
                raise ValueError(f"unknown behaviour {key!r} (known: {', '.join(fields)})")
            default = fields[key].default
            if isinstance(default, bool):
                values[key] = raw.strip().lower() in ("", "1", "true", "yes", "on")
            elif isinstance(default, tuple):
                values[key] = tuple(v.strip() for v in raw.split(",") if v.strip())
            elif isinstance(default, float):
                values[key] = float(raw)
            elif isinstance(default, str):
                values[key] = raw
            else:
                values[key] = int(raw)
        return cls(**values)


@attrs.define
class LogEntry:
    method: str
    path: str
    query: dict[str, str]
    auth: str  # "bearer", "oauth1:HMAC-SHA256", "none"...
    status: int = 0


def _oauth1_endpoint(sim: Simulator) -> Any:
    """oauthlib's verifier of two-legged signatures, for one client; nonces are remembered (no replays)."""
    from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint

    class Validator(RequestValidator):  # type: ignore[misc]
        enforce_ssl = False
        allowed_signature_methods = ("HMAC-SHA256", "HMAC-SHA1")
        dummy_client = "dummy-client"

        def __init__(self) -> None:
            super().__init__()
            self.seen: set[tuple[str, str, str]] = set()
            self.lock = threading.Lock()

        def check_client_key(self, client_key: str) -> bool:
            return bool(client_key)

        def check_nonce(self, nonce: str) -> bool:
            return bool(nonce)

        def validate_client_key(self, client_key: str, request: Any) -> bool:
            return client_key == sim.client_id

        def get_client_secret(self, client_key: str, request: Any) -> str:
            return sim.client_secret if client_key == sim.client_id else "dummy-secret"

        def validate_timestamp_and_nonce(self, client_key: str, timestamp: str, nonce: str, request: Any,
                                         request_token: Any = None, access_token: Any = None) -> bool:
            with self.lock:
                key = (client_key, timestamp, nonce)
                if key in self.seen:
                    return False
                self.seen.add(key)
                return True

    return SignatureOnlyEndpoint(Validator())


class Simulator:
    """A OneRoster API for ``bundle`` on 127.0.0.1; a context manager that runs it in a thread."""

    def __init__(self, bundle: Path, *, version: str = "1.1", behaviour: Behaviour | None = None,
                 port: int = 0, client_id: str = "rostersync-test", client_secret: str | None = None,
                 host: str = "127.0.0.1", ssl_context: Any = None) -> None:
        if version not in BASE_PATHS:
            raise ValueError(f"version must be one of {', '.join(BASE_PATHS)}")
        self.version, self.behaviour = version, behaviour or Behaviour()
        self.client_id, self.client_secret = client_id, client_secret or secrets.token_urlsafe(24)
        self.log: list[LogEntry] = []
        self.tokens: dict[str, list[float]] = {}  # token -> [expires_at (monotonic), uses]
        self.tokens_issued = 0
        self._lock = threading.Lock()
        self._requests = 0
        self._throttled = 0
        self._random = random.Random(self.behaviour.seed)
        self.server = _Server((host, port), _handler_for(self))
        self.scheme = "http"
        if ssl_context is not None:
            self.server.socket = ssl_context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.host = host
        self.port = self.server.server_address[1]
        self.data = RosterData(bundle, version, self.base_url)
        self._oauth1: Any = None
        self._thread: threading.Thread | None = None

    @property
    def root(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root + BASE_PATHS[self.version]

    @property
    def token_url(self) -> str:
        return self.root + TOKEN_PATH

    def start(self) -> Simulator:
        self._thread = threading.Thread(target=self.server.serve_forever, name="oneroster-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- what tests look at --------------------------------------------------------------------------
    def requests(self, prefix: str = "") -> list[LogEntry]:
        """Logged requests to data paths starting with ``prefix`` (relative to the API root)."""
        base = BASE_PATHS[self.version] + "/"
        with self._lock:
            return [e for e in self.log if e.path.startswith(base + prefix)]

    def expire_tokens(self) -> None:
        """Revoke every token now, as a server restart or a key rotation would."""
        with self._lock:
            self.tokens.clear()

    # -- request handling ----------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], Any]:
        url = urlsplit(target)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        entry = LogEntry(method, url.path, query, _auth_kind(headers))
        with self._lock:
            self.log.append(entry)
        b = self.behaviour
        if b.redirect and (url.path != TOKEN_PATH or b.redirect_token):
            status, out_headers, payload = 302, {"Location": b.redirect.rstrip("/") + target}, {}
        elif url.path == TOKEN_PATH and method == "POST":
            status, out_headers, payload = self._token(headers, body)
        elif method != "GET":
            status, out_headers, payload = 405, {}, self._status("failure", "invalid_data", "only GET is served")
        else:
            status, out_headers, payload = self._data(target, url.path, query, headers)
        entry.status = status
        if self.behaviour.latency:  # after the work, as a slow network or a busy server would add it
            time.sleep(self.behaviour.latency)
        return status, out_headers, payload

    def _token(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], Any]:
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                raw_id, _, raw_secret = base64.b64decode(basic[6:]).decode("utf-8").partition(":")
            except ValueError:
                raw_id = raw_secret = ""
            client_id, secret = unquote(raw_id), unquote(raw_secret)
        if form.get("grant_type") != "client_credentials":
            return 400, {}, {"error": "unsupported_grant_type"}
        if client_id != self.client_id or not secrets.compare_digest(secret or "", self.client_secret):
            return 401, {"WWW-Authenticate": 'Basic realm="oneroster"'}, {"error": "invalid_client",
                                                                         "error_description": "unknown client"}
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = [time.monotonic() + self.behaviour.token_ttl, 0]
            self.tokens_issued += 1
        payload = {"access_token": token, "token_type": "bearer", "expires_in": self.behaviour.token_ttl}
        if form.get("scope"):
            payload["scope"] = form["scope"]
        return 200, {"Cache-Control": "no-store"}, payload

    def _authorised(self, target: str, headers: dict[str, str]) -> bool:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            with self._lock:
                state = self.tokens.get(auth[7:].strip())
                if state is None or time.monotonic() >= state[0]:
                    return False
                state[1] += 1
                limit = self.behaviour.token_max_uses
                if limit and state[1] > limit:
                    del self.tokens[auth[7:].strip()]
                    return False
                return True
        if auth.startswith("OAuth ") and self.version == "1.1":
            with self._lock:
                if self._oauth1 is None:
                    self._oauth1 = _oauth1_endpoint(self)
            valid, _request = self._oauth1.validate_request(f"{self.root}{target}", "GET", None,
                                                            {"Authorization": auth})
            return bool(valid)
        return False

    def _data(self, target: str, path: str, query: dict[str, str],
              headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        b = self.behaviour
        base = BASE_PATHS[self.version]
        if not path.startswith(base + "/"):
            return 404, {}, self._status("failure", "unknownobject", f"no such path {path}")
        if not self._authorised(target, headers):
            return 401, {"WWW-Authenticate": "Bearer"}, self._status("failure", "unauthorisedrequest",
                                                                    "missing, invalid or expired credentials")
        with self._lock:
            self._requests += 1
            n = self._requests
            throttled = b.throttle_every and n % (b.throttle_every + b.throttle_burst) >= b.throttle_every
            fail = b.error_rate and self._random.random() < b.error_rate
        if throttled:
            return 429, {"Retry-After": f"{b.retry_after:g}"}, self._status("failure", "server_busy", "slow down")
        if fail:
            return 500, {}, self._status("failure", "internal_server_error", "simulated failure")
        parts = [unquote(p) for p in path[len(base) + 1:].split("/") if p]
        school = None
        if len(parts) == 3 and parts[0] == "schools" and parts[2] in SCHOOL_COLLECTIONS:
            if b.no_school_paths:
                return 404, {}, self._status("failure", "unknownobject", "nested paths are not supported")
            school, parts = parts[1], [parts[2]]
        if parts and parts[0] in b.forbidden:
            return 403, {}, self._status("failure", "forbidden", f"{parts[0]} is not shared with this client")
        if len(parts) == 2 and parts[0] in COLLECTIONS:
            return self._single(parts[0], parts[1])
        if len(parts) != 1 or parts[0] not in COLLECTIONS:
            return 404, {}, self._status("failure", "unknownobject", f"no such collection {'/'.join(parts)}")
        return self._collection(parts[0], school, query, target)

    def _single(self, name: str, sourced_id: str) -> tuple[int, dict[str, str], Any]:
        entity, key, _ = COLLECTIONS[name]
        obj = self.data.find(entity, sourced_id)
        if obj is None:
            return 404, {}, self._status("failure", "unknownobject", f"no {name} {sourced_id}")
        singular = {"academicSessions": "academicSession", "classes": "class", "demographics": "demographics"}
        return 200, {}, {singular.get(key, key[:-1]): self._out(obj)}

    def _collection(self, name: str, school: str | None, query: dict[str, str],
                    target: str) -> tuple[int, dict[str, str], Any]:
        b = self.behaviour
        entity, key, predicate = COLLECTIONS[name]
        key = name if b.path_envelopes else key
        try:
            limit = max(0, int(query.get("limit", 100)))
            offset = 0 if b.ignore_offset else max(0, int(query.get("offset", 0)))
        except ValueError:
            return 400, {}, self._status("failure", "invalid_data", "limit and offset must be integers")
        if b.page_clamp:
            limit = min(limit, b.page_clamp)
        selective = predicate or school is not None or query.get("filter") or query.get("sort")
        with self.data.lock:
            stored = self.data.objects.get(entity, [])
            items = list(stored) if selective else stored[offset:offset + limit]  # plain paging: no copy
            total = len(stored)
        if selective:
            items = self._select(items, predicate, school, query)
            if isinstance(items, tuple):
                return items
            total, items = len(items), items[offset:offset + limit]
        headers: dict[str, str] = {}
        if not b.no_total_count:
            headers["X-Total-Count"] = str(total + b.total_skew)
        if not b.no_link:
            headers["Link"] = _links(self.root + urlsplit(target).path, query, offset, limit, total)
        if query.get("fields") or b.id_whitespace or b.string_booleans:
            return 200, headers, {key: [self._out(o, query.get("fields")) for o in items]}
        encoded = b",".join(self.data.encoded(o) for o in items)
        return 200, headers, Encoded(b'{"' + key.encode() + b'":[' + encoded + b"]}")

    def _select(self, items: list[dict[str, Any]], predicate: Callable[[dict[str, Any]], bool] | None,
                school: str | None, query: dict[str, str]) -> Any:
        if predicate:
            items = [o for o in items if predicate(o)]
        if school is not None:
            items = [o for o in items if _belongs(o, school)]
        if query.get("filter"):
            try:
                keep = _compile_filter(query["filter"])
            except ValueError as exc:
                return 400, {}, self._status("failure", "invalid_filter_field", str(exc))
            items = [o for o in items if keep(o)]
        if query.get("sort"):
            field = query["sort"]
            items.sort(key=lambda o: str(o.get(field) or ""), reverse=query.get("orderBy") == "desc")
        return items

    def _out(self, obj: dict[str, Any], fields: str | None = None) -> dict[str, Any]:
        b = self.behaviour
        if fields:
            wanted = {f.strip() for f in fields.split(",")}
            obj = {k: v for k, v in obj.items() if k in wanted}
        if b.id_whitespace or b.string_booleans:
            obj = _transform(obj, b.id_whitespace, b.string_booleans)
        return obj

    def _status(self, major: str, minor: str, description: str) -> dict[str, Any]:
        info = {"imsx_codeMajor": major, "imsx_severity": "error", "imsx_description": description,
                "imsx_CodeMinor": {"imsx_codeMinorField": [{"imsx_codeMinorFieldName": "TargetEndSystem",
                                                            "imsx_codeMinorFieldValue": minor}]}}
        return {"statusInfoSet": [info]} if self.version == "1.1" else {"imsx_statusInfo": info}


def _auth_kind(headers: dict[str, str]) -> str:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return "bearer"
    if auth.lower().startswith("basic "):
        return "basic"
    if auth.startswith("OAuth "):
        found = re.search(r'oauth_signature_method="([^"]+)"', auth)
        return f"oauth1:{found.group(1) if found else '?'}"
    return "none"


def _belongs(obj: dict[str, Any], school: str) -> bool:
    ref = obj.get("school") or obj.get("org")
    if isinstance(ref, dict):
        return str(ref.get("sourcedId", "")).strip() == school
    return school in _orgs(obj)


def _compile_filter(expression: str) -> Callable[[dict[str, Any]], bool]:
    """OneRoster filter: ``field op 'value'``, at most two clauses joined by one AND or OR."""
    joined = re.split(r"\s+(AND|OR)\s+", expression)
    if len(joined) not in (1, 3):
        raise ValueError("at most two clauses joined by AND or OR")
    clauses = [_clause(part) for part in joined[::2]]
    if len(clauses) == 1:
        return clauses[0]
    left, right = clauses
    return (lambda o: left(o) and right(o)) if joined[1] == "AND" else (lambda o: left(o) or right(o))


def _clause(text: str) -> Callable[[dict[str, Any]], bool]:
    match = _CLAUSE.match(text)
    if not match:
        raise ValueError(f"cannot read filter clause {text!r} (expected field op 'value')")
    field, op, value = match.groups()
    if op == "~":
        return lambda o: value.lower() in str(o.get(field) or "").lower()
    compare = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, ">": lambda a, b: a > b,
               ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}[op]
    if field == "dateLastModified":
        since = parse_when(value)
        if since is None:
            raise ValueError(f"{value!r} is not a date-time")

        def by_time(o: dict[str, Any]) -> bool:
            when = parse_when(o.get(field))
            return when is not None and compare(when, since)

        return by_time
    return lambda o: o.get(field) is not None and compare(str(o.get(field)), value)


def _links(url: str, query: dict[str, str], offset: int, limit: int, total: int) -> str:
    def at(off: int) -> str:
        return url + "?" + urlencode({**query, "offset": str(off), "limit": str(limit)})

    step = max(limit, 1)
    links = [f'<{at(0)}>; rel="first"', f'<{at(max(0, (total - 1) // step * step))}>; rel="last"']
    if offset + step < total:
        links.append(f'<{at(offset + step)}>; rel="next"')
    if offset > 0:
        links.append(f'<{at(max(0, offset - step))}>; rel="prev"')
    return ", ".join(links)


def _transform(value: Any, pad_ids: bool, string_booleans: bool, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _transform(v, pad_ids, string_booleans, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_transform(v, pad_ids, string_booleans, key) for v in value]
    if isinstance(value, bool) and string_booleans:
        return "true" if value else "false"
    if pad_ids and key == "sourcedId" and isinstance(value, str):
        return value + "  "
    return value


HTML_PAGE = (b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Your session has expired"
             b"</h1><form action=/login method=post><input name=user></form></body></html>")


def _misbehave(b: Behaviour, target: str, status: int, data: bytes) -> tuple[int, str, bytes]:
    """(status, content type, body) of a data response after the behaviours that garble it."""
    if target.startswith(TOKEN_PATH) or status in (301, 302):
        return status, "application/json", data
    if b.html:
        return b.html, "text/html; charset=utf-8", HTML_PAGE
    if status == 200:
        if b.truncate_body:
            data = data[:len(data) // 2]
        if b.pad_bytes:
            data += b" " * b.pad_bytes
        return status, b.content_type, data
    return status, "application/json", data


class Encoded(bytes):
    """A response body already encoded as JSON (pages of cached objects)."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (timed out) is normal here; anything else is reported as usual."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_for(sim: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections as with real servers
        disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart (delayed ACK)
        server_version = "rostersync-simulator"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                status, out_headers, payload = sim.handle(self.command, self.path, headers, body)
            except Exception as exc:  # a simulator bug: answer 500 rather than hang the client
                status, out_headers, payload = 500, {}, {"error": f"{type(exc).__name__}: {exc}"}
            data = payload if isinstance(payload, Encoded) else json.dumps(
                payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            status, kind, data = _misbehave(sim.behaviour, self.path, status, data)
            if sim.behaviour.gzip and "gzip" in headers.get("accept-encoding", ""):
                data = gzip.compress(data, 6)
                out_headers = {**out_headers, "Content-Encoding": "gzip"}
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for name, value in out_headers.items():
                self.send_header(name, value)
            self.end_headers()
            if not sim.behaviour.trickle:
                self.wfile.write(data)
                return
            for start in range(0, len(data), 64):  # slowloris: never idle long enough for a read timeout
                self.wfile.write(data[start:start + 64])
                self.wfile.flush()
                time.sleep(sim.behaviour.trickle)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # requests are in sim.log instead
            pass

    return Handler
