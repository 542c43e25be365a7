"""HTTP for REST APIs (OneRoster, Clever): one httpx client per fetch, retries with backoff, errors an
operator can act on.

Transient failures (connect errors, timeouts, 5xx, 429) are retried by tenacity with exponential
backoff and jitter, honouring ``Retry-After`` or, where a server sends only that, the time its rate
limit resets (``X-RateLimit-Reset``, Clever's and GitHub's habit). What is not transient becomes a
:class:`~rostersync.errors.SourceError` naming the URL (with secrets removed), the status code and
the server's imsx status payload when it sent one. A 403/404 is :class:`NotShared`: the caller decides
whether that means "this SIS does not share the endpoint" (first page) or a failed run (later).
"""

from __future__ import annotations

import email.utils
import json
import ssl
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs

from rostersync import __version__
from rostersync.errors import SourceError

if TYPE_CHECKING:
    import httpx

    from rostersync.api.settings import HttpSettings

#: Query parameters never shown in a location or message.
SENSITIVE = ("secret", "token", "password", "signature", "key", "code", "assertion")
RETRY_AFTER_CAP = 120.0


class NotShared(SourceError):
    """The server answered 403 or 404 for an endpoint."""

    def __init__(self, message: str, location: str, status: int) -> None:
        self.status = status
        super().__init__(message, location)


class _Transient(Exception):
    """A response worth retrying (429, 5xx); carries it so the last one can be reported."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response


def redact(url: str) -> str:
    """``url`` without user:password and with sensitive query values replaced by ``***``."""
    parts = urlsplit(str(url))
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = [(k, "***" if any(s in k.lower() for s in SENSITIVE) else v) for k, v in parse_qsl(parts.query, True)]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="*'<>=,:"), ""))


def imsx_status(response: httpx.Response) -> str:
    """The server's OneRoster status payload (1.1 ``statusInfoSet``, 1.2 ``imsx_statusInfo`` or top-level
    ``imsx_*`` fields), an OAuth ``error``, or a plain ``message`` (Clever), as one short line; '' when
    there is none."""
    try:
        body = json.loads(response.content[:65536] or b"null")
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    info: Any = body
    if isinstance(body.get("statusInfoSet"), list) and body["statusInfoSet"]:
        info = body["statusInfoSet"][0]
    elif isinstance(body.get("imsx_statusInfo"), dict):
        info = body["imsx_statusInfo"]
    if isinstance(info, dict) and "imsx_codeMajor" in info:
        minor = info.get("imsx_CodeMinor") or info.get("imsx_codeMinor") or {}
        fields = minor.get("imsx_codeMinorField") if isinstance(minor, dict) else None
        minors = [str(m.get("imsx_codeMinorFieldValue")) for m in fields or [] if isinstance(m, dict)]
        parts = [str(info.get("imsx_codeMajor")), str(info.get("imsx_severity") or ""), *minors]
        desc = info.get("imsx_description")
        return "/".join(p for p in parts if p) + (f": {desc}" if desc else "")
    if "error" in body:
        desc = body.get("error_description")
        return str(body["error"]) + (f": {desc}" if desc else "")
    if isinstance(body.get("message"), str):  # Clever's errors: {"message": "..."}
        return body["message"][:500]
    return ""


def describe(response: httpx.Response) -> str:
    """``HTTP 403 Forbidden; server said: failure/error/forbidden: ...``"""
    status = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    said = imsx_status(response)
    return f"{status}; server said: {said}" if said else status


def not_json(response: httpx.Response, exc: ValueError, api: str = "OneRoster API") -> str:
    """Why a 2xx body could not be used: an HTML page (a login or proxy page), or broken JSON (cut off)."""
    kind = response.headers.get("content-type", "no content type")
    if response.content[:512].lstrip()[:1] == b"<":
        return (f"HTTP {response.status_code} but the body is an HTML page ({kind}), not JSON: a login page, a "
                f"proxy's error page, or a base_url that is not the {api}?")
    return (f"HTTP {response.status_code} but the body is not valid JSON ({kind}; {exc}): cut off in transit, or "
            f"not a {api}?")


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait before retrying, capped: from ``Retry-After`` (delta-seconds or an HTTP date), else
    from ``X-RateLimit-Reset`` on a 429 (:func:`rate_limit_reset`); None when the server says neither."""
    value = response.headers.get("retry-after")
    if not value:
        reset = rate_limit_reset(response) if response.status_code == 429 else None
        return None if reset is None else min(max(reset - time.time(), 0.0), RETRY_AFTER_CAP)
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


