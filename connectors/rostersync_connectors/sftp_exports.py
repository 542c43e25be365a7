"""SIS on districts' SFTP lists: the drop each one (or its district) sends, and what the system really is.

For most of them no export format is public: their connector reads a OneRoster or Clever CSV drop,
told apart by file names (``format = auto``), and says so. Some are not roster sources of their own
(TeacherEase and PlusPortals receive rosters) or reach vendors another way (ATS through the NYC DOE's
OneRoster API, Q through its OneRoster API, Sycamore through its native API): their connector still
reads the drop districts send for them, and its docs name the real route. SchoolTool, whose only
public route is its OneRoster API, is an API connector (:mod:`rostersync_connectors.schooltool`).
"""

from __future__ import annotations

from rostersync.connector import Source
from rostersync.profiles import SftpProfile

from rostersync_connectors.sources import visitor_aware

#: for connectors that read whatever OneRoster or Clever drop a district sends (the "none public" ones get the
#: same from the framework's "ask the vendor" paragraph)
DETECTED = ("A drop is the folder's CSV files (or dated sub-folders of them; file_pattern=*.zip for one zip per "
            "drop), read as OneRoster (manifest.csv) or Clever (schools.csv, students.csv...) by their names.")
NO_EXPORT = "SIS with no public roster-export documentation."


def _unknown(name: str, title: str) -> SftpProfile:
    """An SIS of which nothing public describes an export."""
    return SftpProfile(name=name, title=title, basis="none public", summary=NO_EXPORT)


