"""OneRoster API SIS whose addresses no public source gives: the generic kind under each SIS's name.

Each connector asks for the base URL and (for OAuth 2) the token URL the vendor gives, and encodes what
is public: the auth flavour, a sort habit, a data quirk, where in the SIS the credentials are made.
Integrators' lists (School Data Sync, Visitor Aware) are the only sign that some of them have an API.
"""

from __future__ import annotations

from rostersync.connector import Source
from rostersync.profiles import ApiProfile

from rostersync_connectors.quirks import NORWEGIAN_PROFILE, REDIKER_DEPARTMENTS
from rostersync_connectors.sources import EDLINK_ONEROSTER, gg4l, sds, visitor_aware

ESP = "https://esp.powerschool-docs.com/espsis-sys-admin/latest/"
EVENTFUL = "https://eventfulab.freshdesk.com/support/solutions/articles/"
MSM = "https://support.msm.io/hc/en-us/articles/360016821980-Synchronise-and-integrate-with-Microsoft-One-roster-Teams"
Q_GUIDE = ("https://guides.instructure.com/m/104066/l/1397884-q-student-information-system-solutions-integration-"
           "overview")

UNPUBLISHED = (
    ApiProfile(
        name="educate", title="Educate (Community Brands)", basis="none public",
        summary="Educate by Community Brands OneRoster API (certified by Microsoft School Data Sync).",
        notes="School Data Sync reads it without demographics or contacts.",
        sources=(sds("Educate by Community Brands: Yes, no demographics or contacts"), visitor_aware("Educate: API")),
    ),
    ApiProfile(
        name="eventful", title="Eventful (Eventful SchoolSync)", basis="none public",
        homepage="https://www.eventful.se/eventful-informerar-om-oneroster/",
        summary="Eventful is Swedish sync middleware, not an SIS: Eventful SchoolSync reads a Swedish SIS (Tieto/"
                "Procapita, IST Extens, SchoolSoft, Unikum, Adela, Alvis, Skolplatsen) and serves it as a OneRoster "
                "web service (certified by School Data Sync).",
        notes="The data is the upstream SIS's. SchoolSync may run on the school's own Windows server; its address "
              "is then that server's.",
        sources=(
            Source("https://www.eventful.se/eventful-informerar-om-oneroster/", "[doc]",
                   "Eventful's OneRoster web service, certified by Microsoft"),
            Source(EVENTFUL + "77000473939-eventful-schoolsync-for-microsoft-google-description", "[doc]",
                   "SchoolSync is middleware that may run on the customer's Windows server"),
            Source(EVENTFUL + "77000473708-eventful-skolsynk-f%C3%B6r-microsoft-google-omfattning-avgr%C3%A4nsningar",
                   "[doc]", "the Swedish SIS it reads"),
            sds("Eventful: Yes, with contacts"),
        ),
    ),
    ApiProfile(
        name="isams", title="iSAMS (IRIS)", basis="none public",
        summary="iSAMS OneRoster API (certified by School Data Sync).",
        notes="iSAMS's own REST API at https://<school>.isams.cloud (token /auth/connect/token, scope restapi, keys "
              "from iSAMS Support) is not OneRoster and is not what this connector reads.",
        sources=(
            sds("iSAMS: Yes"), visitor_aware("iSAMS: API"),
            Source("find_string \"isams.cloud/api/\"", "[code]", "the native REST API and its token endpoint"),
        ),
    ),
    ApiProfile(
        name="myschool", title="MySchool (msm.io)", basis="vendor docs", homepage=MSM,
        summary="MySchool publishes the active academic year through OneRoster with its 'Integrations (Sync "
                "Centre)' module (certified by School Data Sync).",
        setup="MySchool: the Integrations (Sync Centre) module, activated by MySchool, then enable the classes and "
              "courses to publish; after each rollover enable the new year's classes and courses.",
        notes="Only the active academic year is published, so the rollover looks like most classes leaving (the "
              "safeguards hold it for review). MySchool describes Sync Centre as a nightly push to Microsoft: ask "
              "MySchool whether another client may read it.",
        sources=(Source(MSM, "[doc]", "Sync Centre module required; nightly; active academic year only"),
                 sds("MySchool: Yes"), visitor_aware("MySchool: API")),
    ),
    ApiProfile(
        name="skool", title="Skool", basis="none public", version="1.2", quirks=(NORWEGIAN_PROFILE,),
        habits=("norwegian-roles",),
        summary="Skool (Norway) OneRoster API.",
        notes="OneRoster 1.2 and the Norwegian profile are assumed (as Vigilo's): set version=1.1 if Skool's base "
              "URL ends in /v1p1.",
        sources=(visitor_aware("Skool: API"),
                 Source("https://www.imsglobal.org/spec/or-nor/v1p0", "[doc]", "the Norwegian profile")),
    ),
    ApiProfile(
        name="alma", title="Alma SIS", basis="none public", homepage="https://dev.api.getalma.com/docs/api/v2/",
        summary="Alma SIS. No OneRoster API of Alma's is public; integrators list Alma as sending OneRoster CSV "
                "by SFTP, which the sftp-csv connector reads.",
        notes="Alma's own REST API (https://<domain>.api.getalma.com/v2/..., HTTP Digest with an API key) is not "
              "OneRoster.",
        sources=(visitor_aware("Alma: SFTP"),
                 Source("find_string \"api.getalma.com\"", "[code]", "the native REST API with HTTP Digest"),
                 Source("https://dev.api.getalma.com/docs/api/v2/", "[doc]", "the native API's documentation")),
    ),
    ApiProfile(
        name="aequitas-mistar", title="Aequitas Q (Mistar)", basis="integrator docs",
        summary="Q by Aequitas Solutions: OneRoster 1.1 API (rostering and grade passback; certified by School Data "
                "Sync with demographics and contacts).",
        setup="Ask Q for the OneRoster 1.1 API URL, client key and client secret.",
        notes="Whether Q signs with OAuth 1.0a or issues OAuth 2 tokens is not public: OAuth 2 client credentials "
              "are assumed; with a key and secret but no token URL, set auth=oauth1-hmac-sha256. No public source "
              "names a product called Mistar.",
        sources=(Source(Q_GUIDE, "[3p]", "OneRoster 1.1; API URL, client key and secret requested from Q"),
                 sds("Aequitas Q: Yes, with demographics and contacts"), visitor_aware("Aequitas Q: API")),
    ),
    ApiProfile(
        name="eschoolplus", title="eSchoolPLUS (PowerSchool eSP)", basis="vendor docs",
        homepage=ESP + "api-profiles", auth="oauth1-hmac-sha1",
        summary="eSchoolPLUS OneRoster through the PLUS 360 API, with an API Profile per vendor (a consumer key and "
                "secret, signed with OAuth 1.0 HMAC-SHA1 by default). Its addresses are in PowerSchool's "
                "non-public PLUS 360 developer guide.",
        setup="eSchoolPLUS: Administration > Utilities > Integration > API Profile > (search) > the Consumer Key: "
              "view or change it; Advanced Settings switch endpoints on or off. New profiles are created only "
              "through PowerSchool Technical Support.",
        notes="A profile set to OAuth 2.0 shows 'integration details' to give the vendor: then set "
              "auth=oauth2-client-credentials and token_url from them. The PLUS 360 API lives on the district's "
              "eSP host under /plus360api/...; the OneRoster path below it is not public. OneRoster 1.2 needs eSP "
              "21.4 or later. An endpoint switched off answers an error: it is left unchanged with a warning.",
        sources=(
            Source(ESP + "api-profiles", "[doc]", "API Profile path; profiles only via PowerSchool; OAuth 2.0 "
                   "option; endpoints switched per profile"),
            Source(ESP + "eschoolplus-21-4-18-0-release", "[doc]", "OneRoster 1.2 from eSP 21.4 (roles[] for role)"),
            Source("https://samegoal.com/iep/g/support/online-guides/technical-guide/sungard-demographics-"
                   "integration", "[3p]", "profiles default to OAuth 1.0 HMAC-SHA-1; PLUS 360 base on the eSP host"),
            Source("https://support.classlink.com/hc/en-us/articles/360007875114-eSchoolPlus-API-Activation", "[3p]",
                   "the consumer enters the SIS URL, key and secret"),
            sds("eSchoolPLUS: Test (classic) / Yes (new)"),
        ),
    ),
    ApiProfile(
        name="eschooldata", title="eSchoolData", basis="integrator docs",
        homepage="https://support.classlink.com/hc/en-us/articles/360007649953-eSchoolData-API-Activation",
        summary="eSchoolData OneRoster API (certified by School Data Sync); the OneRoster URL comes from your "
                "eSchoolData representative.",
        setup="eSchoolData admin console > Configuration > Create New Vendor (or edit one) > copy the Client ID and "
              "Client Secret > grant the vendor all data marked as OneRoster > Finish.",
        notes="eSchoolData's own API (https://guru.eschooldata.com/api, token /v1/auth/token) is not OneRoster. "
              "eSchoolData can also export Clever CSV files on a schedule ('Clever Zap'): the sftp-csv connector "
              "reads those.",
        sources=(
            Source("https://support.classlink.com/hc/en-us/articles/360007649953-eSchoolData-API-Activation", "[3p]",
                   "URL from the eSchoolData rep; Create New Vendor; grant all data marked as OneRoster"),
            Source("Tools4everBV/HelloID-Conn-Prov-Source-eSchoolData/students.persons.ps1", "[code]",
                   "the native API's token (Basic client credentials)"),
            Source("https://eschooldata.illuminateed.com/hc/en-us/articles/18565202328219-Clever", "[doc]",
                   "Clever Zap scheduled Clever CSV export"),
            sds("eSchoolData: Yes"),
        ),
    ),
    ApiProfile(
        name="rediker", title="Rediker (AdminPlus)", basis="integrator docs", quirks=(REDIKER_DEPARTMENTS,),
        habits=("department-orgs",),
        summary="Rediker OneRoster API.",
        notes="Rediker sends a non-standard org type 'departments', and some tenants send every school as one: see "
              "the quirk.",
        sources=(Source(EDLINK_ONEROSTER, "[3p]", "non-standard org type 'departments'; some tenants send no school "
                        "(all departments)"), visitor_aware("Rediker Software: API")),
    ),
    ApiProfile(
        name="saphirek12", title="SapphireK12 (Sapphire Software)", basis="integrator docs", sort="sourcedId",
        habits=("unstable-order",),
        summary="SapphireK12 OneRoster API: give the Service URL, client id and secret from SapphireK12.",
        notes="Sapphire has no stable order, so every page is asked sorted by sourcedId (otherwise offset paging "
              "can skip or repeat rows). Also spelled SaphireK12.",
        sources=(Source("https://ed.link/docs/providers/sapphire/details", "[3p]",
                        "OneRoster; no stable natural ordering; always sort by sourcedId ascending"),
                 gg4l("sapphire", "Service URL, client id and secret from SapphireK12")),
    ),
    ApiProfile(
        name="synergy", title="Synergy (Edupoint)", basis="integrator docs",
        summary="Synergy SIS OneRoster API (1.1, also 1.2): Synergy gives a OneRoster API URL and a separate token "
                "endpoint.",
        notes="OAuth 2.0 is the recommended auth (OAuth 1.0 is still offered but deprecated); the client id and "
              "secret go in a Basic header. Rostering needs no scope that is documented; grade passback needs "
              "gradebook.readonly.",
        sources=(
            Source("https://ed.link/docs/providers/synergy/connecting", "[3p]",
                   "OneRoster API URL, token endpoint, client id and secret"),
            Source("https://ed.link/docs/providers/synergy/troubleshooting", "[3p]",
                   "OAuth 2.0 recommended, OAuth 1.0 deprecated; gradebook.readonly for passback"),
            Source("Arux-Software/Bright/lib/bright/sis_apis/one_roster/synergy.rb", "[code]",
                   "token POST with grant_type=client_credentials and a Basic header"),
            Source("https://community.canvaslms.com/docs/DOC-18174-synergy-integration-overview", "[3p]",
                   "OneRoster 1.1 rostering and grade passback"),
        ),
    ),
)
