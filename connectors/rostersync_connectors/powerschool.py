"""PowerSchool SIS: OneRoster 1.1 served by the district's PowerSchool server through a OneRoster plugin.

The token endpoint is PowerSchool's own (``{host}/oauth/access_token``, Basic client credentials); the
OneRoster base path is not published by PowerSchool, so the operator pastes the one the plugin's vendor
gives. The plugin's page size is an admin setting that setup guides raise to 1000.
"""

from __future__ import annotations

from rostersync.connector import Source
from rostersync.profiles import ApiProfile, Input

CLASSLINK = "https://support.classlink.com/hc/en-us/articles/360007232513-PowerSchool-API-Activation"
CANVAS = ("https://community.canvaslms.com/t5/PowerSchool-and-Canvas/How-do-I-install-the-Instructure-OneRoster-"
          "plugin-from-within/ta-p/575155")

POWERSCHOOL = ApiProfile(
    name="powerschool",
    title="PowerSchool SIS",
    basis="integrator docs",
    homepage=CLASSLINK,
    summary="PowerSchool SIS OneRoster 1.1 API, served by your PowerSchool server through a OneRoster plugin. Give "
            "the PowerSchool host, the plugin's Client ID and Secret, and the OneRoster base URL the plugin's vendor "
            "gives you (PowerSchool does not publish the path; two forms are seen in public code, neither confirmed "
            "by PowerSchool: https://<host>/api/ims/oneroster/v1p1 and https://<host>/ims/oneroster/v1p1 - "
            "rostersync check shows which answers).",
    setup="PowerSchool: System > System Settings > Plugin Management Configuration > Install (the vendor's plugin "
          "XML) > Enable > <plugin name> > Data Configuration: note the Client ID and Secret, and set Maximum Page "
          "Size (Pagination limit) to 1000. The Universal Rostering plugin may have to be installed first.",
    notes="Pages are asked 1000 rows at a time; if the plugin's limit is lower, PowerSchool sends shorter pages and "
          "rostersync follows them (set page_size to the plugin's limit to save a request). Padded sourcedIds are "
          "trimmed by the JSON mapper, as for every SIS. Email may live in a district-specific field the plugin "
          "does not send; co-teachers arrive only if the plugin sends secondary teachers. PowerSchool's cloud "
          "products (Unified Classroom) are a different OneRoster service with their own token endpoint.",
    inputs=(Input("host", "Host of your PowerSchool server (the admin portal address)", example="ps.example.org",
                  kind="host"),),
    token_url="https://{host}/oauth/access_token",
    page_size=1000,
    page_size_cap=1000,
    habits=("padded-ids", "null-fields"),
    sources=(
        Source(CLASSLINK, "[3p]", "plugin install, Data Configuration, Maximum Page Size 1000"),
        Source(CANVAS, "[3p]", "menu path, Pagination limit 1000, Universal Rostering first"),
        Source("Tools4everBV/HelloID-Conn-Prov-Source-PowerSchool-SIS-Students/departments.ps1", "[code]",
               "token POST {host}/oauth/access_token with Basic client credentials"),
        Source("tulsaschoolsdata/ps_utilities/PS_API_NOTES.md", "[code]",
               "Basic client_credentials token at {base_uri}/oauth/access_token"),
        Source("find_string \"/api/ims/oneroster/v1p1\"", "[weak]", "candidate base path /api/ims/oneroster/v1p1"),
        Source("find_string \"powerschool.com/ims/oneroster\"", "[weak]",
               "candidate base path /ims/oneroster/v1p1 (UI placeholders only)"),
        Source("https://ed.link/docs/providers/powerschool/details", "[3p]", "email field location varies"),
        Source("https://support.classlink.com/hc/en-us/articles/360056480374", "[3p]",
               "secondary teachers need a plugin update"),
        Source("https://docs.powerschool.com/UCHA/system-administration/integrations/oneroster", "[doc]",
               "the cloud products' OneRoster is a different service"),
    ),
)