SFTP_EXPORTS = (
    SftpProfile(
        name="amp-educator", title="Amp Educator (AmpEd)", basis="none public",
        homepage="https://www.ampeducator.com/api.php",
        summary="School management system with per-school hosts (<school>.ampeducator.ca) and an API page; no "
                "roster export format is public.",
        sources=(Source("find_string \"ampeducator\"", "[code]", "per-school host pattern; link to the API page"),),
    ),
    SftpProfile(
        name="ascender", title="Ascender (Texas Computer Cooperative)", basis="none public",
        homepage="https://help.ascendertx.com/interfaces/",
        summary="Texas SIS whose roster connection integrators list as SFTP. Its interfaces wiki has a 'Class "
                "Roster Export' page, whose layout we could not read.",
        setup="Ascender Student's interfaces area (Class Roster Export); the exact menu is not public.",
        notes="Not Ascender's TSDS/PEIMS 'Class Roster' state submission (state reporting, not a vendor export).",
        sources=(Source("https://help.ascendertx.com/interfaces/feed.php?mode=list&ns=student", "[doc]",
                        "the interfaces list names student/class_roster_export"), visitor_aware("Ascender: SFTP")),
    ),
    SftpProfile(
        name="ats", title="ATS (NYC DOE)", basis="integrator docs",
        summary="New York City Department of Education. Vendors get its roster data (from STARS) through a "
                "DOE-run OneRoster API, one school (DBN) at a time, not as ATS files: for that API use the "
                "oneroster-api connector with the addresses the DOE gives. No ATS file export is public; this "
                "connector reads a OneRoster or Clever CSV drop if a school sends one. " + DETECTED,
        setup="The school's principal or an assistant principal files an ERMA request for the vendor in the DOE "
              "portal; data is scoped by the school's DBN.",
        notes="Guardian data is not released to vendors. The whole city is one district: make each school (DBN) "
              "its own source.",
        sources=(Source("https://ptcwizard.freshdesk.com/support/solutions/articles/3000128570-nyc-doe", "[3p]",
                        "DOE OneRoster API from STARS; ERMA request per school; DBN scoping; no parent data"),),
    ),
    _unknown("frontline-sis", "Frontline SIS"),
    _unknown("goedustar", "Goedustar"),
    SftpProfile(
        name="jmc", title="JMC", basis="none public",
        homepage="https://intercom.help/onlinejmc/en/articles/3583233-let-jmc-automatically-schedule-students",
        summary="SIS with a public help centre but no roster export, OneRoster or Clever article.",
        sources=(Source("https://intercom.help/onlinejmc/en/articles/3583233-let-jmc-automatically-schedule-"
                        "students", "[doc]", "JMC's public help centre (no export article)"),),
    ),
    SftpProfile(
        name="misis", title="MiSiS (LAUSD)", basis="none public",
        homepage="https://its.lausd.org/apps/pages/index.jsp?uREC_ID=4398514&type=d&pREC_ID=2620094",
        summary="Los Angeles Unified's own SIS (My Integrated Student Information System). Public material covers "
                "files sent into MiSiS (charter schools' term upload), not an export to vendors.",
        sources=(
            Source("https://its.lausd.org/apps/pages/index.jsp?uREC_ID=4398514&type=d&pREC_ID=2620094", "[doc]",
                   "MiSiS FAQ"),
            Source("https://www.knowledgeforschools.com/knowledge-base/how-do-i-create-the-school-term-file-for-the-"
                   "summer-2014-misis-upload/", "[3p]", "the charter term file uploaded into MiSiS"),
        ),
    ),
    _unknown("mysis", "MySIS"),
    _unknown("oasissis", "OasisSIS"),
    SftpProfile(
        name="oncourse", title="OnCourse (OnCourse Systems for Education)", basis="none public",
        homepage="https://www.oncourseconnect.com",
        summary="SIS whose only public code scrapes its portal (OnCourse Connect): not a supported export, and not "
                "read by rostersync.",
        sources=(Source("find_string \"oncourseconnect.com\"", "[code]", "portal scraping only"),),
    ),
    SftpProfile(
        name="parentlocker", title="ParentLocker", basis="none public",
        summary="School portal (per-school hosts <school>.parentlocker.com) that schools upload student and parent "
                "data into; no export from it is documented.",
        sources=(Source("https://hartorah.parentlocker.com/go/privacy-policy", "[doc]",
                        "per-school host; schools upload their data into it"),),
    ),
    SftpProfile(
        name="plus-portal", title="PlusPortals (Rediker)", basis="vendor docs",
        homepage="https://docs.rediker.com/guides/plusportals-manager/get-started/ppm-user-accounts.htm",
        summary="Not a roster source of its own: Rediker's parent and student portal, fed from AdminPlus by "
                "Rediker's internal sync. Rosters come from Rediker's OneRoster API (the rediker connector); this "
                "connector reads a OneRoster or Clever CSV drop exported from Rediker if a school sends one. "
                + DETECTED,
        notes="Rediker's internal sync to PlusPortals: AdminPlus > Tools > TeacherPlus Setup & Sync Manager > All "
              "Data (Since Year Start); by default only current-year students and parents.",
        sources=(Source("https://docs.rediker.com/guides/plusportals-manager/get-started/ppm-user-accounts.htm",
                        "[doc]", "AdminPlus > Tools > TeacherPlus Setup & Sync Manager; current year only"),),
    ),
    SftpProfile(
        name="q-aequitas", title="Q (Aequitas Solutions)", basis="integrator docs",
        summary="Q delivers rosters through its OneRoster 1.1 API (with demographics and contacts): use the "
                "aequitas-mistar connector. No SFTP export of Q is public; this connector reads a OneRoster or "
                "Clever CSV drop if a district sends one. " + DETECTED,
        sources=(Source("https://guides.instructure.com/m/104066/l/1397884-q-student-information-system-solutions-"
                        "integration-overview", "[3p]", "OneRoster 1.1 API; credentials from Q"),
                 visitor_aware("Aequitas Q: API")),
    ),
    SftpProfile(
        name="school-brains", title="School Brains", basis="none public", homepage="https://schoolbrains.com/faq/",
        summary="SIS with no vendor export specification.",
        notes="One public third-party ETL (2016) reads a School Brains sections export by column position (28 "
              "columns, M/d/yyyy dates): not a layout rostersync reads.",
        sources=(Source("find_string \"com.scholarscore.etl.schoolbrains\"", "[code]",
                        "a sections export read by column position"),),
    ),
    _unknown("spire", "Spire"),
    SftpProfile(
        name="sycamore", title="Sycamore (Sycamore School)", basis="integrator docs",
        summary="Sycamore School has a public native REST API and a OneRoster API pilot; public community scripts "
                "build Clever CSV files from the native API, which this connector reads. No SFTP export of "
                "Sycamore itself is public. " + DETECTED,
        notes="The native API (https://app.sycamoreschool.com/api/v1, a personal access token from My Organizer > "
              "Applications) is not read by rostersync.",
        sources=(Source("find_string \"sycamoreschool.com/api\"", "[code]",
                        "native API base and bearer token; scripts that write Clever CSV from it"),
                 visitor_aware("Sycamore School: API, pilot")),
    ),
    SftpProfile(
        name="teacherease", title="TeacherEase (Common Goal Systems)", basis="vendor docs",
        homepage="https://teacherease.com/works-with-any-sis.aspx",
        summary="Not a roster source: TeacherEase imports rosters (OneRoster files by SFTP, or Clever) nightly. This "
                "connector reads the same OneRoster or Clever CSV drop a district sends TeacherEase. Its companion "
                "SIS, SchoolInsight, reaches vendors only through Clever's managed sync. " + DETECTED,
        notes="Through Clever, SchoolInsight cannot send co-teachers and includes inactive teachers by default.",
        sources=(
            Source("https://teacherease.com/works-with-any-sis.aspx", "[doc]", "imports OneRoster or Clever"),
            Source("https://commongoalsystems.zendesk.com/hc/en-us/articles/360023942632", "[doc]",
                   "Import/Export > Scheduled Imports"),
            Source("https://support.clever.com/hc/en-us/articles/206090237-SchoolInsight-Auto-Sync", "[doc]",
                   "SchoolInsight via Clever: no co-teachers; inactive teachers included"),
        ),
    ),
    SftpProfile(
        name="veracross", title="Veracross", basis="integrator docs",
        summary="Independent-school SIS. Integrators list SFTP as one way in, but its file format is not public. "
                + DETECTED,
        notes="Veracross's documented route is its own API v3 (OAuth 2 client credentials with scopes; token "
              "https://accounts.veracross.com/<school route>/oauth/token), which rostersync does not read.",
        sources=(visitor_aware("Veracross: API, SFTP"),
                 Source("find_string \"accounts.veracross.com\"", "[code]", "API v3 token and data addresses"),
                 Source("https://help.gg4l.com/knowledge/veracross", "[3p]", "API v3 credentials and scopes")),
    ),
    _unknown("websmart", "WebSmart"),
    SftpProfile(
        name="wveis", title="WVEIS (West Virginia)", basis="integrator docs",
        summary="West Virginia's state SIS. Vendors have received term-numbered WVEIS roster files; their format is "
                "not public. " + DETECTED,
        notes="WVEIS roster files are numbered by term, and consumers switch to a new term the day before it "
              "starts: keep only the current term's files in the drop folder.",
        sources=(Source("https://support.engrade.com/hc/en-us/articles/215330928-Manage-Current-WVEIS-Rostering-"
                        "Terms", "[3p]", "term-numbered roster files; the current term picked per school"),),
    ),
)
