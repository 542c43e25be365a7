"""Focus (Focus School Software): IMS-certified OneRoster 1.1 under the Focus site's /focus/api/1.0 path."""

from __future__ import annotations

from rostersync.connector import Source
from rostersync.profiles import ApiProfile, Input

from rostersync_connectors.sources import gg4l, sds

SETUP_DOC = "https://focus.screenstepslive.com/s/admins/m/sis/l/970999-third-party-systems"

FOCUS = ApiProfile(
    name="focus",
    title="Focus (Focus School Software)",
    basis="vendor docs",
    homepage=SETUP_DOC,
    summary="Focus SIS OneRoster 1.1 API (IMS-certified). Give your Focus host and the client id and secret of its "
            "Third Party Systems record; base and token URLs are derived.",
    setup="Focus: Users > Profiles: give the profile Edit on Setup > Third Party Systems, and tick the user types "
          "(administrator profiles) to send; then Setup > Third Party Systems > add one record per vendor. The "
          "API's interactive docs are at <your Focus address>/api/docs.",
    notes="Administrator profiles are sent only when ticked, and a user with several profiles is sent once, with "
          "the highest. Public clients authenticate both ways (form body at the OneRoster base's /token, a Basic "
          "header at /focus/api/1.0/token), so both are sent; if your Focus refuses the derived token URL, set "
          "token_url=https://<host>/focus/api/1.0/token. The token response carries extra request_id and "
          "expiration fields (ignored).",
    inputs=(Input("host", "Host of your Focus site", example="livedemo.focusschoolsoftware.com", kind="host"),),
    base_url="https://{host}/focus/api/1.0/ims/oneroster/v1p1",
    token_url="https://{host}/focus/api/1.0/ims/oneroster/v1p1/token",
    client_auth="both",
    page_size=500,
    sources=(
        Source(SETUP_DOC, "[doc]", "OneRoster 1.1 certified; setup path; administrator profile rule; /api/docs"),
        Source("find_string \"focus/api/1.0/ims/oneroster\"", "[code]",
               "base .../focus/api/1.0/ims/oneroster/v1p1 and its /token with body credentials; /focus/api/1.0/"
               "token with Basic; limit=500; request_id and expiration in the token response"),
        gg4l("focus", "Service URL, client id and secret"),
        sds("Focus School Software: Yes"),
    ),
)
