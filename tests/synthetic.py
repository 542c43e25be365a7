"""A deterministic synthetic OneRoster 1.1 district of any size, for tests that need a sync to take a
few seconds (killing it mid-way, racing two processes). Same shape as the benchmark bundles."""

from __future__ import annotations

import csv
from pathlib import Path

HEADERS = {
    "orgs": ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"],
    "academicSessions": ["sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate",
                         "parentSourcedId", "schoolYear"],
    "courses": ["sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title", "courseCode", "grades",
                "orgSourcedId", "subjects", "subjectCodes"],
    "classes": ["sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId", "classCode",
                "classType", "location", "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes", "periods"],
    "users": ["sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role", "username", "userIds",
              "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone", "agentSourcedIds",
              "grades", "password"],
    "enrollments": ["sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId", "userSourcedId",
                    "role", "primary", "beginDate", "endDate"],
}


def write_district(folder: Path, students: int, schools: int = 2, family_suffix: str = "") -> Path:
    """Write a bundle: ``students`` students with a parent each, a teacher per 20, 7 classes each."""
    folder.mkdir(parents=True, exist_ok=True)
    classes = max(8, students // 4)
    teachers = max(1, students // 20)

    def school(i: int) -> str:
        return f"sch-{i % schools}"

    def rows(name: str):  # type: ignore[no-untyped-def]
        if name == "orgs":
            yield ["dist", "", "", "District", "district", "D", ""]
            yield from ([f"sch-{s}", "", "", f"School {s}", "school", f"S{s}", "dist"] for s in range(schools))
        elif name == "academicSessions":
            yield ["sy", "", "", "2026-2027", "schoolYear", "2026-08-15", "2027-06-10", "", "2027"]
            yield ["t1", "", "", "Fall", "semester", "2026-08-15", "2026-12-20", "sy", "2027"]
        elif name == "courses":
            yield from ([f"crs-{s}", "", "", "sy", f"Course {s}", f"C{s}", "09", f"sch-{s}", "Math", ""]
                        for s in range(schools))
        elif name == "classes":
            yield from ([f"cls-{c}", "", "", f"Class {c}", "09", f"crs-{c % schools}", f"CC{c}", "scheduled",
                         f"Room {c % 90}", school(c), "t1", "Math", "", str(c % 8 + 1)] for c in range(classes))
        elif name == "users":
            for t in range(teachers):
                yield [f"tch-{t}", "", "", "true", school(t), "teacher", f"t{t}", "", f"T{t}", f"Teach{t}", "", "",
                       "", "", "", "", "", ""]
            for st in range(students):
                yield [f"stu-{st}", "", "", "true", school(st), "student", f"s{st}", "", f"S{st}",
                       f"Dent{st}{family_suffix}", "", f"{100000 + st}", f"s{st}@example.org", "", "", f"par-{st}",
                       "09", ""]
                yield [f"par-{st}", "", "", "true", school(st), "parent", f"p{st}", "", f"P{st}", f"Dent{st}", "",
                       "", "", "", "", f"stu-{st}", "", ""]
        elif name == "enrollments":
            n = 0
            for c in range(classes):
                yield [f"enr-{n}", "", "", f"cls-{c}", school(c), f"tch-{c % teachers}", "teacher", "true", "", ""]
                n += 1
            for st in range(students):
                for k in range(7):
                    c = (st + k * schools) % classes
                    c -= (c - st) % schools  # a class of the student's own school
                    yield [f"enr-{n}", "", "", f"cls-{c % classes}", school(st), f"stu-{st}", "student", "false",
                           "", ""]
                    n += 1

    for name, header in HEADERS.items():
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows(name))
    with (folder / "manifest.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["propertyName", "value"])
        writer.writerows([["manifest.version", "1.0"], ["oneroster.version", "1.1"],
                          *[[f"file.{n}", "bulk"] for n in HEADERS]])
    return folder
