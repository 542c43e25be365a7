"""Vigilo (Norway): OneRoster 1.2 Norwegian profile on OnEdHub, one base URL per organisation and environment.

Vigilo publishes its addresses (Vigilo-AS/onedhub-docs): ``https://api[.<env>].onedhub.io/<orgId>/...``
with a Keycloak token endpoint; production has no environment segment. The profile's enumeration
values are read by the norwegian-profile quirk.
"""

from __future__ import annotations

from rostersync.connector import Source
from rostersync.profiles import ApiProfile, ByInput, Input

from rostersync_connectors.quirks import NORWEGIAN_PROFILE

DOCS = "Vigilo-AS/onedhub-docs/oneroster/"
ENVIRONMENTS = {"production": "", "staging": "staging.", "dev": "dev."}


def _by_environment(template: str) -> ByInput:
    return ByInput("environment", {env: template.format(env=prefix, org_id="{org_id}")
                                   for env, prefix in ENVIRONMENTS.items()})


VIGILO = ApiProfile(
    name="vigilo",
    title="Vigilo (OnEdHub)",
    basis="vendor docs",
    homepage="https://github.com/Vigilo-AS/onedhub-docs",
    summary="Vigilo's OneRoster 1.2 API (Norwegian profile) on OnEdHub. Give your organisation id (usually your "
            "organisation's domain) and the client id and secret; base and token URLs are derived.",
    setup="Which environments an organisation may use depends on its agreement with Vigilo AS; each environment "
          "has its own credentials.",
    notes="Guardians come with role ext:primaryGuardian and list their students as agents, as students list them; "
          "demographics live in metadata (onedhub.birthDate, onedhub.gender, onedhub.firstLanguage) and classes "
          "carry onedhub.groupType: all kept in extra fields. The Norwegian profile's own enumeration values are "
          "not public: see the norwegian-profile quirk for how unknown ones are read.",
    inputs=(
        Input("org_id", "Your OnEdHub organisation id (usually your organisation's domain name)",
              example="vigilo.no"),
        Input("environment", "OnEdHub environment", example="production", default="production",
              choices=tuple(ENVIRONMENTS)),
    ),
    version="1.2",
    base_url=_by_environment("https://api.{env}onedhub.io/{org_id}/ims/oneroster/rostering/v1p2"),
    token_url=_by_environment("https://id.{env}onedhub.io/realms/onedhub/protocol/openid-connect/token"),
    quirks=(NORWEGIAN_PROFILE,),
    habits=("norwegian-roles",),
    sources=(
        Source(DOCS + "environments.md", "[doc]", "base https://api.<environment>.onedhub.io/<orgId>/ims/oneroster/"
               "rostering/v1p2, token https://id.<environment>.onedhub.io/realms/onedhub/protocol/openid-connect/"
               "token; environments dev, staging, none (production); orgId is the organisation's domain"),
        Source(DOCS + "auth.md", "[doc]", "OAuth 2.0 client credentials"),
        Source(DOCS + "index.md", "[doc]", "implements the OneRoster 1.2 Norwegian profile"),
        Source(DOCS + "legal-guardians.md", "[doc]", "role ext:primaryGuardian; agents both ways"),
        Source(DOCS + "metadata.md", "[doc]", "onedhub.* metadata keys and group types"),
        Source("https://www.imsglobal.org/spec/or-nor/v1p0", "[doc]", "the Norwegian profile"),
        Source("https://validate.imsglobal.org/NK12_ORv1p2_CTS_ServiceProvider/releaseNotes.html", "[doc]",
               "profile changes: new enumeration values, prohibited demographics, extra services"),
    ),
)
