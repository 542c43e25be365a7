"""FACTS SIS (RenWeb): a paid OneRoster API add-on whose credentials FACTS Support issues; no address is public.

Integrators (GG4L) ask districts for FACTS's "Service URL", https://cfapi.renweb.com; whether the
OneRoster paths sit at its root or under /ims/oneroster/v1p1 is not public, so nothing is derived.
"""

from __future__ import annotations

from rostersync.connector import Source
from rostersync.profiles import ApiProfile

from rostersync_connectors.sources import gg4l, sds

FACTS = ApiProfile(
    name="facts",
    title="FACTS SIS (RenWeb)",
    basis="integrator docs",
    homepage="https://help.gg4l.com/knowledge/facts",
    summary="FACTS SIS OneRoster API, a paid add-on. FACTS Support issues the client id and secret on request.",
    setup="FACTS: System > Configuration > Integrations > OneRoster > API Export: complete and submit the form; "
          "FACTS Support sends the API credentials.",
    notes="The service URL integrators ask for is https://cfapi.renweb.com (one host for every school: the "
          "credentials say which). Set base_url to the OneRoster address FACTS gives you; pasting the bare service "
          "URL reads it as https://cfapi.renweb.com/ims/oneroster/v1p1, which rostersync check confirms or "
          "refutes. FACTS's own REST API (developers.factsmgt.com) is not OneRoster. FACTS CSV by SFTP is the "
          "alternative integrators name.",
    sources=(
        gg4l("facts", "Service URL https://cfapi.renweb.com; requested under System > Configuration > Integrations "
             "> OneRoster > API Export; paid add-on; CSV by SFTP as the alternative"),
        Source("https://success.orah.com/en/articles/11879883", "[3p]", "FACTS OneRoster credentials from Support"),
        Source("https://developers.factsmgt.com", "[doc]", "FACTS's native API (not OneRoster)"),
        sds("FACTS: Yes"),
    ),
)
