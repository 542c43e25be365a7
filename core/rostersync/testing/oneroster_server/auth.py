"""Who may read from the loopback server, and how they prove it: one :class:`AuthPolicy` per server.

* OAuth 2 (the 1.2 binding, and 1.1 servers that offer it): a token request to ``token_path`` (by
  ``token_method``: POST with a form body, or GET with the form in the query string, as some SIS
  want), ``grant`` ``client_credentials`` or ``password`` (an SIS account's ``username``/``password``
  beside the client credentials), the client's id and secret in an HTTP Basic header (RFC 6749 2.3.1,
  form-encoded), in the form, or ``both``, as ``client_auth`` accepts; answers a bearer token with
  ``expires_in``. Tokens expire (``Behaviour.token_ttl``) or are revoked early (``token_max_uses``).
* Two-legged OAuth 1.0a signatures (the 1.1 binding): HMAC-SHA256 or HMAC-SHA1, verified by oauthlib,
  nonces remembered so a replayed request is refused.

What an SIS profile changes (see :mod:`rostersync.testing.profile_server`): the ``token_path`` and the
query it requires (``token_query``: Infinite Campus's ``?appName=``), ``oauth1``/``oauth2`` (a server
speaking only one), ``required_scopes`` (a token request without them is refused with
``invalid_scope``, as Aeries does), ``affinity_cookie`` (the token response sets a load balancer's
cookie and a data request without it is refused: the node it lands on does not know the token) and
``expired_status`` (Skyward answers an expired token with 500), ``fixed_token`` (a token issued out of band
that never expires, as ClassLink's OneRoster proxy hands out: no token endpoint). Subclass and override
:meth:`AuthPolicy.allows` to enforce scopes per route (the token's granted scopes are passed in).
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from rostersync.testing.oneroster_server.errors import ApiError

TOKEN_PATH = "/oauth/token"
#: where client credentials may travel; ``both`` means a server that wants them in the header and the form
CLIENT_AUTH = ("basic", "body", "both")
Answer = tuple[int, dict[str, str], Any]


class AuthPolicy:
    def __init__(self, client_id: str, client_secret: str, *, token_path: str = TOKEN_PATH, oauth1: bool = True,
                 client_auth: tuple[str, ...] = ("basic", "body"), oauth2: bool = True, token_method: str = "POST",
                 token_query: Mapping[str, str] | None = None, grant: str = "client_credentials",
                 username: str = "", password: str = "", required_scopes: tuple[str, ...] = (),
                 affinity_cookie: str = "", expired_status: int = 401, fixed_token: str = "") -> None:
        unknown = [c for c in client_auth if c not in CLIENT_AUTH]
        if unknown or grant not in ("client_credentials", "password") or token_method not in ("POST", "GET"):
            raise ValueError(f"unsupported auth policy: client_auth {client_auth}, grant {grant}, {token_method}")
        self.client_id, self.client_secret = client_id, client_secret
        self.token_path, self.oauth1, self.client_auth = token_path, oauth1, client_auth
        self.oauth2, self.token_method, self.token_query = oauth2, token_method, dict(token_query or {})
        self.grant, self.username, self.password = grant, username, password
        self.required_scopes, self.affinity_cookie = required_scopes, affinity_cookie
        self.expired_status, self.fixed_token = expired_status, fixed_token
        self.tokens: dict[str, list[Any]] = {}  # token -> [expires_at (monotonic), uses, scopes, cookie, number]
        self.tokens_issued = 0
        self._lock = threading.Lock()
        self._oauth1: Any = None

    # -- the token endpoint -------------------------------------------------------------------------
    def token(self, headers: dict[str, str], body: bytes, ttl: int, method: str = "POST",
              query: Mapping[str, str] | None = None) -> Answer:
        """(status, headers, JSON) answering a token request (RFC 6749 errors: ``{"error": ...}``).
        ``query`` is the request's query string (a GET token request carries its form there)."""
        query = dict(query or {})
        if not self.oauth2:
            how = ("send the access token it gave you" if self.fixed_token
                   else "it takes OAuth 1 signatures on each request")
            return _refusal(400, "unsupported_grant_type", f"this server issues no tokens: {how}")
        if method != self.token_method:
            return _refusal(405, "invalid_request", f"the token endpoint answers {self.token_method} only")
        missing = [f"{k}={v}" for k, v in self.token_query.items() if query.get(k) != v]
        if missing:
            return _refusal(400, "invalid_request", f"the token URL must carry {'&'.join(missing)}")
        form = query if method == "GET" else dict(parse_qsl(body.decode("utf-8", "replace")))
        refused = self._client_refused(headers, form) or self._grant_refused(form)
        if refused is not None:
            return refused
        scopes = tuple(form.get("scope", "").split())
        lacking = [s for s in self.required_scopes if s not in scopes]
        if lacking:
            return _refusal(400, "invalid_scope", f"scope required: {' '.join(lacking)}")
        token = secrets.token_urlsafe(24)
        cookie = secrets.token_hex(8) if self.affinity_cookie else ""
        with self._lock:
            self.tokens_issued += 1
            self.tokens[token] = [time.monotonic() + ttl, 0, scopes, cookie, self.tokens_issued]
        payload: dict[str, Any] = {"access_token": token, "token_type": "bearer", "expires_in": ttl}
        if scopes:
            payload["scope"] = " ".join(scopes)
        out = {"Cache-Control": "no-store"}
        if cookie:
            out["Set-Cookie"] = f"{self.affinity_cookie}={cookie}; Path=/; HttpOnly"
        return 200, out, payload

    def _client_refused(self, headers: dict[str, str], form: dict[str, str]) -> Answer | None:
        """None when the client authenticated where this server reads its credentials, else the answer."""
        given: dict[str, tuple[str | None, str | None]] = {}
        basic = headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                raw_id, _, raw_secret = base64.b64decode(basic[6:]).decode("utf-8").partition(":")
            except ValueError:
                raw_id = raw_secret = ""
            given["basic"] = (unquote(raw_id), unquote(raw_secret))
        if "client_id" in form:
            given["body"] = (form.get("client_id"), form.get("client_secret"))
        wanted = {"basic", "body"} if "both" in self.client_auth else set(self.client_auth)
        read = wanted & set(given)  # where this server looks and found something
        complete = read == wanted if "both" in self.client_auth else bool(read)
        valid = all(cid == self.client_id and secrets.compare_digest(secret or "", self.client_secret)
                    for cid, secret in (given[w] for w in read))
        if complete and valid:
            return None
        where = " and ".join(sorted(wanted))
        return _refusal(401, "invalid_client", f"unknown client (this server reads client credentials from: "
                        f"{where})", {"WWW-Authenticate": 'Basic realm="oneroster"'})

    def _grant_refused(self, form: dict[str, str]) -> Answer | None:
        if form.get("grant_type") != self.grant:
            return _refusal(400, "unsupported_grant_type", f"this server grants {self.grant} only")
        if self.grant == "password" and (form.get("username") != self.username or not secrets.compare_digest(
                form.get("password", ""), self.password)):
            return _refusal(400, "invalid_grant", "unknown user or wrong password")
        return None

    def expire_tokens(self) -> None:
        with self._lock:
            self.tokens.clear()

    # -- data requests ------------------------------------------------------------------------------
    def check(self, url: str, headers: dict[str, str], max_uses: int, route: Any = None,
              doomed: tuple[int, int] = (0, 0)) -> None:
        """Raise 401 unless the request carries a valid bearer token (and its node's cookie, where
        affinity applies) or OAuth 1 signature; 403 when :meth:`allows` refuses the token's scopes.
        A token stops working after ``max_uses`` requests; token number ``doomed[0]`` after ``doomed[1]``."""
        auth = headers.get("authorization", "")
        scopes: tuple[str, ...] = ()
        if auth.lower().startswith("bearer ") and self.fixed_token:
            if not secrets.compare_digest(auth[7:].strip(), self.fixed_token):
                raise _unauthorised("unknown access token")
        elif auth.lower().startswith("bearer ") and self.oauth2:
            token = auth[7:].strip()
            with self._lock:
                state = self.tokens.get(token)
                if state is not None:
                    state[1] += 1
                    used_up = (max_uses and state[1] > max_uses) or (state[4] == doomed[0] and state[1] > doomed[1])
                    if time.monotonic() >= state[0] or used_up:
                        del self.tokens[token]
                        state = None
            if state is None:
                raise self._expired()
            if state[3] and _cookies(headers).get(self.affinity_cookie) != state[3]:
                raise self._expired()  # another node behind the load balancer: it never issued this token
            scopes = state[2]
        elif auth.startswith("OAuth ") and self.oauth1:
            valid, _request = self._oauth1_endpoint().validate_request(url, "GET", None, {"Authorization": auth})
            if not valid:
                raise _unauthorised()
        elif auth.startswith("OAuth "):
            raise _unauthorised("this server takes OAuth 2 bearer tokens, not OAuth 1 signatures")
        elif auth.lower().startswith("bearer "):
            raise _unauthorised("this server takes OAuth 1 signatures, not bearer tokens")
        else:
            raise _unauthorised()
        if not self.allows(scopes, route):
            raise ApiError(403, "the token's scopes do not cover this endpoint", "forbidden")

    def _expired(self) -> ApiError:
        if self.expired_status == 500:
            return ApiError(500, "Token has expired", "internal_server_error")
        return _unauthorised()

    def allows(self, scopes: tuple[str, ...], route: Any) -> bool:
        """Whether a token granted ``scopes`` may read ``route``; every token may (override to enforce)."""
        return True

    def _oauth1_endpoint(self) -> Any:
        with self._lock:
            if self._oauth1 is None:
                self._oauth1 = _oauth1_endpoint(self)
            return self._oauth1


