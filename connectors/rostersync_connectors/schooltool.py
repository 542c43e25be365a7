"""SchoolTool: OneRoster 1.1 from CNYRIC-hosted SchoolTool tenants; the token is the base URL plus /Token.

SchoolTool is on districts' SFTP lists, but no SFTP export of it is public, while its OneRoster API
is (public client code): so its connector reads the API.
"""

from __future__ import annotations

from rostersync.connector import Source
from rostersync.profiles import ApiProfile, Input

from rostersync_connectors.sources import visitor_aware

SCHOOLTOOL = ApiProfile(
    name="schooltool",
    title="SchoolTool",
    basis="integrator docs",
    summary="SchoolTool (New York) OneRoster 1.1 API of your district's SchoolTool tenant. Give the tenant's host "
            "and the client id and secret; base and token URLs are derived.",
    notes="The address pattern is that of CNYRIC-hosted tenants (<district>.schooltool.cnyric.org); a tenant "
          "hosted elsewhere may differ: then set base_url and token_url from your host. No SFTP export of "
          "SchoolTool is public.",
    inputs=(Input("host", "Host of your SchoolTool tenant", example="somedistrict.schooltool.cnyric.org",
                  kind="host"),),
    base_url="https://{host}/STAPIService/ims/oneroster/v1p1",
    token_url="https://{host}/STAPIService/ims/oneroster/v1p1/Token",
    sources=(
        Source("ajhardin11/CNYRIC-OneRoster-Client/CNYRIC OneRoster Client/Oauth2.cs", "[code]",
               "token POST with a Basic client id and secret, grant_type=client_credentials"),
        Source("find_string \"schooltool.cnyric.org/STAPIService\"", "[code]",
               "base https://<district>.schooltool.cnyric.org/STAPIService/ims/oneroster/v1p1; token = base + "
               "/Token"),
        visitor_aware("SchoolTool: API"),
    ),
)
