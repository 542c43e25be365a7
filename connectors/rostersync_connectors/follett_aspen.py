"""Follett Aspen: OneRoster 1.1 at the Aspen site, token from Aspen's own OAuth endpoint at the same address."""

from __future__ import annotations

from rostersync.connector import Source
from rostersync.profiles import ApiProfile, Input

HELP = "https://aspen.knoxschools.org/aspen/help/Content/System_Administration/OAuth_Access.htm"

FOLLETT_ASPEN = ApiProfile(
    name="follett-aspen",
    title="Follett Aspen (Aspen SIS)",
    basis="vendor docs",
    homepage=HELP,
    summary="Aspen SIS OneRoster 1.1 API. Give your Aspen host (and path, for district-hosted sites under one) and "
            "the client id and secret of an OAuth Access record; base and token URLs are derived.",
    setup="Aspen, district view: Admin > Security > OAuth Access > Options > Add: tick Enable Access, set the Client "
          "identifier, pick a User (a district administrator: the client has that user's roles), Edit to set the "
          "Client secret key (shown once), Save.",
    notes="Data the chosen user's roles do not cover is missing, not refused. sourcedIds are Aspen OIDs such as "
          "SKL0000000900b: case-sensitive, kept as sent. Some tenants' TLS certificates fail validation: give their "
          "CA with ca_bundle rather than turning verify_tls off.",
    inputs=(
        Input("host", "Host of your Aspen site (<state>-<district>.myfollett.com when Follett hosts it)",
              example="aspen.example.org", kind="host"),
        Input("path", "Path of Aspen under that host, for district-hosted sites (often /aspen); empty for "
              "myfollett.com", example="/aspen", default="", kind="path"),
    ),
    base_url="https://{host}{path}/ims/oneroster/v1p1",
    token_url="https://{host}{path}/oauth/rest/v2.0/auth",
    client_auth="both",
    sources=(
        Source(HELP, "[doc]", "setup path; token POST <aspen-url>/oauth/rest/v2.0/auth"),
        Source("find_string \"oauth/rest/v2.0/auth\"", "[code]",
               "grant_type=client_credentials with the credentials in the body (most clients) or a Basic header"),
        Source("find_string \"myfollett.com/ims/oneroster\"", "[code]", "base <host>/ims/oneroster/v1p1; SKL... ids"),
        Source("https://ed.link/docs/providers/aspen/details", "[3p]", "certificate validation failures"),
        Source("https://help.claris.com/en/connect-help/content/connect-via-follett-aspen-sis.html", "[3p]",
               "Aspen OneRoster connection fields"),
    ),
)
