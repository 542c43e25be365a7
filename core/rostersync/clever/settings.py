"""Settings of the ``clever-api`` transport: Clever's Data API read with a district-app token.

An operator gives the district token (copied from Clever's dashboard) as a secret reference, or the
app's client id and secret, with which rostersync lists the app's district tokens
(``GET https://clever.com/oauth/tokens?owner_type=district``) and takes the district's. Everything
else has Clever's defaults: the API host, version 3.0, pages of up to 10,000 objects, 1,200 requests
a minute. ``delta`` turns on the Events feed for the runs after a full one.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from rostersync.api.settings import HttpSettings
from rostersync.connector import choice, positive, setting
from rostersync.secrets import SecretRef

API_VERSIONS = ("3.0", "3.1")
#: Clever answers 413 above this limit
MAX_LIMIT = 10_000
TOKENS_URL = "https://clever.com/oauth/tokens?owner_type=district"


def _limit(_instance: object, attribute: attrs.Attribute, value: int) -> None:
    if not 0 < value <= MAX_LIMIT:
        raise ValueError(f"{attribute.name}: Clever serves 1 to {MAX_LIMIT:,} objects a page (got {value})")


@attrs.frozen
class CleverApiSettings(HttpSettings):
    API_NAME: ClassVar[str] = "Clever Data API"

    token: SecretRef | None = setting("District-app bearer token (Clever dashboard), as env:NAME or file:/path; "
                                      "or leave it out and give client_id and client_secret", default=None,
                                      secret=True)
    client_id: str = setting("Clever app client id: with client_secret, rostersync looks the district token up",
                             default="")
    client_secret: SecretRef | None = setting("Clever app client secret: env:NAME or file:/path", default=None,
                                              secret=True)
    district_id: str = setting("Clever district id: which district's token to take when the app has several",
                               default="")
    base_url: str = setting("Clever API host", default="https://api.clever.com")
    api_version: str = choice("Data API version (3.1 adds demographic fields)", API_VERSIONS, default="3.0")
    token_url: str = setting("Where the app's district tokens are listed (GET with client id and secret)",
                             default=TOKENS_URL)
    demographics: bool = setting("Also import demographics (sensitive; off unless needed)", default=False)
    page_size: int = setting(f"Objects asked per page (limit, at most {MAX_LIMIT:,})", default=MAX_LIMIT,
                             validator=_limit)
    rate_limit: int = setting("Requests per minute rostersync allows itself per token (Clever allows 1200)",
                              default=1200, validator=positive)
    delta: bool = setting("After a full sync, later runs read only the Events feed (changes since the last "
                          "event read); a cursor older than the feed's retention means a full sync", default=False)
    retention_days: int = setting("Days Clever keeps events (a cursor older than this forces a full sync)",
                                  default=30, validator=positive)
    max_events: int = setting("A delta run with more events than this does a full sync instead: a delta looks up "
                              "what each changed object links to (about one request per event), a full sync reads "
                              "10,000 objects a request", default=5_000, validator=positive)

    def __attrs_post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with https:// (got {self.base_url!r})")
        if self.token is None and not (self.client_id and self.client_secret is not None):
            raise ValueError("give the district token (--set token=env:CLEVER_TOKEN), or client_id and "
                             "client_secret to look it up")
        if self.token is not None and self.client_secret is not None:
            raise ValueError("give either token or client_id/client_secret, not both")

    def max_connections(self) -> int:
        return 4

    def refused_hint(self) -> str:
        return ("check the district token: is the app still authorised by the district, and is it a district-app "
                "token rather than an Instant Login one?" if self.token is not None else
                "check client_id, client_secret and district_id")

    def api_root(self) -> str:
        """Where the versioned paths start: ``https://api.clever.com/v3.0``."""
        return f"{self.base_url.rstrip('/')}/v{self.api_version}"
