"""Skyward: OneRoster 1.1 through the Skyward API server (SMS 2.0) or Qmlativ; slow, and 500 for an expired token.

The only public configuration of Skyward's OneRoster API (Tools4ever's, for Qmlativ) reads it at
``https://{host}/ims/oneroster/v1p1``, asks the roster and demographics scopes, pages 1000 rows at a
time, waits up to 900 s for a response and treats an HTTP 500 as an expired token. Neither product's
token URL is public, nor SMS 2.0's OneRoster path under its API server (``https://{host}/api``).
"""

from __future__ import annotations

from rostersync.connector import Source
from rostersync.profiles import ApiProfile, ByInput, Input

from rostersync_connectors.sources import gg4l

NIM = "Tools4ever-NIM/NIM-System-REST-Skyward-Qmlativ/"
LAUNCH_KIT = "https://help.incidentiq.com/hc/en-us/articles/360040592713-SMS-2-0-API-Server-Launch-Kit-Instructions"
SCOPE = "https://purl.imsglobal.org/spec/or/v1p1/scope/"

SKYWARD = ApiProfile(
    name="skyward",
    title="Skyward (SMS 2.0, Qmlativ)",
    basis="integrator docs",
    homepage=LAUNCH_KIT,
    summary="Skyward's OneRoster 1.1 API: SMS 2.0 through the Skyward API server, or Qmlativ. Give the API host, "
            "which product you run, the token URL Skyward (or your host, e.g. ISCorp) gives you with the key, and "
            "the key and secret. Qmlativ's base URL is derived; SMS 2.0's is not public: paste the OneRoster API "
            "URL from its API Configuration page as base_url.",
    setup="SMS 2.0: Product Setup > Skyward Contact Access > Secured User > Add > Organization (the vendor's name) > "
          "Add Entered name > Save; select that user > API > Generate New Key (note Key and Secret). The OneRoster "
          "API URL is under Product Setup > Skyward Contact Access > District Setup > Configuration > API "
          "Configuration. The read-only API must first be installed by whoever hosts the district (ISCorp, Skyward "
          "IT Services, or the district with the API Server Launch Kit); OneRoster needs SMS 05.19.02.00.06 or "
          "later. Qmlativ: Administrative Access > API > Integration (a Skyward-approved Integration record).",
    notes="Calls can take minutes: the read timeout is 900 s (and a request's deadline 1800 s). An expired token "
          "comes back as HTTP 500, so a 500 renews the token and retries once. Qmlativ's OneRoster 1.2 path has no "
          "/rostering/ segment: for 1.2 set base_url=https://<host>/ims/oneroster/v1p2 and version=1.2. Skyward "
          "prefers SFTP OneRoster CSV for full data (its SMS API carries fewer fields; staff can appear as several "
          "rows): the sftp-csv connector reads that.",
    inputs=(
        Input("host", "Host of your Skyward API server (SMS 2.0: the name in front of /api; Qmlativ: your Qmlativ "
              "host)", example="skyward.example.org", kind="host"),
        Input("product", "Which Skyward you run", example="qmlativ", choices=("qmlativ", "sms2")),
    ),
    base_url=ByInput("product", {"qmlativ": "https://{host}/ims/oneroster/v1p1", "sms2": ""}),
    scopes=(SCOPE + "roster.readonly", SCOPE + "roster-demographics.readonly"),
    page_size=1000,
    refresh_on_500=True,
    habits=("expired-token-500",),
    timeout=900.0,
    defaults={"deadline": 1800.0},  # the deadline covers a whole response: it must outlast a 900 s wait
    sources=(
        Source(NIM + "Skyward OneRoster v1.1.json", "[code]",
               "paths /ims/oneroster/v1p1/*, baseUrl https://{tenant_id}, scopes roster.readonly and "
               "roster-demographics.readonly, page size 1000, socket_timeout 900000 ms, retries on 503/504, "
               "treat500AsAuthError"),
        Source(NIM + "Skyward OneRoster v1.2.json", "[code]", "1.2 path /ims/oneroster/v1p2 (no /rostering/)"),
        Source("https://support.classlink.com/hc/en-us/articles/360007493713-Skyward-API-Activation", "[3p]",
               "SMS 2.0 Secured User > API > Generate New Key; API URL https://{DNSNAME}/api"),
        Source(LAUNCH_KIT, "[3p]", "OneRoster endpoint of the SMS 2.0 REST API; needs 05.19.02.00.06+; read-only "
               "without the LMS/OneRoster API licence; hosted districts ask IT Services"),
        gg4l("skyward", "who turns the read-only API on for each kind of hosting; Qmlativ via Integration Access"),
        Source("Tools4everBV/HelloID-Conn-Prov-Source-Skyward-Qmlativ-Students/README.md", "[code]",
               "Qmlativ: Administrative Access > API > Integration"),
        Source("https://ed.link/docs/providers/skyward/details", "[3p]",
               "SFTP OneRoster CSV preferred for full data; duplicated staff rows and periods"),
    ),
)
