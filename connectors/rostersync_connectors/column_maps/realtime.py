"""Realtime (Realtime Information Technology, New Jersey): the student CSV it auto-sends, as a
column map (format ``realtime-eds``).

Public (EDS's integration guide for Realtime,
https://eds.helpdocs.com/sis/sis-integration-instructions-for-configuring-with-realtime): Realtime
writes a student file in a layout the receiving vendor defines and sends it by SFTP every night;
the one public layout is EDS's: comma-separated, a header row, columns in a fixed order
(Student_Number, State_StudentNumber, First_Name, Middle_Name, Last_Name, DOB, Ethnicity, Gender,
Grade_Level, ClassOf, graduation_year, Name_of_Legal_Parent/Guardian, Father, Mother, Home_Phone,
Mailing_City, Mailing_State, Mailing_Street, Mailing_Zip, City, State, Street, Zip,
StudentPers_guid, Emerg_Contact_1..3), blank fields kept. The file is positional: when a field is
left out every later column shifts (ethnicity lands in gender), so this map refuses a file whose
header does not begin with exactly these columns in this order, naming the first one out of place.

Ours (not public): the EDS student layout has no school column (the stored copy of the guide is cut
off after Emerg_Contact_3), so rostersync's layout adds ``SIS_School_id`` (the name EDS's course file
uses for the school) and optionally ``School_Name`` after those columns; a district sets Realtime's
auto-send to include them. Each distinct SIS_School_id becomes a school org.

Mapping: Student_Number is the student's sourcedId and identifier, State_StudentNumber a
``state_id`` user id, Grade_Level a grade (CEDS, raw kept), Home_Phone the phone. DOB, Gender and
Ethnicity go only to the opt-in demographics record (birth date, sex, and extra). Every other column
(guardian names, addresses, emergency contacts, StudentPers_guid) is kept in the student's ``extra``.
The optional course file (CourseInformation/) is not read.
"""

from __future__ import annotations

from rostersync.formats import fields as f
from rostersync.formats.column_map import SEX_CODES, ColumnMap, Field, FileMap, person, school_of, schools_from

#: EDS's student layout, in order (the public part of it)
EDS_COLUMNS = (
    "Student_Number", "State_StudentNumber", "First_Name", "Middle_Name", "Last_Name", "DOB", "Ethnicity",
    "Gender", "Grade_Level", "ClassOf", "graduation_year", "Name_of_Legal_Parent/Guardian", "Father", "Mother",
    "Home_Phone", "Mailing_City", "Mailing_State", "Mailing_Street", "Mailing_Zip", "City", "State", "Street",
    "Zip", "StudentPers_guid", "Emerg_Contact_1", "Emerg_Contact_2", "Emerg_Contact_3",
)

REALTIME_EDS = ColumnMap(
    name="realtime-eds",
    title="Realtime student CSV in the EDS layout (plus SIS_School_id): a column map",
    files=(
        FileMap(
            "students", "*.csv", "the students (Realtime's auto-sent student file)", entity="users",
            role="student", layout=EDS_COLUMNS,
            fields=(
                *person("Student_Number", "First_Name", "Last_Name", middle="Middle_Name"),
                Field("user_ids.state_id", "State_StudentNumber"),
                Field("grades", "Grade_Level"),
                Field("phone", "Home_Phone"),
                *school_of("SIS_School_id"),
            ),
            demographics=(Field("birth_date", "DOB", parse=f.us_date), Field("sex", "Gender", values=SEX_CODES)),
            sensitive=("Ethnicity",),
        ),
    ),
    derive=(schools_from("students", "SIS_School_id", "School_Name"),),
    docs=__doc__ or "",
)
