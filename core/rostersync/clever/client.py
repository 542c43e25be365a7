"""Reading Clever's Data API: the district token, the rate limit, the envelope and cursor paging.

* **The token.** The configured district token, or one looked up with the app's client id and secret
  (``GET https://clever.com/oauth/tokens?owner_type=district``, HTTP Basic): the district's, chosen by
  ``district_id`` when the app has several. Tokens rotate, so a looked-up token the API refuses (401)
  is looked up again once and the request replayed. Every token is registered for redaction.
* **The rate limit.** Clever allows 1,200 requests a minute per token. Every request (retries too)
  first passes :class:`RateLimiter`: at most ``rate_limit`` requests in any minute, and none while the
  server's ``X-RateLimit-Remaining`` says the bucket is empty (until its ``X-RateLimit-Reset``). A 429
  is retried after that reset (:func:`rostersync.api.http.retry_after`).
* **The envelope.** A list is ``{"data": [{"data": {...}, "uri": "/v3.0/users/<id>"}], "links":
  [{"rel": "next", "uri": "/v3.0/users?limit=...&starting_after=<id>"}]}``; an object is
  ``{"data": {...}}``. Lists are sorted by id and paged by following ``next`` (a relative URI, resolved
  against the API host and never followed to another host) until a page comes back empty or without
  one; a page that does not start after the previous one (a server ignoring ``starting_after``) stops
  the run rather than looping.

Timeouts, the size and time budget of each response, retries, TLS and redaction are the HTTP client's
(:mod:`rostersync.api.http`), shared with the OneRoster transport.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs
import httpx

from rostersync.api.http import NotShared, new_client, not_json, rate_limit_reset, redact, request
from rostersync.errors import SourceError
from rostersync.secrets import remember

if TYPE_CHECKING:
    from rostersync.clever.settings import CleverApiSettings

#: (uri, object) of one listed item
Item = tuple[str, dict[str, Any]]


@attrs.frozen
class Page:
    url: str  # with secrets removed
    items: list[Item]
    next: str | None  # the next link's URI, as sent


class RateLimiter:
    """At most ``per_minute`` requests in any 60 seconds, and none while the server says the limit is
    spent. Thread-safe; ``clock``/``sleep`` are injectable for tests."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, wall: Callable[[], float] = time.time) -> None:
        self.per_minute = per_minute
        self.clock, self.sleep, self.wall = clock, sleep, wall
        self.sent: collections.deque[float] = collections.deque()
        self.blocked_until = 0.0
        self.waited = 0.0  # seconds spent waiting, for tests and check output
        self._lock = threading.Lock()

    def before(self, _request: httpx.Request | None = None) -> None:
        with self._lock:
            now = self.clock()
            while self.sent and now - self.sent[0] >= 60:
                self.sent.popleft()
            pause = max(self.blocked_until - now, 0.0)
            if len(self.sent) >= self.per_minute:
                pause = max(pause, self.sent[0] + 60 - now)
            if pause > 0:
                self.waited += pause
                self.sleep(pause)
                now = self.clock()
            self.sent.append(now)

    def after(self, response: httpx.Response) -> None:
        """Note the server's count: with nothing remaining, hold every request until the reset."""
        remaining = response.headers.get("x-ratelimit-remaining", "")
        values = [v.strip() for v in remaining.split(",") if v.strip()]
        if response.status_code == 429 or (values and any(v.lstrip("-").isdigit() and int(v) <= 0 for v in values)):
            reset = rate_limit_reset(response)
            if reset is not None:
                with self._lock:
                    self.blocked_until = max(self.blocked_until, self.clock() + min(max(reset - self.wall(), 0), 120))


