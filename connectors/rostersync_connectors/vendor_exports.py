"""SIS whose nightly export is a layout of their own (neither OneRoster nor Clever): read through a column map.

Each profile's ``format`` names the column map (:mod:`rostersync_connectors.column_maps`) that reads
its files; what that map assumes beyond the public facts is written in the map's module.
"""

from __future__ import annotations

from rostersync.connector import Source
from rostersync.profiles import SftpProfile

from rostersync_connectors.column_maps import ASB_WORKS, REALTIME_EDS, TYLER_SIS_DW
from rostersync_connectors.sources import visitor_aware

SCHOOLZILLA = "https://szhelp.renaissance.com/hc/en-us/articles/"
EDS = "https://eds.helpdocs.com/sis/"

VENDOR_EXPORTS = (
    SftpProfile(
        name="tyler-sis", title="Tyler SIS (Tyler Technologies)", basis="integrator docs",
        summary="Tyler SIS writes a nightly data-warehouse extract (DWStudents, DWEnrollment, DWProgServices) to an "
                "SFTP site; this connector reads it through the tyler-sis-dw column map: schools and students, each "
                "student's grade and school from their latest DWEnrollment row by EntryDate. The public layout has "
                "no class, section or term file, so no classes or enrollments arrive from it.",
        notes="All DW files sit in one folder, replaced nightly. DWProgServices (programme participation) is not "
              "imported. Terms are not in the extract.",
        format=TYLER_SIS_DW.name,
        sources=(
            Source(SCHOOLZILLA + "23825822822299-Tyler-SIS", "[3p]",
                   "files pulled nightly from SFTP; DWStudents/DWEnrollment/DWProgServices columns; current grade "
                   "= latest DWEnrollment row by EntryDate"),
            Source(SCHOOLZILLA + "23782508761883-Tyler-Submitting-Your-Supplementary-Tyler-Data-Files", "[3p]",
                   "terms and holidays are sent separately; school ids keep their leading zeros"),
        ),
    ),
    SftpProfile(
        name="realtime", title="Realtime (Realtime Information Technology)", basis="integrator docs",
        summary="Realtime generates a student CSV in the layout the receiving vendor defines and auto-sends it to "
                "the vendor's SFTP each night. This connector reads the realtime-eds column map: the one public "
                "layout (EDS's 27 columns, in order) plus the student's school (SIS_School_id, School_Name). "
                "Configure the district's Realtime auto-send to that layout.",
        setup="Realtime's scheduled auto-send of a student file (the exact menu is not public); the receiver "
              "allows the district's outbound IP address.",
        notes="Columns are positional: a column left out shifts the rest, so a file that does not begin with the "
              "layout's columns in order is refused. Realtime's OneRoster API is a pilot.",
        format=REALTIME_EDS.name,
        sources=(
            Source(EDS + "sis-integration-instructions-for-configuring-with-realtime", "[3p]",
                   "Realtime creates the student file: comma-delimited .csv, header row, fixed column order"),
            Source(EDS + "sis-integration-transfering-the-student-data-file", "[3p]",
                   "nightly auto-send between 00:00 and 02:00; IP allow-listing"),
            visitor_aware("Realtime (New Jersey): API, pilot"),
        ),
    ),
    SftpProfile(
        name="asb-works", title="ASB Works", basis="integrator docs",
        summary="ASB Works (student-body finance and webstore) does not supply rosters: districts send it one "
                "student CSV. This connector reads that same CSV through the asb-works column map (students and "
                "their schools, no classes), from the district's own SFTP folder or a drop box.",
        notes="Districts upload the file to ASB Works by FTPS (explicit TLS), which rostersync does not pull: point "
              "this connector at a copy of the file on SFTP or in a drop box.",
        file_pattern="*.csv", format=ASB_WORKS.name,
        sources=(Source("find_string \"asbworks_acalanes\"", "[code]",
                        "a district's script: one student CSV (School, Student#, ID#, names, address, Grade, Email) "
                        "uploaded to ASB Works by FTPS"),),
    ),
)
