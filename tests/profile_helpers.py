"""SIS profiles of the shapes real SIS have, for the simulator-profile and conformance tests (the fixture
that registers their connectors for one test is in profile_fixtures).

Each profile states one client feature or server habit the tests exercise end to end (password grant,
GET token request, credentials in the body or both places, cookie affinity, 500 for an expired
token, unstable order, required scopes, a token URL with a query, OAuth 1 only, and the data habits
with the quirk that fixes each). Their facts mirror reference/sis.md, but they are test profiles:
where the real connector (connectors/rostersync_connectors/) exists, the tests that need it use it.
"""

from __future__ import annotations

from rostersync.batches import RawBatch
from rostersync.connector import Quirk, Source
from rostersync.profiles import ApiProfile, Input

SOURCE = (Source("https://example.org/docs", "[doc]", "a test profile"),)
HOST = Input("host", "Host of the SIS", example="sis.example.org", kind="host")


def profile(name: str, **facts: object) -> ApiProfile:
    """A test profile: ``https://{host}/ims/oneroster/v1p1`` and ``/oauth/token`` unless ``facts`` say other."""
    base = {"title": name.replace("-", " ").title(), "summary": f"Test SIS {name}.", "basis": "vendor docs",
            "homepage": "https://example.org", "inputs": (HOST,), "base_url": "https://{host}/ims/oneroster/v1p1",
            "token_url": "https://{host}/oauth/token", "sources": SOURCE}
    return ApiProfile(name=name, **{**base, **facts})  # type: ignore[arg-type]


def _departments_as_schools(batch: RawBatch) -> RawBatch:
    """Rediker-style: when no org of a page group is a school, its departments are the schools."""
    if batch.entity == "orgs" and not any(r.get("type") == "school" for r in batch.rows):
        for row in batch.rows:
            if row.get("type") == "department":
                row["type"] = "school"
    return batch


def _norwegian_guardians(batch: RawBatch) -> RawBatch:
    """Vigilo-style: the Norwegian profile's ext:primaryGuardian is a guardian."""
    if batch.entity == "users":
        for row in batch.rows:
            for role in row.get("roles") or []:
                if role.get("role") == "ext:primaryGuardian":
                    role["role"] = "guardian"
    return batch


DEPARTMENTS = Quirk("departments-as-schools", "department orgs are the schools when no school org comes",
                    ("oneroster-1.1-json",), _departments_as_schools)
NORWEGIAN = Quirk("norwegian-guardians", "ext:primaryGuardian read as guardian", ("oneroster-1.2-json",),
                  _norwegian_guardians)

PROFILES = {p.name: p for p in (
    profile("t-password-get", auth="oauth2-password", token_method="GET"),
    profile("t-body", client_auth="body"),
    profile("t-both", client_auth="both"),
    profile("t-cookie", habits=("cookie-affinity",)),
    profile("t-expired-500", habits=("expired-token-500",), refresh_on_500=True,
            base_url="https://{host}/api/ims/oneroster/v1p2", version="1.2"),
    profile("t-unstable", habits=("unstable-order",), sort="sourcedId", page_size=25),
    profile("t-scopes", habits=("scopes-required",), scopes=("roster-core.readonly", "roster.readonly")),
    profile("t-app-name", version="1.2", inputs=(HOST, Input("app_name", "App name", example="district1")),
            base_url="https://{host}/campus/api/oneroster/v1p2/{app_name}/ims/oneroster/rostering/v1p2",
            token_url="https://{host}/campus/oauth2/token?appName={app_name}"),
    profile("t-oauth1", auth="oauth1-hmac-sha256", token_url=""),
    profile("t-departments", habits=("department-orgs",), quirks=(DEPARTMENTS,)),
    profile("t-norwegian", version="1.2", base_url="https://{host}/ims/oneroster/rostering/v1p2",
            habits=("norwegian-roles",), quirks=(NORWEGIAN,)),
    profile("t-relaxed", habits=("padded-ids", "null-fields", "string-booleans"), page_size_cap=50, page_size=50),
)}


#: Test profiles shaped like five SIS whose facts reference/sis.md records (used where the real connector
#: is not installed): Infinite Campus (1.2 under /campus/api/..., token URL with ?appName=), ClassLink
#: Roster Server (OAuth 1 only, enabledUser as a string), FOCUS (token at {base}/token, credentials in the
#: header and the body), Skyward (an expired token answered 500, renewed on refresh_on_500).
LOOKALIKES = {
    "infinite-campus": profile(
        "infinite-campus", title="Infinite Campus", version="1.2",
        inputs=(HOST, Input("app_name", "Campus app name", example="district1")),
        base_url="https://{host}/campus/api/oneroster/v1p2/{app_name}/ims/oneroster/rostering/v1p2",
        token_url="https://{host}/campus/oauth2/token?appName={app_name}"),
    "classlink": profile(
        "classlink", title="ClassLink Roster Server", auth="oauth1-hmac-sha256", token_url="",
        inputs=(Input("tenant", "Roster Server tenant", example="district-ca"),),
        base_url="https://{tenant}-v2.rosterserver.com/ims/oneroster/v1p1", habits=("string-booleans",)),
    "focus": profile(
        "focus", title="FOCUS", client_auth="both",
        inputs=(Input("district", "Focus district name", example="demo"),),
        base_url="https://{district}.focusschoolsoftware.com/focus/api/1.0/ims/oneroster/v1p1",
        token_url="https://{district}.focusschoolsoftware.com/focus/api/1.0/ims/oneroster/v1p1/token"),
    "skyward": profile(
        "skyward", title="Skyward", base_url="https://{host}/api/ims/oneroster/v1p1",
        token_url="https://{host}/api/oauth/token", habits=("expired-token-500",), refresh_on_500=True),
}
