"""ClassLink Roster Server: OneRoster 1.1 from the district's Roster Server tenant, or through ClassLink's proxy.

Two ways in, both documented by ClassLink: a district's own Roster Server host, every request signed
with OAuth 1.0a by the app's key and secret (``classlink``); or, for an application vendor, the
OneRoster proxy at ``oneroster-proxy.classlink.io/<app id>`` with a bearer token that does not expire
(``classlink-proxy``).
"""

from __future__ import annotations

from rostersync.connector import Source
from rostersync.profiles import ApiProfile, Input

DEV = "https://developer.classlink.com/reference/"
CONSOLE = ("https://support.classlink.com/hc/en-us/articles/360039037693-Applications-Adding-Applications-"
           "Modifying-Permissions")
NOTES = ("Roster Server sends only users enrolled in a class unless the app's 'Unenrolled Users' toggle is on "
         "(administrators need it); demographics can be switched off per app. limit is capped at 10000 (larger "
         "values are cut silently); 429 answers are retried after Retry-After. hrefs in the data point at the "
         "tenant's rosterserver.com host and are never followed.")
LIMITS = Source(DEV + "oneroster-api-request-limits", "[doc]", "429 with a cool-down; back off with jitter")
CAP = Source("find_string \"oneroster-proxy.classlink.io\"", "[code]", "limit up to 10000, larger values clamped")

CLASSLINK = ApiProfile(
    name="classlink",
    title="ClassLink Roster Server",
    basis="vendor docs",
    homepage=DEV + "accessing-data",
    summary="ClassLink Roster Server OneRoster 1.1 API of your tenant, read directly: every request is signed "
            "with OAuth 1.0a by the key and secret of the app in your Roster Server. Give the tenant's Roster "
            "Server host. (Application vendors reading through ClassLink's proxy: use classlink-proxy.)",
    setup="Roster Server console (https://rosterconsole.classlink.com/dashboard): Apps > Add App > find the app > "
          "+ Add > permissions (Custom, Select by Class or Full; Unenrolled Users and Demographics toggles) > share "
          "by REST API (key and secret).",
    notes=NOTES + " Some tenants are reported to sign with HMAC-SHA1 (auth=oauth1-hmac-sha1) or to offer OAuth 2 at "
          "https://<host>/token (auth=oauth2-client-credentials, token_url=that).",
    inputs=(Input("host", "Your tenant's Roster Server host (the server URL of the direct-access credentials)",
                  example="springtownisd-tx-v2.rosterserver.com", kind="host"),),
    base_url="https://{host}/ims/oneroster/v1p1",
    auth="oauth1-hmac-sha256",
    page_size_cap=10000,
    habits=("string-booleans",),
    sources=(
        Source(DEV + "accessing-data", "[doc]", "direct access signed with OAuth 1.0a; proxy URL and bearer token"),
        Source("https://classlink.zendesk.com/hc/en-us/articles/360039034013-Roster-Server-Applications", "[doc]",
               "setup in the Roster Server console"),
        Source(CONSOLE, "[doc]", "app permissions; Unenrolled Users toggle"),
        Source("find_string \"rosterserver.com/ims/oneroster\"", "[code]",
               "tenant hosts <tenant>-<st>-v2.rosterserver.com; hrefs on that host; an HMAC-SHA1 client; a "
               "host-root /token"),
        Source("https://github.com/psd401/aistudio/issues/1310", "[3p]", "the signature covers every query parameter"),
        LIMITS,
        CAP,
    ),
)

CLASSLINK_PROXY = ApiProfile(
    name="classlink-proxy",
    title="ClassLink OneRoster proxy (application vendors)",
    basis="vendor docs",
    homepage=DEV + "obtaining-list-of-districts-and-servers",
    summary="A district's ClassLink roster read through ClassLink's OneRoster proxy, as an application vendor "
            "does: give the district's oneroster_application_id and, as client_secret, the application's access "
            "token (it does not expire). No client id is needed.",
    setup="The application's access token comes from ClassLink's developer console; GET "
          "https://oneroster-proxy.classlink.io/applications with it lists the districts that added the app and "
          "each one's oneroster_application_id.",
    notes=NOTES,
    inputs=(Input("app_id", "The district's oneroster_application_id, as listed (already URL-encoded)",
                  example="MoYPlyQWmG0%3D"),),
    base_url="https://oneroster-proxy.classlink.io/{app_id}/ims/oneroster/v1p1",
    auth="bearer-token",
    page_size_cap=10000,
    defaults={"client_id": ""},
    sources=(
        Source(DEV + "accessing-data", "[doc]",
               "proxy https://oneroster-proxy.classlink.io/<app_id>/ims/oneroster/v1p1 with a bearer token that "
               "does not expire"),
        Source(DEV + "obtaining-list-of-districts-and-servers", "[doc]",
               "/applications lists districts; oneroster_application_id is URL-encoded"),
        LIMITS,
        CAP,
    ),
)