def _refusal(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> Answer:
    return status, headers or {}, {"error": error, "error_description": description}


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    pairs = (part.strip().partition("=") for part in headers.get("cookie", "").split(";"))
    return {name: value for name, _, value in pairs if name}


def _unauthorised(why: str = "missing, invalid or expired credentials") -> ApiError:
    return ApiError(401, why, "unauthorisedrequest", headers={"WWW-Authenticate": "Bearer"})


def auth_kind(headers: dict[str, str]) -> str:
    """What a request authenticated with, for the request log: bearer, basic, oauth1:<method> or none."""
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return "bearer"
    if auth.lower().startswith("basic "):
        return "basic"
    if auth.startswith("OAuth "):
        found = re.search(r'oauth_signature_method="([^"]+)"', auth)
        return f"oauth1:{found.group(1) if found else '?'}"
    return "none"


def _oauth1_endpoint(policy: AuthPolicy) -> Any:
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
            return client_key == policy.client_id

        def get_client_secret(self, client_key: str, request: Any) -> str:
            return policy.client_secret if client_key == policy.client_id else "dummy-secret"

        def validate_timestamp_and_nonce(self, client_key: str, timestamp: str, nonce: str, request: Any,
                                         request_token: Any = None, access_token: Any = None) -> bool:
            with self.lock:
                key = (client_key, timestamp, nonce)
                if key in self.seen:
                    return False
                self.seen.add(key)
                return True

    return SignatureOnlyEndpoint(Validator())
