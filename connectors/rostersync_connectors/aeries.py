"""Aeries SIS: OneRoster 1.1 REST served from the district's own Aeries web address.

An operator gives the Aeries host (and the path, ``/aeries`` on Aeries-hosted sites) and the Consumer
ID and Secret; the base URL is that address plus ``/ims/oneroster/v1p1`` and the token endpoint is
``/token`` under the same address. Aeries refuses a token request without a scope, so the OneRoster
read scopes are always sent; its load balancers want the token response's cookies on every call
(the API client replays them).
"""

from __future__ import annotations

from rostersync.connector import Source
from rostersync.profiles import ApiProfile, Input

DOCS = "https://support.aeries.com/support/solutions/articles/"

AERIES = ApiProfile(
    name="aeries",
    title="Aeries",
    basis="vendor docs",
    homepage="https://support.aeries.com/support/solutions/folders/14000115099",
    summary="Aeries SIS OneRoster 1.1 API, served from your district's Aeries web address. Give the Aeries host "
            "(and path: /aeries for Aeries-hosted districts) and the Consumer ID and Secret.",
    setup="Aeries: Security | API Security > add (or select) the vendor > Change > tick OneRoster > Update > tick "
          "'Display Consumer ID & Secret Keys for OneRoster'. The Aeries site must be reachable from outside over "
          "HTTPS (TLS 1.2).",
    notes="Aeries leaves out students without a current class enrollment, and each school year is a new Aeries "
          "database: expect the summer rollover to look like a large change (the safeguards hold it). Staff "
          "sourcedIds carry a TCH_ prefix; ids are kept exactly as sent. If the token request fails on /token, "
          "some Aeries versions answer on /v2/oauth/token: set token_url to that.",
    inputs=(
        Input("host", "Host of your Aeries web application (from the Aeries login page address)",
              example="demo.aeries.net", kind="host"),
        Input("path", "Path of Aeries under that host: /aeries for Aeries-hosted districts, often empty when "
              "self-hosted", example="/aeries", default="", kind="path"),
    ),
    base_url="https://{host}{path}/ims/oneroster/v1p1",
    token_url="https://{host}{path}/token",
    client_auth="basic",
    scopes=("https://purl.imsglobal.org/spec/or/v1p1/scope/roster-core.readonly",
            "https://purl.imsglobal.org/spec/or/v1p1/scope/roster-demographics.readonly"),
    habits=("scopes-required", "cookie-affinity"),
    sources=(
        Source(DOCS + "14000065667-oneroster-api-available-endpoints", "[doc]",
               "base URL = Aeries base URL + /ims/oneroster/v1p1; endpoints and the permission each needs"),
        Source(DOCS + "14000065677", "[doc]", "token = base URL + /token, POST, Basic (body allowed), scopes "
               "required, expires_in 21600"),
        Source(DOCS + "14000065677-oneroster-api-authentication-process", "[doc]",
               "load-balancer cookies on later calls; a /v2/oauth/token variant"),
        Source(DOCS + "14000065657-oneroster-api-setup", "[doc]", "setup path; HTTPS TLS 1.2 reachable from outside"),
        Source(DOCS + "14000134412-flex-scheduling-oneroster-v1-1-", "[doc]", "TCH_ staff id prefix"),
        Source("https://aeriessis.freshdesk.com/support/solutions/articles/14000085077-aeries-to-oneroster-data-"
               "mapping", "[doc]", "id formats, zero-padded grades, current-enrollment rule"),
    ),
)