class DistrictToken(httpx.Auth):
    """``Authorization: Bearer <district token>``; a looked-up token is looked up again once when refused."""

    def __init__(self, options: CleverApiSettings) -> None:
        self.options = options
        self._lock = threading.Lock()
        self._token = remember(options.token.reveal()) if options.token is not None else None
        self.looked_up = 0  # lookups made, for check output and tests
        self.district: str | None = None  # the district the looked-up token belongs to

    def __repr__(self) -> str:
        return f"DistrictToken({'configured' if self.options.token is not None else self.options.client_id!r})"

    def token(self, stale: str | None = None) -> str:
        with self._lock:
            if self._token is None or (stale is not None and self._token == stale):
                self._token = self._lookup()
            return self._token

    def _lookup(self) -> str:
        opts = self.options
        assert opts.client_secret is not None
        secret = opts.client_secret.reveal()
        url = opts.token_url + (f"&district={opts.district_id}" if opts.district_id and "?" in opts.token_url
                                else f"?district={opts.district_id}" if opts.district_id else "")
        where = redact(url)
        with new_client(opts) as client:
            try:
                response = request(client, "GET", url, opts, auth=httpx.BasicAuth(opts.client_id, secret))
            except SourceError as exc:
                raise SourceError(f"could not list the app's district tokens: {exc}") from None
        try:
            body = response.json()
        except ValueError as exc:
            raise SourceError(not_json(response, exc, "Clever token list"), where) from None
        tokens = [t.get("data", t) for t in (body.get("data") if isinstance(body, dict) else None) or []
                  if isinstance(t, dict)]
        districts = [t for t in tokens if isinstance(t.get("owner"), dict) and t["owner"].get("type") == "district"
                     and t.get("access_token")]
        ids = sorted({str(t["owner"].get("id")) for t in districts})
        if opts.district_id:
            districts = [t for t in districts if str(t["owner"].get("id")) == opts.district_id]
        if not districts:
            which = f"district {opts.district_id}" if opts.district_id else "any district"
            known = f" (the app has tokens for: {', '.join(ids)})" if ids else " (has a district authorised the app?)"
            raise SourceError(f"the app has no token for {which}{known}", where)
        if len({str(t["owner"].get("id")) for t in districts}) > 1:
            raise SourceError(f"the app has tokens for several districts ({', '.join(ids)}): set district_id to the "
                              "one this school belongs to", where)
        self.looked_up += 1
        self.district = str(districts[0]["owner"].get("id"))
        return remember(str(districts[0]["access_token"]))

    def auth_flow(self, req: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        used = self.token()
        req.headers["Authorization"] = f"Bearer {used}"
        response = yield req
        if response.status_code == 401 and self.options.token is None:
            req.headers["Authorization"] = f"Bearer {self.token(stale=used)}"
            yield req


class CleverClient:
    """One district's API for one fetch or check; a context manager that closes its connections."""

    def __init__(self, options: CleverApiSettings) -> None:
        self.options = options
        self.auth = DistrictToken(options)
        self.limiter = RateLimiter(options.rate_limit)
        self.client = new_client(options, self.auth)
        hooks = self.client.event_hooks
        hooks["request"].append(self.limiter.before)
        hooks["response"].append(self.limiter.after)
        self.client.event_hooks = hooks
        parts = urlsplit(options.base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"

    def __enter__(self) -> CleverClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.client.close()

    def url(self, path: str) -> str:
        """An absolute URL for a collection path (``users``), a versioned path or a link's URI; a link to
        another host is refused (the token never leaves the configured one)."""
        if path.startswith(("http://", "https://")):
            parts = urlsplit(path)
            if f"{parts.scheme}://{parts.netloc}" != self.origin:
                raise SourceError(f"a link points to another host ({redact(path)}); rostersync follows links only "
                                  f"on {self.origin}", redact(path))
            return path
        if path.startswith("/"):
            return self.origin + path
        return f"{self.options.api_root()}/{path}"

    def get(self, path: str, params: dict[str, Any] | None = None) -> tuple[str, Any]:
        """(where, JSON body) of a 2xx answer; NotShared for 403/404, SourceError otherwise."""
        response = request(self.client, "GET", self.url(path), self.options, params=params)
        where = redact(str(response.request.url))
        try:
            return where, response.json()
        except ValueError as exc:
            raise SourceError(not_json(response, exc, self.options.API_NAME), where) from None

    def one(self, path: str) -> dict[str, Any] | None:
        """One object (``users/<id>``), or None when the API answers 404 (deleted, or not shared)."""
        try:
            where, body = self.get(path)
        except NotShared as exc:
            if exc.status == 404:
                return None
            raise
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise SourceError("expected {\"data\": {...}}", where)
        return data

    def pages(self, path: str, params: dict[str, Any] | None = None, limit: int | None = None) -> Iterator[Page]:
        """Every page of a list, following ``next`` links until an empty page or none."""
        query = {**(params or {}), "limit": str(limit or self.options.page_size)}
        where, body = self.get(path, query)
        count, last = 0, None
        while True:
            page = _page(body, where)
            count += 1
            if page.items:
                first = page.items[0][1].get("id")
                if last is not None and isinstance(first, str) and first <= last:
                    raise SourceError(f"this page starts at id {first}, not after {last} where the previous one "
                                      "ended: the server ignores starting_after; nothing was imported", where)
                last = str(page.items[-1][1].get("id"))
                yield page
            if not page.items or not page.next:
                return
            if count >= self.options.max_pages:
                raise SourceError(f"more than max_pages ({self.options.max_pages}) pages", where)
            where, body = self.get(page.next)

    def objects(self, path: str, params: dict[str, Any] | None = None) -> Iterator[Item]:
        for page in self.pages(path, params):
            yield from page.items


def _page(body: Any, where: str) -> Page:
    """The items and next link of a list response; a body of another shape is an error naming it."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        found = ", ".join(sorted(map(str, body))) if isinstance(body, dict) else type(body).__name__
        raise SourceError(f"expected a Clever list ({{\"data\": [...], \"links\": [...]}}), got: {found or 'nothing'}",
                          where)
    items: list[Item] = []
    for n, item in enumerate(body["data"]):
        obj = item.get("data") if isinstance(item, dict) else None
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            raise SourceError(f"item {n} is not {{\"data\": {{\"id\": ...}}, \"uri\": ...}}", where)
        items.append((str(item.get("uri") or ""), obj))
    links = body.get("links") if isinstance(body.get("links"), list) else []
    nxt = next((str(link["uri"]) for link in links if isinstance(link, dict) and link.get("rel") == "next"
                and link.get("uri")), None)
    return Page(where, items, nxt)
