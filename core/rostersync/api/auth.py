"""Authentication for OneRoster APIs, as httpx auth classes.

* OAuth 2 (client credentials, or the password grant some SIS use: an SIS account's username and
  password beside the client credentials): the token request body is built and the token response
  validated by oauthlib; the client credentials go in a Basic header, the form body or both
  (``client_auth``), by POST or, where an SIS requires it, GET (``token_method``). The token is cached
  for the fetch (one per source), renewed shortly before it expires, and renewed once more when the
  server answers 401 anyway (a token revoked early) - or 500, for servers that say "expired" that way
  (``refresh_on_500``) - then the request is replayed once. Cookies the token response sets (a load
  balancer's affinity cookie) are sent with every later request of the fetch.
* OAuth 1.0a two-legged signing (1.1): every request is signed by oauthlib (HMAC-SHA256 or HMAC-SHA1)
  rather than by hand-written signing code.
* A fixed bearer token issued out of band (``bearer-token``: ClassLink's OneRoster proxy hands each
  application a token that does not expire), sent as it is; a 401 is a refused token, not a stale one.

The client secret and password are read from their references when the auth object is built and live
only in it: never in a URL, a message or an exception.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator
from typing import TYPE_CHECKING, Any
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
        self._password = options.password.reveal() if options.password is not None else ""
        self._lock = threading.Lock()
        self.cookies: dict[str, str] = {}
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
        from oauthlib.oauth2 import OAuth2Error

        opts = self.options
        oauth, body = self._token_body()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        auth = None
        if opts.client_auth in ("basic", "both"):  # RFC 6749 2.3.1: form-encode id and secret, then HTTP Basic
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
        self.cookies = dict(response.cookies.items())
        self.issued += 1

    def _token_body(self) -> tuple[Any, str]:
        """oauthlib's client for the grant and the form it builds (client credentials in it when asked)."""
        from oauthlib.oauth2 import BackendApplicationClient, LegacyApplicationClient

        opts = self.options
        scope = list(opts.scopes) or None
        in_body = opts.client_auth in ("body", "both")
        secret = {"include_client_id": True, "client_secret": self._secret} if in_body else {}
        if opts.auth == "oauth2-password":
            oauth: Any = LegacyApplicationClient(opts.client_id)
            return oauth, oauth.prepare_request_body(username=opts.username, password=self._password, scope=scope,
                                                     **secret)
        oauth = BackendApplicationClient(opts.client_id)
        return oauth, oauth.prepare_request_body(scope=scope, **secret)

    def auth_flow(self, req: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        used = self.token()
        req.headers["Authorization"] = f"Bearer {used}"
        self._add_cookies(req)
        response = yield req
        if response.status_code == 401 or (response.status_code == 500 and self.options.refresh_on_500):
            req.headers["Authorization"] = f"Bearer {self.token(stale=used)}"
            self._add_cookies(req, renewed=True)
            yield req

    def _add_cookies(self, req: httpx.Request, renewed: bool = False) -> None:
        """The token response's cookies, unless the request already carries a cookie of that name; after a
        renewal the new token's cookies win (the old ones point at the node that knew the old token)."""
        if not self.cookies:
            return
        sent = dict(part.strip().split("=", 1) for part in req.headers.get("Cookie", "").split(";") if "=" in part)
        merged = {**sent, **self.cookies} if renewed else {**self.cookies, **sent}
        req.headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in merged.items())


def _token_request(client: httpx.Client, opts: OneRosterApiSettings, body: str, headers: dict[str, str],
                   auth: httpx.Auth | None) -> httpx.Response:
    url = opts.token_endpoint()

    def send() -> httpx.Response:
        if opts.token_method == "GET":  # the form goes in the query string, after any the URL has
            separator = "&" if "?" in url else "?"
            return client.get(url + separator + body, headers={"Accept": "application/json"}, auth=auth)
        return client.post(url, content=body, headers=headers, auth=auth)

    try:
        return request(client, opts.token_method, url, opts, send=send)
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


class FixedBearer(httpx.Auth):
    """``Authorization: Bearer <client_secret>`` on every request: no token endpoint, nothing to renew."""

    def __init__(self, options: OneRosterApiSettings) -> None:
        self._token = options.client_secret.reveal().strip()

    def __repr__(self) -> str:
        return "FixedBearer()"

    def auth_flow(self, req: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        req.headers["Authorization"] = f"Bearer {self._token}"
        yield req


def make_auth(options: OneRosterApiSettings) -> httpx.Auth:
    if options.auth.startswith("oauth2"):
        return ClientCredentials(options)
    if options.auth == "bearer-token":
        return FixedBearer(options)
    return OAuth1Signature(options)
