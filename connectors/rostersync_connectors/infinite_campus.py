"""Infinite Campus: OneRoster 1.2 from the district's Campus host, token URL naming the connection's appName.

Since Campus.2235 a district has one base URL per OneRoster version (not per vendor); the token URL
still carries the connection's ``appName`` as a query parameter. An operator gives the host and that
appName; both URLs are derived.
"""

from __future__ import annotations

from rostersync.connector import Source
from rostersync.profiles import ApiProfile, Input

from rostersync_connectors.sources import EDLINK_ONEROSTER, gg4l

KB = "https://kb.infinitecampus.com/help/"

INFINITE_CAMPUS = ApiProfile(
    name="infinite-campus",
    title="Infinite Campus",
    basis="vendor docs",
    homepage=KB + "oneroster-migration-instructions",
    summary="Infinite Campus OneRoster 1.2 API with OAuth 2.0 client credentials. Give the Campus host, the appName "
            "at the end of the connection's Token URL, and its Client ID and Secret.",
    setup="Campus: System Administration > Learning Interoperability > Digital Learning Applications Configuration > "
          "Add Application > Connect to Other Applications > Generate New OneRoster Connection (OneRoster 1.2, "
          "OAuth 2.0) > choose the schools > Save. 'Information to Share' then shows the Base URL, Token URL, Client "
          "ID and Secret. Older releases: System Administration > Learning Interoperability > OneRoster Provisioning.",
    notes="Base URLs changed with Campus.2235: one per OneRoster version for the whole district. The older "
          "app-specific ones (.../campus/oneroster/<appName>/... or .../campus/api/oneroster/v1p2/<appName>/...) stop "
          "working with Campus.2651; a OneRoster 1.1 connection's current base URL is not public, so paste yours as "
          "base_url and set version=1.1. No OAuth 1.0 connection can be created since 2023-12-18. Moving a "
          "connection from 1.1 to 1.2 gives every user a new SIS id: the safeguards hold that run for review. The "
          "credentials expire on the connection's Token Expiration Date (at most 13 months ahead). A 1.2 user's "
          "state id arrives as userMasterIdentifier; a 'relative' is a legal guardian only with a Guardian "
          "relationship.",
    inputs=(
        Input("host", "Host of your Campus site (from your Campus address)", example="campus.example.org",
              kind="host"),
        Input("app_name", "The appName at the end of the connection's Token URL (.../campus/oauth2/token?appName=...)",
              example="district"),
    ),
    version="1.2",
    base_url="https://{host}/campus/api/ims/oneroster/rostering/v1p2",
    token_url="https://{host}/campus/oauth2/token?appName={app_name}",
    sources=(
        gg4l("establish-a-connection-with-infinite-campus-api-1.2-data-source",
             "1.2 base https://<domain>/campus/api/ims/oneroster/rostering/v1p2; token "
             "https://<domain>/campus/oauth2/token?appName=<appName>; new SIS ids after a 1.1 to 1.2 upgrade"),
        Source(KB + "oneroster-migration-instructions", "[doc]",
               "OAuth 1.0 deprecated (no new connections since 2023-12-18); base URLs changed with Campus.2235; "
               "Digital Learning Applications Configuration"),
        Source(KB + "update-oneroster-connections-legacy-configurations", "[doc]",
               "one base URL per version, not vendor-specific; legacy base URLs stop working with Campus.2651"),
        Source("https://content.infinitecampus.com/sis/Campus.1929/documentation/oneroster-provisioning/", "[doc]",
               "older setup path; Token Expiration Date at most 13 months ahead"),
        Source("https://docs.manage1to1.com/kb/infinite-campus-api", "[3p]",
               "Add Application > Connect to Other Applications > Generate New OneRoster Connection"),
        Source("Arux-Software/Bright/lib/bright/sis_apis/one_roster/infinite_campus.rb", "[code]",
               "state id in userMasterIdentifier"),
        Source(EDLINK_ONEROSTER, "[3p]", "relative role vs Guardian relationship"),
    ),
)
