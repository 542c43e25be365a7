"""Who may use the web view, and the defences every response carries.

Three ways in, decided when the server starts (:func:`access_for`):

* **open**: bound to a loopback address with no password set. Only programs on this machine can
  connect; actions are audited as ``anonymous``. Host headers other than loopback names are refused,
  so a web page cannot reach the view by DNS rebinding.
* **password**: operators sign in with a name and password whose argon2id hash is in ``[web.users]``.
  Required to bind anywhere but loopback (unless a proxy authenticates).
* **proxy**: a reverse proxy authenticates and names the user in a header (``--proxy-header``). The
  header is believed only on connections from the proxy's addresses; any other request is refused,
  and so is a Host header other than the names the proxy serves (``allowed_hosts``, required here).

Every POST carries the session's CSRF token (a POST without it is refused 403, whoever sends it);
responses forbid framing and scripts (Content-Security-Policy), and pages are not cached.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import attrs

from rostersync.errors import ConfigError
from rostersync.web.settings import WebSettings

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
CSRF_FIELD = "csrf_token"

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


def is_loopback(host: str) -> bool:
    """``host`` (an address or ``localhost``) only reaches this machine."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@attrs.frozen
class Access:
    """How requests are authenticated (``mode``: open | password | proxy) and which Host headers answer
    (empty: any)."""

    mode: str
    users: dict[str, str] = attrs.Factory(dict)
    proxy_header: str | None = None
    proxy_addresses: tuple[str, ...] = ()
    allowed_hosts: frozenset[str] = frozenset()
    secure_cookies: bool = False

    def trusts_proxy(self, client: str | None) -> bool:
        return client is not None and client in self.proxy_addresses


def access_for(host: str, settings: WebSettings) -> Access:
    """The access mode for serving on ``host`` with these settings. Binding anywhere but loopback
    without a password or a trusted proxy is refused: the roster would be open to the network."""
    hosts = {h.lower() for h in settings.allowed_hosts}
    if not hosts and is_loopback(host):
        hosts = {*LOOPBACK_NAMES, host.strip("[]").lower()}
    common = {"allowed_hosts": frozenset(hosts), "secure_cookies": settings.secure_cookies}
    if settings.proxy_user_header:
        if not settings.allowed_hosts:  # else a page could rebind its name to the proxy's address and
            raise ConfigError(         # send the user header itself
                "behind a reverse proxy, name the host names it serves: --allowed-host NAME or [web] "
                "allowed_hosts = [\"rostersync.example.org\"] (and have the proxy pass the Host header on)")
        return Access("proxy", proxy_header=settings.proxy_user_header, proxy_addresses=settings.proxy_addresses,
                      **common)
    if settings.users:
        return Access("password", users=dict(settings.users), **common)
    if not is_loopback(host):
        raise ConfigError(f"serving on {host} would open the roster to the network without a password: set one "
                          f"with rostersync serve --set-password, or run behind a reverse proxy that "
                          f"authenticates (--proxy-header X-Forwarded-User), or bind to 127.0.0.1")
    return Access("open", **common)


# -- passwords --------------------------------------------------------------------------------------
def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return str(_hasher().hash(password))


#: verified against when the user name is unknown, so a wrong name costs as long as a wrong password
_DUMMY = ""


def verify_password(users: dict[str, str], user: str, password: str) -> bool:
    """Whether ``password`` is ``user``'s. Constant work whether or not the user exists."""
    from argon2.exceptions import InvalidHashError, VerificationError

    global _DUMMY
    if not _DUMMY:
        _DUMMY = hash_password(secrets.token_urlsafe(16))
    try:
        return bool(_hasher().verify(users.get(user, _DUMMY), password)) and user in users
    except (VerificationError, InvalidHashError):
        return False


class LoginThrottle:
    """At most ``attempts`` failed sign-ins per client address in ``window`` seconds; then refused
    until the oldest failure ages out (argon2 already makes each guess slow)."""

    def __init__(self, attempts: int = 5, window: float = 300.0) -> None:
        self.attempts, self.window = attempts, window
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, client: str) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        while failures and failures[0] < time.monotonic() - self.window:
            failures.popleft()
        return failures

    def blocked(self, client: str) -> bool:
        return len(self._recent(client)) >= self.attempts

    def failed(self, client: str) -> None:
        self._recent(client).append(time.monotonic())

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)


# -- CSRF ------------------------------------------------------------------------------------------
def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's CSRF token, made on first use; every form carries it."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def csrf_ok(session: MutableMapping[str, Any], submitted: Any) -> bool:
    expected = session.get("csrf")
    return bool(expected) and isinstance(submitted, str) and hmac.compare_digest(expected, submitted)


# -- every response --------------------------------------------------------------------------------
HEADERS = [
    (b"content-security-policy", b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                                 b"frame-ancestors 'none'; base-uri 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


def _host_of(scope: Scope) -> str:
    raw = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").strip().lower()
    if raw.startswith("["):  # [::1]:8080
        return raw[1:raw.find("]")] if "]" in raw else raw
    return raw.rsplit(":", 1)[0] if raw.count(":") == 1 else raw


def guard(app: ASGIApp, access: Access) -> ASGIApp:
    """Wrap ``app``: refuse a Host header not allowed (DNS rebinding) with 421, and add the security
    headers to every response."""

    async def wrapped(scope: Scope, receive: Callable[[], Awaitable[Any]],
                      send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if access.allowed_hosts and _host_of(scope) not in access.allowed_hosts:
            await send({"type": "http.response.start", "status": 421,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"), *HEADERS]})
            await send({"type": "http.response.body", "body": b"this server does not answer for that host name\n"})
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *HEADERS]}
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped
