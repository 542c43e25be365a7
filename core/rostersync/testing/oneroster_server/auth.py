"""Who may read from the loopback server, and how they prove it: one :class:`AuthPolicy` per server.

* OAuth 2 client credentials (the 1.2 binding, and 1.1 servers that offer it): ``POST`` to
  ``token_path`` with ``grant_type=client_credentials`` and the client's id and secret in an HTTP
  Basic header (RFC 6749 2.3.1, form-encoded) or in the body; answers a bearer token with
  ``expires_in``. Tokens expire (``Behaviour.token_ttl``) or are revoked early (``token_max_uses``).
* Two-legged OAuth 1.0a signatures (the 1.1 binding): HMAC-SHA256 or HMAC-SHA1, verified by oauthlib,
  nonces remembered so a replayed request is refused.

Extension points for SIS profiles: construct with another ``token_path`` (Blackbaud, PowerSchool and
others mount it elsewhere), ``client_auth=("body",)`` for a server that only reads the body,
``oauth1=False``/``True``; subclass and override :meth:`AuthPolicy.allows` to enforce scopes per route
(the token's granted scopes are passed in).
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qsl, unquote

from rostersync.testing.oneroster_server.errors import ApiError

TOKEN_PATH = "/oauth/token"


class AuthPolicy:
    def __init__(self, client_id: str, client_secret: str, *, token_path: str = TOKEN_PATH, oauth1: bool = True,
                 client_auth: tuple[str, ...] = ("basic", "body")) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.token_path, self.oauth1, self.client_auth = token_path, oauth1, client_auth
        self.tokens: dict[str, list[Any]] = {}  # token -> [expires_at (monotonic), uses, scopes]
        self.tokens_issued = 0
        self._lock = threading.Lock()
        self._oauth1: Any = None

    # -- the token endpoint -------------------------------------------------------------------------
    def token(self, headers: dict[str, str], body: bytes, ttl: int) -> tuple[int, dict[str, str], Any]:
        """(status, headers, JSON) answering a token request (RFC 6749 errors: ``{"error": ...}``)."""
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        client_id, secret, how = form.get("client_id"), form.get("client_secret"), "body"
        basic = headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                raw_id, _, raw_secret = base64.b64decode(basic[6:]).decode("utf-8").partition(":")
            except ValueError:
                raw_id = raw_secret = ""
            client_id, secret, how = unquote(raw_id), unquote(raw_secret), "basic"
        if form.get("grant_type") != "client_credentials":
            return 400, {}, {"error": "unsupported_grant_type"}
        if how not in self.client_auth or client_id != self.client_id or not secrets.compare_digest(
                secret or "", self.client_secret):
            return 401, {"WWW-Authenticate": 'Basic realm="oneroster"'}, {"error": "invalid_client",
                                                                         "error_description": "unknown client"}
        token = secrets.token_urlsafe(24)
        scopes = tuple(form.get("scope", "").split())
        with self._lock:
            self.tokens[token] = [time.monotonic() + ttl, 0, scopes]
            self.tokens_issued += 1
        payload: dict[str, Any] = {"access_token": token, "token_type": "bearer", "expires_in": ttl}
        if scopes:
            payload["scope"] = " ".join(scopes)
        return 200, {"Cache-Control": "no-store"}, payload

    def expire_tokens(self) -> None:
        with self._lock:
            self.tokens.clear()

    # -- data requests ------------------------------------------------------------------------------
    def check(self, url: str, headers: dict[str, str], max_uses: int, route: Any = None) -> None:
        """Raise 401 unless the request carries a valid bearer token or OAuth 1 signature; 403 when
        :meth:`allows` refuses the token's scopes for ``route``."""
        auth = headers.get("authorization", "")
        scopes: tuple[str, ...] = ()
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
            with self._lock:
                state = self.tokens.get(token)
                if state is not None:
                    state[1] += 1
                    if time.monotonic() >= state[0] or (max_uses and state[1] > max_uses):
                        del self.tokens[token]
                        state = None
            if state is None:
                raise _unauthorised()
            scopes = state[2]
        elif auth.startswith("OAuth ") and self.oauth1:
            valid, _request = self._oauth1_endpoint().validate_request(url, "GET", None, {"Authorization": auth})
            if not valid:
                raise _unauthorised()
        else:
            raise _unauthorised()
        if not self.allows(scopes, route):
            raise ApiError(403, "the token's scopes do not cover this endpoint", "forbidden")

    def allows(self, scopes: tuple[str, ...], route: Any) -> bool:
        """Whether a token granted ``scopes`` may read ``route``; every token may (override to enforce)."""
        return True

    def _oauth1_endpoint(self) -> Any:
        with self._lock:
            if self._oauth1 is None:
                self._oauth1 = _oauth1_endpoint(self)
            return self._oauth1


def _unauthorised() -> ApiError:
    return ApiError(401, "missing, invalid or expired credentials", "unauthorisedrequest",
                    headers={"WWW-Authenticate": "Bearer"})


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