def rate_limit_reset(response: httpx.Response) -> float | None:
    """When the exhausted rate limit resets, as a Unix time, from ``X-RateLimit-Reset``; None if absent.

    Clever sends one value per bucket, comma-separated (``X-RateLimit-Remaining: 0, 0`` with
    ``X-RateLimit-Reset: 1718000000, 1718000040``): the wait is until the latest reset of a bucket with
    nothing remaining (of every bucket, when the remaining counts are missing). A value too small to be a
    Unix time is read as seconds from now, as some servers send it."""
    resets = _numbers(response.headers.get("x-ratelimit-reset", ""))
    if not resets:
        return None
    remaining = _numbers(response.headers.get("x-ratelimit-remaining", ""))
    if len(remaining) == len(resets) and any(r <= 0 for r in remaining):
        resets = [t for t, r in zip(resets, remaining, strict=True) if r <= 0]
    now = time.time()
    return max(t if t > 1e9 else now + t for t in resets)


def _numbers(header: str) -> list[float]:
    out = []
    for part in header.split(","):
        try:
            out.append(float(part.strip()))
        except ValueError:
            continue
    return out


@attrs.frozen
class _Wait:
    """tenacity wait: ``Retry-After`` when the server gave one, else exponential backoff with jitter."""

    backoff: Any  # a tenacity wait strategy

    @classmethod
    def starting_at(cls, seconds: float) -> _Wait:
        import tenacity

        return cls(tenacity.wait_exponential(multiplier=seconds, max=60) + tenacity.wait_random(0, seconds))

    def __call__(self, state: Any) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient):
            after = retry_after(exc.response)
            if after is not None:
                return after
        return float(self.backoff(state))


def _is_transient(exc: BaseException) -> bool:
    import httpx

    return isinstance(exc, _Transient | httpx.TransportError)


def ssl_context(options: HttpSettings) -> ssl.SSLContext | bool:
    """What httpx's ``verify`` gets: system CAs, a custom CA bundle, or (only if asked) no verification."""
    if not options.verify_tls:
        return False
    if options.ca_bundle is not None:
        try:
            return ssl.create_default_context(cafile=str(options.ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            raise SourceError(f"cannot load ca_bundle: {exc}", str(options.ca_bundle)) from None
    return ssl.create_default_context()


def new_client(options: HttpSettings, auth: httpx.Auth | None = None) -> httpx.Client:
    """A client that never follows redirects (credentials stay with the configured host) and reads every
    response within ``max_response_mb`` and ``deadline`` (:mod:`rostersync.api.bounded`)."""
    import httpx

    from rostersync.api.bounded import ENCODINGS, Budget

    return httpx.Client(
        auth=auth,
        verify=ssl_context(options),
        timeout=httpx.Timeout(options.timeout, connect=options.connect_timeout),
        limits=httpx.Limits(max_connections=options.max_connections(),
                            max_keepalive_connections=options.max_connections()),
        headers={"Accept": "application/json", "Accept-Encoding": ENCODINGS, "User-Agent": f"rostersync/{__version__}"},
        follow_redirects=False,
        event_hooks=Budget(options).hooks(),
    )


def request(client: httpx.Client, method: str, url: str, options: HttpSettings,
            send: Callable[[], httpx.Response] | None = None, **kwargs: Any) -> httpx.Response:
    """Send with retries. Returns a 2xx response; raises NotShared (403/404) or SourceError otherwise."""
    import httpx
    import tenacity

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(options.retries),
        wait=_Wait.starting_at(options.backoff),
        retry=tenacity.retry_if_exception(_is_transient),
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                response = send() if send else client.request(method, url, **kwargs)
                if response.status_code == 429 or response.status_code >= 500:
                    raise _Transient(response)
    except _Transient as exc:
        raise SourceError(f"{describe(exc.response)} (gave up after {options.retries} attempts)",
                          _where(url, kwargs)) from None
    except httpx.TimeoutException as exc:
        raise SourceError(f"timed out ({type(exc).__name__}) after {options.retries} attempts; the server is "
                          f"slow or unreachable (timeout setting: {options.timeout:g} s)",
                          _where(url, kwargs)) from None
    except httpx.TransportError as exc:
        raise SourceError(f"cannot reach the server after {options.retries} attempts: {_plain(exc)}",
                          _where(url, kwargs)) from None
    if 200 <= response.status_code < 300:
        return response
    where = redact(str(response.request.url))
    if 300 <= response.status_code < 400:
        to = redact(response.headers.get("location", "")) or "nowhere"
        raise SourceError(f"{describe(response)}: redirected to {to}; rostersync does not follow redirects, so "
                          "credentials never go to another address (set the URL to where it leads, if you trust "
                          "it)", where)
    if response.status_code in (403, 404):
        raise NotShared(describe(response), where, response.status_code)
    if response.status_code == 401:
        raise SourceError(f"{describe(response)}: the server refused the credentials ({options.refused_hint()})",
                          where)
    raise SourceError(describe(response), where)


def _where(url: str, kwargs: dict[str, Any]) -> str:
    """The request's URL with its query, secrets removed (built only when there is an error to report)."""
    import httpx

    return redact(str(httpx.URL(url, params=kwargs.get("params"))))


def _plain(exc: BaseException) -> str:
    """A transport error's text (it never holds credentials: they travel in headers)."""
    text = str(exc) or type(exc).__name__
    if "SSL" in text or "certificate" in text.lower():
        text += " (TLS: check verify_tls / ca_bundle)"
    return text
