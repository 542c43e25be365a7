#!/usr/bin/env python3
"""Regenerate the sample district that ships inside the package (core/rostersync/data/sample).

Two schools (an elementary and a middle school) of one district, ~300 students with one or two
guardians each, teachers, an administrator, classes with periods over two semesters, enrollments.
Deterministic: the same file bytes on every run, so the committed bundle only changes on purpose.
usage: scripts/make_sample_district.py [OUTDIR]
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent.parent / "core/rostersync/data/sample")
rnd = random.Random(2026)
GIVEN = ["Ava", "Liam", "Sofia", "Noah", "Mia", "Mateo", "Amara", "Kenji", "Zoe", "Omar", "Chloé", "Ravi",
         "Isla", "Diego", "Leah", "Tariq", "Nora", "Ethan", "Ximena", "Hana", "Lucas", "Priya", "Jonah", "Élise"]
FAMILY = ["García", "Nguyen", "Smith", "Okafor", "Kim", "Haddad", "Johnson", "Rossi", "Patel", "Müller",
          "Brown", "O'Connor", "Silva", "Cohen", "Yamamoto", "Lopez", "Ivanova", "Walker", "Mensah", "Dubois"]
SCHOOLS = [("sch-lincoln", "Lincoln Elementary", "LE", ["KG", "01", "02", "03", "04", "05"]),
           ("sch-roosevelt", "Roosevelt Middle", "RM", ["06", "07", "08"])]
SUBJECTS = ["Math", "English Language Arts", "Science", "Social Studies", "Art", "Music", "Physical Education"]


def write(name: str, header: list[str], rows: list[list[str]]) -> None:
    with (OUT / name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    write("manifest.csv", ["propertyName", "value"], [
        ["manifest.version", "1.0"], ["oneroster.version", "1.1"],
        *[[f"file.{n}", "bulk"] for n in ["academicSessions", "classes", "courses", "enrollments", "orgs", "users"]],
        *[[f"file.{n}", "absent"] for n in ["categories", "classResources", "courseResources", "demographics",
                                            "lineItems", "resources", "results"]],
        ["source.systemName", "Sample SIS"], ["source.systemCode", "sample"]])
    write("orgs.csv", ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"],
          [["dist-maple", "", "", "Maple Valley Unified", "district", "MVU", ""]]
          + [[sid, "", "", name, "school", code, "dist-maple"] for sid, name, code, _ in SCHOOLS])
    write("academicSessions.csv",
          ["sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate", "parentSourcedId",
           "schoolYear"],
          [["sy-2027", "", "", "2026-2027", "schoolYear", "2026-08-17", "2027-06-11", "", "2027"],
           ["term-fall", "", "", "Fall 2026", "semester", "2026-08-17", "2027-01-15", "sy-2027", "2027"],
           ["term-spring", "", "", "Spring 2027", "semester", "2027-01-19", "2027-06-11", "sy-2027", "2027"]])
    courses, classes, users, enrollments = [], [], [], []
    n_enr = 0
    for s_index, (school, _name, code, grades) in enumerate(SCHOOLS):
        teachers = []
        for t in range(9 if s_index == 0 else 8):
            tid = f"{code.lower()}-tch-{t + 1:03d}"
            given, family = rnd.choice(GIVEN), rnd.choice(FAMILY)
            teachers.append(tid)
            users.append([tid, "", "", "true", school, "teacher", f"{given[0].lower()}{family.lower()}{t}", "",
                          given, family, "", f"T{s_index}{t:03d}", f"{tid}@maple.k12.example", "", "", "", "", "",
                          ""])
        users.append([f"{code.lower()}-adm-001", "", "", "true", school, "administrator", f"{code.lower()}.principal",
                      "", rnd.choice(GIVEN), rnd.choice(FAMILY), "", "", f"principal@{code.lower()}.example", "",
                      "", "", "", "", ""])
        for g_index, grade in enumerate(grades):
            for subject in SUBJECTS[:4] if grade not in ("KG", "01") else SUBJECTS[:2]:
                cid = f"crs-{code.lower()}-{grade}-{subject[:4].lower().replace(' ', '')}"
                courses.append([cid, "", "", "sy-2027", f"{subject} {grade}", f"{subject[:3].upper()}{grade}", grade,
                                school, subject, ""])
                for term, period in (("term-fall", g_index % 6 + 1), ("term-spring", (g_index + 2) % 6 + 1)):
                    klass = f"cls-{cid[4:]}-{term[5:]}"
                    classes.append([klass, "", "", f"{subject} {grade} ({term[5:].title()})", grade, cid,
                                    f"{code}-{grade}-{subject[:3].upper()}", "scheduled",
                                    f"Room {100 + g_index * 10 + len(classes) % 7}", school, term, subject, "",
                                    str(period) if subject != "Science" else f"{period},{period + 1}"])
        school_classes = {c[0]: c for c in classes if c[9] == school}
        for i, klass in enumerate(school_classes):
            teacher = teachers[i % len(teachers)]
            enrollments.append([f"enr-{n_enr:05d}", "", "", klass, school, teacher, "teacher", "true", "", ""])
            n_enr += 1
        per_grade = 150 // len(grades) + 1
        student_no = 0
        for grade in grades:
            for _ in range(per_grade):
                if student_no >= 150:
                    break
                student_no += 1
                stu = f"{code.lower()}-stu-{student_no:04d}"
                family = rnd.choice(FAMILY)
                parents = [f"{stu}-g1"] + ([f"{stu}-g2"] if rnd.random() < 0.4 else [])
                sis_no = f"{s_index + 1}{student_no:05d}"
                users.append([stu, "", "", "true", school, "student", f"{stu}", f"{{SIS:{sis_no}}}",
                              rnd.choice(GIVEN), family, rnd.choice(["", "", "Lee", "Marie"]),
                              sis_no, f"{stu}@students.maple.example", "", "",
                              ",".join(parents), grade, "", rnd.choice(["bus 4", "bus 7", "walker"])])
                for k, parent in enumerate(parents):
                    users.append([parent, "", "", "true", school, "parent" if k == 0 else "guardian", f"{parent}",
                                  "", rnd.choice(GIVEN), family, "", "", f"{parent}@family.example",
                                  f"555010{rnd.randrange(1000):04d}", "", stu, "", "", ""])
                for klass, row in school_classes.items():
                    if row[4] == grade:
                        enrollments.append([f"enr-{n_enr:05d}", "", "", klass, school, stu, "student", "false",
                                            "", ""])
                        n_enr += 1
    write("courses.csv", ["sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title", "courseCode",
                          "grades", "orgSourcedId", "subjects", "subjectCodes"], courses)
    write("classes.csv", ["sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId",
                          "classCode", "classType", "location", "schoolSourcedId", "termSourcedIds", "subjects",
                          "subjectCodes", "periods"], classes)
    write("users.csv", ["sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role", "username",
                        "userIds", "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone",
                        "agentSourcedIds", "grades", "password", "metadata.transport"], users)
    write("enrollments.csv", ["sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId",
                              "userSourcedId", "role", "primary", "beginDate", "endDate"], enrollments)


if __name__ == "__main__":
    main()
