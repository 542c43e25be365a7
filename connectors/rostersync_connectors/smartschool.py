"""Smartschool (Belgium): OneRoster 1.1 on the school's own smartschool.be subdomain, credentials in the body.

Everything here comes from public client code (four independent codebases agree): base and token URLs
by subdomain, client credentials in the form body, and the user's class name in ``metadata``.
"""

from __future__ import annotations

from rostersync.connector import Source
from rostersync.profiles import ApiProfile, Input

SMARTSCHOOL = ApiProfile(
    name="smartschool",
    title="Smartschool",
    basis="integrator docs",
    homepage="https://www.smartschool.be/oauth/",
    summary="Smartschool (Belgium) OneRoster 1.1 API on your school's own subdomain. Give the subdomain and the "
            "client id and secret from your Smartschool administrator; base and token URLs are derived.",
    notes="A student's class (group) name is not an enrollment: Smartschool sends it in the user's metadata as "
          "smsc.classInfo (with smsc.classYear, smsc.classLevel, smsc.internalNumber); rostersync keeps these in "
          "the user's extra fields (metadata.smsc.classInfo ...). birthDate and sex sent on users (not as "
          "demographics) are not imported. One school saw data requests take about 21 s while the token answered "
          "at once: the 60 s timeout and the retries cover that. Photos are only in Smartschool's SOAP API.",
    inputs=(Input("subdomain", "Your school's Smartschool subdomain (the part before .smartschool.be)",
                  example="myschool"),),
    base_url="https://{subdomain}.smartschool.be/ims/oneroster/v1p1",
    token_url="https://{subdomain}.smartschool.be/ims/oneroster/token",
    client_auth="body",
    sources=(
        Source("find_string \"smartschool.be/ims/oneroster\"", "[code]",
               "base and token URLs per subdomain; client id and secret in the form body; expires_in about 3600 "
               "(a PicMe app, a Java SmartschoolTokenServiceTest, a PHP OneRosterSync and others)"),
        Source("find_string \"smsc.classInfo\"", "[code]",
               "user metadata smsc.classInfo, smsc.classYear, smsc.classLevel, smsc.internalNumber; birthDate and "
               "sex on users"),
        Source("https://www.smartschool.be/oauth/", "[doc]", "Smartschool's OAuth 2 provider page"),
    ),
)
