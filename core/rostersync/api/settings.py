"""Settings of the HTTP API transports: what every REST client needs (:class:`HttpSettings`), and the
``oneroster-api`` transport's own (:class:`OneRosterApiSettings`, the base of every OneRoster REST connector).

The generic ``oneroster-api`` connector uses :class:`OneRosterApiSettings` as it is; an SIS connector
subclasses it (fewer required settings, other defaults, base and token URLs derived from what an
operator knows, such as the district's host) and inherits every validator here. The transport reads
the settings object it is given, typed: :meth:`OneRosterApiSettings.api_root` and
:meth:`~OneRosterApiSettings.token_endpoint` are where a subclass derives its URLs. Other API kinds
(``clever-api``) build on :class:`HttpSettings`, so the HTTP client (:mod:`rostersync.api.http`) serves them
with the same timeouts, size limits, retries and TLS rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import attrs

from rostersync.connector import choice, positive, setting
from rostersync.secrets import SecretRef
from rostersync.settings import ReferenceCheckSettings

VERSIONS = ("1.1", "1.2")
#: ``bearer-token``: a fixed access token issued out of band (ClassLink's OneRoster proxy), kept in client_secret
AUTH_MODES = ("oauth2-client-credentials", "oauth2-password", "oauth1-hmac-sha256", "oauth1-hmac-sha1",
              "bearer-token")
#: where OAuth 2 client credentials go: an HTTP Basic header, the form body, or both (some SIS want both)
CLIENT_AUTH = ("basic", "body", "both")
TOKEN_METHODS = ("POST", "GET")


@attrs.frozen
class HttpSettings(ReferenceCheckSettings):
    """How an API is reached: timeouts, the size and time budget of a response, retries, TLS, and how
    many pages a list may have."""

    #: what the API is called in messages ("the body is not JSON: not a OneRoster API?")
    API_NAME: ClassVar[str] = "API"

    connect_timeout: float = setting("Seconds to wait for a connection", default=10.0, validator=positive)
    timeout: float = setting("Seconds to wait for a response", default=60.0, validator=positive)
    deadline: float = setting("Most seconds one request may take in all, its body included (a server "
                              "trickling a response byte by byte never trips the read timeout)", default=300.0,
                              validator=positive)
    max_response_mb: int = setting("Refuse a response (a page, a token) larger than this many MB", default=64,
                                   validator=positive)
    retries: int = setting("Attempts per request on connect errors, timeouts, 5xx and 429", default=5,
                           validator=positive)
    backoff: float = setting("First retry delay in seconds (doubles each retry, with jitter)", default=1.0)
    verify_tls: bool = setting("Verify the server's TLS certificate (leave on)", default=True)
    ca_bundle: Path | None = setting("PEM file of CA certificates to trust instead of the system's",
                                     default=None)
    max_pages: int = setting("Refuse a list with more pages than this (a server ignoring its paging, offset or "
                             "cursor, would send the same page forever)", default=100_000, validator=positive)

    def max_connections(self) -> int:
        """Connections the client keeps open (requests in flight at once, plus a token request)."""
        return 2

    def refused_hint(self) -> str:
        """What to check when the server answers 401 (the credential settings of this kind)."""
        return "check the credential settings"


@attrs.frozen
class OneRosterApiSettings(HttpSettings):
    API_NAME: ClassVar[str] = "OneRoster API"

    base_url: str = setting("API root, e.g. https://sis.example.org/ims/oneroster/v1p1 (1.1) or "
                            ".../ims/oneroster/rostering/v1p2 (1.2)")
    client_id: str = setting("OAuth client id (consumer key for OAuth 1)")
    client_secret: SecretRef = setting("OAuth client secret (the access token itself for bearer-token): env:NAME "
                                       "or file:/path", secret=True)
    token_url: str = setting("OAuth 2 token endpoint (not used by OAuth 1 signing)", default="")
    version: str = choice("OneRoster version the server speaks", VERSIONS, default="1.1")
    auth: str = choice("How requests are authorised (OAuth 1 is two-legged signing; bearer-token sends "
                       "client_secret as a fixed token)", AUTH_MODES,
                       default="oauth2-client-credentials")
    client_auth: str = choice("OAuth 2: send the client credentials in a Basic header (basic), the form body "
                              "(body) or both", CLIENT_AUTH, default="basic")
    token_method: str = choice("HTTP method of the OAuth 2 token request (GET sends the form as a query string)",
                               TOKEN_METHODS, default="POST")
    username: str = setting("oauth2-password: the SIS account the token is asked for", default="")
    password: SecretRef | None = setting("oauth2-password: that account's password (env:NAME or file:PATH)",
                                         default=None, secret=True)
    scopes: tuple[str, ...] = setting("OAuth 2 scopes to request (comma list); none = the server's default",
                                      default=())
    page_size: int = setting("Rows asked per page (limit); the server may return fewer", default=100,
                             validator=positive)
    concurrency: int = setting("Pages fetched at once when the server reports a total (1 = one at a time)",
                               default=4, validator=positive)
    demographics: bool = setting("Also import demographics (sensitive; off unless needed)", default=False)
    delta: bool = setting("The server supports filter=dateLastModified>'...': after a full pull, later "
                          "runs ask only for changes", default=False)
    delta_overlap: int = setting("Seconds subtracted from the last run's start for the next delta "
                                 "(clock skew, long runs)", default=300)
    sort: str = setting("Field every collection request is sorted by (sort=FIELD&orderBy=asc), for servers "
                        "whose unsorted pages may skip or repeat rows; empty: the server's order", default="")
    refresh_on_500: bool = setting("The server answers an expired token with 500: get a new token and retry "
                                   "once", default=False)
    school_paths: bool = setting("Use /schools/{id}/classes and /schools/{id}/enrollments for the school's "
                                 "org ids", default=True)

    def __attrs_post_init__(self) -> None:
        root = self.api_root()
        if not root.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with https:// (got {root!r})")
        if self.auth.startswith("oauth2") and not self.token_endpoint():
            raise ValueError(f"token_url is required for auth {self.auth} "
                             "(rostersync enable SCHOOL CONNECTOR --set token_url=https://...)")
        if self.auth == "oauth2-password" and not (self.username and self.password):
            raise ValueError("auth oauth2-password needs username and password (a secret reference)")

    def max_connections(self) -> int:
        return self.concurrency + 2

    def refused_hint(self) -> str:
        return "check client_id, client_secret and auth"

    def api_root(self) -> str:
        """The URL the OneRoster paths (``/users``...) are appended to. An SIS connector derives it."""
        return self.base_url

    def token_endpoint(self) -> str:
        """The OAuth 2 token URL (unused by OAuth 1 signing). An SIS connector derives it."""
        return self.token_url

    @property
    def format(self) -> str:
        """The wire format of this server's pages (a registered format name)."""
        return f"oneroster-{self.version}-json"
