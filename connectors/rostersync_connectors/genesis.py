"""Genesis (Genesis Educational Services): OneRoster 1.1 at the district's Genesis address, token beside it."""

from __future__ import annotations

from rostersync.connector import Source
from rostersync.profiles import ApiProfile, Input

from rostersync_connectors.sources import visitor_aware

ARTICLES = "https://support-sis.genesisedu.com/support/solutions/articles/"

GENESIS = ApiProfile(
    name="genesis",
    title="Genesis (Genesis Educational Services)",
    basis="vendor docs",
    homepage=ARTICLES + "151000148063-oneroster-api",
    summary="Genesis SIS OneRoster 1.1 API at your district's Genesis address. Give the host and path of that "
            "address (e.g. https://genesis.forge-tech.com/genesis) and the OneRoster client id and secret; base and "
            "token URLs are derived.",
    notes="Students and guardians carry extra metadata (preferred names, registration group, first language, "
          "home address and more, some sensitive): kept in extra fields as sent. Staff without an email address "
          "are imported; many consumers need one. Genesis can also push a Clever-format export over SFTP (its "
          "'Clever Export' task): the sftp-csv connector reads it (Clever CSV headers in any case). Where the "
          "client credentials go is not stated: they are sent in a Basic header, which OAuth 2 servers must "
          "accept (client_auth=body if yours refuses it).",
    inputs=(
        Input("host", "Host of your Genesis address", example="genesis.forge-tech.com", kind="host"),
        Input("path", "Path of your Genesis address after the host", example="/genesis", default="", kind="path"),
    ),
    base_url="https://{host}{path}/ims/oneroster/v1p1",
    token_url="https://{host}{path}/token",
    sources=(
        Source(ARTICLES + "151000148063-oneroster-api", "[doc]",
               "per-district address; token endpoint <address>/token; API <address>/ims/oneroster/v1p1/; metadata "
               "fields; staff email"),
        Source(ARTICLES + "151000094027-clever-export", "[doc]", "Clever Export task; SFTP option; header case"),
        visitor_aware("Genesis: SFTP"),
    ),
)
