"""Authentication for OneRoster APIs, as httpx auth classes.

* OAuth 2 client credentials (1.2, and 1.1 servers that offer it): the token request body is built
  and the token response validated by oauthlib; the token is cached for the fetch (one per source),
  renewed shortly before it expires, and renewed once more when the server answers 401 anyway
  (a token revoked early), then the request is replayed once.
* OAuth 1.0a two-legged signing (1.1): every request is signed by oauthlib (HMAC-SHA256 or HMAC-SHA1)
  rather than by hand-written signing code.

The client secret is read from its reference when the auth object is built and lives only in it:
never in a URL, a message or an exception.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx

from rostersync.api.http import new_client, redact, request
from rostersync.errors import SourceError

if TYPE_CHECKING:
    from rostersync.api.settings import OneRosterApiSettings

#: Renew a token this long before the server says it expires (bounded by a tenth of its lifetime).
LEEWAY = 60.0


class ClientCredentials(httpx.Auth):
    """Bearer tokens from an OAuth 2 token endpoint, cached and renewed; thread-safe."""

    def __init__(self, options: OneRosterApiSettings) -> None:
        self.options = options
        self._secret = options.client_secret.reveal()
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0
        self.issued = 0  # tokens fetched, for check output and tests

    def __repr__(self) -> str:
        return f"ClientCredentials({self.options.client_id!r})"

    def token(self, stale: str | None = None) -> str:
        """A valid token; ``stale`` is one the server refused, so it is never handed out again."""
        with self._lock:
            if self._token is not None and self._token != stale and time.monotonic() < self._renew_at:
                return self._token
            if self._token is not None and stale is not None and self._token != stale:
                return self._token  # another thread renewed it already
            self._fetch()
            assert self._token is not None
            return self._token

    def _fetch(self) -> None:
        from oauthlib.oauth2 import BackendApplicationClient, OAuth2Error

        opts = self.options
        oauth = BackendApplicationClient(opts.client_id)
        scope = list(opts.scopes) or None
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        auth = None
        if opts.client_auth == "body":
            body = oauth.prepare_request_body(scope=scope, include_client_id=True, client_secret=self._secret)
        else:  # RFC 6749 2.3.1: form-encode id and secret, then HTTP Basic
            body = oauth.prepare_request_body(scope=scope)
            auth = httpx.BasicAuth(quote(opts.client_id, safe=""), quote(self._secret, safe=""))
        with new_client(opts) as client:
            response = _token_request(client, opts, body, headers, auth)
        try:
            token = oauth.parse_request_body_response(response.text)
        except OAuth2Error as exc:
            raise SourceError(f"token response rejected: {exc.error}"
                              f"{': ' + exc.description if exc.description else ''}",
                              redact(opts.token_endpoint())) from None
        except ValueError:
            raise SourceError("token response is not valid JSON", redact(opts.token_endpoint())) from None
        if str(token.get("token_type", "bearer")).lower() != "bearer":
            raise SourceError(f"token_type {token.get('token_type')!r} is not bearer", redact(opts.token_endpoint()))
        lifetime = float(token.get("expires_in") or 3600)
        self._token = str(token["access_token"])
        self._renew_at = time.monotonic() + lifetime - min(LEEWAY, lifetime / 10)
        self.issued += 1

    def auth_flow(self, req: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        used = self.token()
        req.headers["Authorization"] = f"Bearer {used}"
        response = yield req
        if response.status_code == 401:
            req.headers["Authorization"] = f"Bearer {self.token(stale=used)}"
            yield req


def _token_request(client: httpx.Client, opts: OneRosterApiSettings, body: str, headers: dict[str, str],
                   auth: httpx.Auth | None) -> httpx.Response:
    try:
        return request(client, "POST", opts.token_endpoint(), opts,
                       send=lambda: client.post(opts.token_endpoint(), content=body, headers=headers, auth=auth))
    except SourceError as exc:
        raise SourceError(f"could not get an access token: {exc}") from None


class OAuth1Signature(httpx.Auth):
    """Two-legged OAuth 1.0a: each request signed with the consumer key and secret (no token)."""

    def __init__(self, options: OneRosterApiSettings) -> None:
        from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256

        self.client_id = options.client_id
        self._secret = options.client_secret.reveal()
        self.method = SIGNATURE_HMAC_SHA256 if options.auth.endswith("sha256") else SIGNATURE_HMAC_SHA1

    def __repr__(self) -> str:
        return f"OAuth1Signature({self.client_id!r}, {self.method})"

    def auth_flow(self, req: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        from oauthlib.oauth1 import SIGNATURE_TYPE_AUTH_HEADER, Client

        signer = Client(self.client_id, client_secret=self._secret, signature_method=self.method,
                        signature_type=SIGNATURE_TYPE_AUTH_HEADER)
        _uri, headers, _body = signer.sign(str(req.url), http_method=req.method)
        req.headers["Authorization"] = headers["Authorization"]
        yield req


def make_auth(options: OneRosterApiSettings) -> httpx.Auth:
    if options.auth == "oauth2-client-credentials":
        return ClientCredentials(options)
    return OAuth1Signature(options)
