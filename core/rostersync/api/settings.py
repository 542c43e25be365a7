"""Settings of a OneRoster REST source, shared by the generic ``oneroster-api`` connector and SIS plugins.

An SIS plugin may register its own settings class (fewer knobs, other defaults): the transport reads
settings through :func:`ApiOptions.from_settings`, which falls back to these defaults for any setting a
connector does not declare.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from rostersync.connector import setting
from rostersync.errors import ConfigError
from rostersync.secrets import SecretRef

VERSIONS = ("1.1", "1.2")
AUTH_MODES = ("oauth2-client-credentials", "oauth1-hmac-sha256", "oauth1-hmac-sha1")
CLIENT_AUTH = ("basic", "body")


def _one_of(*allowed: str) -> Any:
    def check(_instance: object, attribute: attrs.Attribute, value: str) -> None:
        if value not in allowed:
            raise ValueError(f"{attribute.name} is {value!r}; expected one of: {', '.join(allowed)}")

    return check


def _positive(_instance: object, attribute: attrs.Attribute, value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be greater than 0 (got {value})")


@attrs.frozen
class OneRosterApiSettings:
    base_url: str = setting("API root, e.g. https://sis.example.org/ims/oneroster/v1p1 (1.1) or "
                            ".../ims/oneroster/rostering/v1p2 (1.2)")
    client_id: str = setting("OAuth client id (consumer key for OAuth 1)")
    client_secret: SecretRef = setting("OAuth client secret: env:NAME or file:/path", secret=True)
    token_url: str = setting("OAuth 2 token endpoint (not used by OAuth 1 signing)", default="")
    version: str = setting("OneRoster version the server speaks: 1.1 or 1.2", default="1.1")
    auth: str = setting("oauth2-client-credentials, oauth1-hmac-sha256 or oauth1-hmac-sha1 (two-legged)",
                        default="oauth2-client-credentials")
    client_auth: str = setting("OAuth 2: send the client credentials in a Basic header (basic) or the "
                               "form body (body)", default="basic")
    scopes: tuple[str, ...] = setting("OAuth 2 scopes to request (comma list); none = the server's default",
                                      default=())
    page_size: int = setting("Rows asked per page (limit); the server may return fewer", default=100)
    concurrency: int = setting("Pages fetched at once when the server reports a total (1 = one at a time)",
                               default=4)
    connect_timeout: float = setting("Seconds to wait for a connection", default=10.0)
    timeout: float = setting("Seconds to wait for a response", default=60.0)
    deadline: float = setting("Most seconds one request may take in all, its body included (a server "
                              "trickling a response byte by byte never trips the read timeout)", default=300.0)
    max_response_mb: int = setting("Refuse a response (a page, a token) larger than this many MB", default=64)
    retries: int = setting("Attempts per request on connect errors, timeouts, 5xx and 429", default=5)
    backoff: float = setting("First retry delay in seconds (doubles each retry, with jitter)", default=1.0)
    verify_tls: bool = setting("Verify the server's TLS certificate (leave on)", default=True)
    ca_bundle: Path | None = setting("PEM file of CA certificates to trust instead of the system's",
                                     default=None)
    max_pages: int = setting("Refuse an endpoint with more pages than this (a server ignoring offset)",
                             default=100_000)
    demographics: bool = setting("Also import demographics (sensitive; off unless needed)", default=False)
    delta: bool = setting("The server supports filter=dateLastModified>'...': after a full pull, later "
                          "runs ask only for changes", default=False)
    delta_overlap: int = setting("Seconds subtracted from the last run's start for the next delta "
                                 "(clock skew, long runs)", default=300)
    school_paths: bool = setting("Use /schools/{id}/classes and /schools/{id}/enrollments for the school's "
                                 "org ids", default=True)

    @version.validator
    def _v(self, attribute: attrs.Attribute, value: str) -> None:
        _one_of(*VERSIONS)(self, attribute, value)

    @auth.validator
    def _a(self, attribute: attrs.Attribute, value: str) -> None:
        _one_of(*AUTH_MODES)(self, attribute, value)

    @client_auth.validator
    def _c(self, attribute: attrs.Attribute, value: str) -> None:
        _one_of(*CLIENT_AUTH)(self, attribute, value)

    @page_size.validator
    def _p(self, attribute: attrs.Attribute, value: int) -> None:
        _positive(self, attribute, value)

    @concurrency.validator
    def _n(self, attribute: attrs.Attribute, value: int) -> None:
        _positive(self, attribute, value)

    @retries.validator
    def _r(self, attribute: attrs.Attribute, value: int) -> None:
        _positive(self, attribute, value)

    @deadline.validator
    @max_response_mb.validator
    def _budget(self, attribute: attrs.Attribute, value: float) -> None:
        _positive(self, attribute, value)


DEFAULTS = OneRosterApiSettings(base_url="http://unset", client_id="unset", client_secret=SecretRef("env:UNSET"))


@attrs.frozen
class ApiOptions:
    """The settings a fetch uses, whatever settings class the connector declared."""

    base_url: str
    client_id: str
    client_secret: SecretRef
    token_url: str
    version: str
    auth: str
    client_auth: str
    scopes: tuple[str, ...]
    page_size: int
    concurrency: int
    connect_timeout: float
    timeout: float
    deadline: float
    max_response_mb: int
    retries: int
    backoff: float
    verify_tls: bool
    ca_bundle: Path | None
    max_pages: int
    demographics: bool
    delta: bool
    delta_overlap: int
    school_paths: bool

    @classmethod
    def from_settings(cls, settings: Any) -> ApiOptions:
        values = {f.name: getattr(settings, f.name, getattr(DEFAULTS, f.name)) for f in attrs.fields(cls)}
        options = cls(**values)
        if options.auth.startswith("oauth2") and not options.token_url:
            raise ConfigError("token_url is required for auth oauth2-client-credentials "
                              "(rostersync enable SCHOOL CONNECTOR --set token_url=https://...)")
        if not options.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"base_url must start with https:// (got {options.base_url!r})")
        return options

    @property
    def format(self) -> str:
        return f"oneroster-{self.version}-json"
