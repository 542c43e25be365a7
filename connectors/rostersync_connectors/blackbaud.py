"""Blackbaud Education Management: OneRoster 1.1 through SKY API, fixed addresses, OAuth 2 client credentials."""

from __future__ import annotations

from rostersync.connector import Source
from rostersync.profiles import ApiProfile

from rostersync_connectors.sources import EDLINK_ONEROSTER, sds

INTEGRATIONS = "https://developer.blackbaud.com/skyapi/products/bbem/oneroster/integrations"

BLACKBAUD = ApiProfile(
    name="blackbaud",
    title="Blackbaud (Education Management)",
    basis="vendor docs",
    homepage=INTEGRATIONS,
    summary="Blackbaud Education Management's OneRoster 1.1 API through SKY API: the base and token URLs are the "
            "same for every school. Give the key and secret of an OAuth 2.0 configuration in Education "
            "Management's OneRoster settings.",
    setup="Education Management: OneRoster settings > OAuth 2.0 configuration (key and secret), created by a "
          "platform manager; the exact menu path is not public.",
    notes="An older route is each school's own https://<school>.myschoolapp.com/ims/oneroster/v1p1 with a Consumer "
          "Key and Secret (the signing method is not public): set base_url to it and auth to oauth1-hmac-sha256 "
          "(or -sha1). Whether the OneRoster client-credentials route also wants SKY API's Bb-Api-Subscription-Key "
          "header is not public; rostersync does not send one. Blackbaud also serves gradebook endpoints (not read).",
    base_url="https://api.sky.blackbaud.com/afe-rostr/ims/oneroster/v1p1",
    token_url="https://oauth2.sky.blackbaud.com/token",
    sources=(
        Source(INTEGRATIONS, "[doc]", "OAuth 2.0 client credentials; base https://api.sky.blackbaud.com/afe-rostr/"
               "ims/oneroster/v1p1/; token https://oauth2.sky.blackbaud.com/token; key and secret from an OAuth 2.0 "
               "configuration in OneRoster settings"),
        Source("https://help.formative.com/en/articles/4380353-gold-plan-schools-rostering-with-blackbaud", "[3p]",
               "older per-school base https://<school>.myschoolapp.com/ims/oneroster/v1p1 with a Consumer Key and "
               "Secret"),
        Source("find_string \"afe-rostr/ims/oneroster\"", "[code]", "endpoint list incl. gradebook; SKY API "
               "subscription key header in developer clients"),
        Source(EDLINK_ONEROSTER, "[3p]", "Blackbaud does not list categories by class"),
        sds("Blackbaud Education Management: Yes, with demographics and contacts"),
    ),
)
