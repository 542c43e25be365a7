"""Tyler SIS: the nightly data-warehouse extract, as a column map (format ``tyler-sis-dw``).

Public (Renaissance Schoolzilla's Tyler SIS articles, a third party's integration notes,
https://szhelp.renaissance.com/hc/en-us/articles/23825822822299-Tyler-SIS): Tyler SIS writes its
data-warehouse extract to an SFTP site nightly, as files named DWStudents, DWEnrollment and
DWProgServices. DWStudents has StudentID, LastName, FirstName, Gender and ELLDescription; DWEnrollment
has Grade and EntryDate, and a student's current grade is their most recent DWEnrollment row by
EntryDate; DWProgServices has Program, Service, StartDate, EndDate, FreeReduced and SpEdStatus.
School ids may have leading zeros (kept: every value is read as text). No class, section or term
file is public: this map gives schools and students only.

Assumed (not public; check a district's extract against it):
- the files are comma-separated with a header row (their extension is not public: any file whose
  name starts with DWStudents/DWEnrollment is read);
- DWEnrollment names the student in ``StudentID`` (as DWStudents does) and the school in ``SchoolID``;
  an optional ``SchoolName`` names the school (else the school is named by its id); the school of a
  student is the one of that same latest row;
- EntryDate is MM/DD/YYYY or YYYY-MM-DD (both read); of two rows with the same date the later line wins;
- ``MiddleName`` and ``Email``, when the extract has them.

Kept out of the roster: ``Gender`` and ``ELLDescription`` go only to the opt-in demographics record
(sex, and extra), never to a student's ``extra``; DWProgServices is not imported (programme
participation: ELL, special education, free or reduced lunch, foster care, homelessness is
sensitive and not part of the roster model). Other DWStudents columns are kept in each student's
``extra``; other DWEnrollment columns are not (they describe one enrollment row, not the student).
"""

from __future__ import annotations

from rostersync.formats import fields as f
from rostersync.formats.column_map import SEX_CODES, ColumnMap, Enrich, Field, FileMap, person, school_of, schools_from

TYLER_SIS_DW = ColumnMap(
    name="tyler-sis-dw",
    title="Tyler SIS data-warehouse extract (DWStudents, DWEnrollment): a column map",
    files=(
        FileMap(
            "students", "DWStudents*", "the students (one row each)", entity="users", role="student",
            fields=(*person("StudentID", "FirstName", "LastName", middle="MiddleName"), Field("email", "Email")),
            demographics=(Field("sex", "Gender", values=SEX_CODES),),
            sensitive=("ELLDescription",),
        ),
        FileMap(
            "enrollment", "DWEnrollment*", "each student's grade and school (the latest row by EntryDate counts)",
            enrich=Enrich(into="students", key="StudentID", match="StudentID", latest="EntryDate",
                          latest_parse=f.us_date),
            fields=(Field("grades", "Grade"), *school_of("SchoolID")),
        ),
    ),
    derive=(schools_from("enrollment", "SchoolID", "SchoolName"),),
    ignore={"DWProgServices*": "programme participation (ELL, special education, free/reduced lunch...) is "
                               "sensitive and not part of the roster"},
    docs=__doc__ or "",
)
