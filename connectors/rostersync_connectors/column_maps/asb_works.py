"""ASB Works: the student CSV a district sends it, as a column map (format ``asb-works``).

ASB Works (CSM's student-body finance and web store) is not a roster source: districts send it one
student CSV (by FTPS to ftp.csmcentral.com). A district that lists it as its SIS can point
rostersync at the same file (a local drop or an SFTP copy): students and their schools, no classes.

Public (one district's own export script, found with find_string "asbworks_acalanes"): one file,
named by the district (``asbworks_<district>.csv``), with the columns School, Student#, ID#,
First Name, Middle Name, Last Name, Mailing Address, City, State, Zip Code, Home Phone, Grade, Email.

Assumed (not public): that ``ID#`` is the stable, district-wide student id (the script is an Aeries
district's, where the permanent id is district-wide and the student number is per school), so it
is the sourcedId and ``Student#`` the identifier; that ``School`` identifies the school (a code or
a name: each distinct value becomes a school org named by it); that the file is comma-separated
with a header row. Every column of the file is read by name; other columns (address) go to extra.
"""

from __future__ import annotations

from rostersync.formats.column_map import ColumnMap, Field, FileMap, person, school_of, schools_from

ASB_WORKS = ColumnMap(
    name="asb-works",
    title="The student CSV districts send ASB Works: a column map",
    files=(
        FileMap(
            "students", "*.csv", "the students (the file sent to ASB Works, e.g. asbworks_<district>.csv)",
            entity="users", role="student",
            fields=(
                *person("ID#", "First Name", "Last Name", middle="Middle Name", identifier="Student#"),
                Field("grades", "Grade"),
                Field("email", "Email"),
                Field("phone", "Home Phone"),
                *school_of("School"),
            ),
        ),
    ),
    derive=(schools_from("students", "School"),),
    docs=__doc__ or "",
)
