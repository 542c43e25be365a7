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

    _write(folder, HEADERS, rows, HEADERS)
    return folder


def _write(folder: Path, headers: dict[str, list[str]], rows, bulk) -> None:  # type: ignore[no-untyped-def]
    """Each of ``headers``' files with its ``rows(name)``, and a manifest declaring ``bulk`` files."""
    for name, header in headers.items():
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows(name))
    with (folder / "manifest.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["propertyName", "value"])
        writer.writerows([["manifest.version", "1.0"], ["oneroster.version", "1.1"],
                          *[[f"file.{n}", "bulk"] for n in bulk]])


#: Files a full district adds (or rewrites): every file a OneRoster 1.1 bundle can hold.
FULL_HEADERS = {
    "academicSessions": HEADERS["academicSessions"],
    "demographics": ["sourcedId", "status", "dateLastModified", "birthDate", "sex", "americanIndianOrAlaskaNative",
                     "asian", "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander", "white",
                     "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity", "countryOfBirthCode",
                     "stateOfBirthAbbreviation", "cityOfBirth", "publicSchoolResidenceStatus"],
    "categories": ["sourcedId", "status", "dateLastModified", "title"],
    "lineItems": ["sourcedId", "status", "dateLastModified", "title", "description", "assignDate", "dueDate",
                  "classSourcedId", "categorySourcedId", "gradingPeriodSourcedId", "resultValueMin", "resultValueMax"],
    "results": ["sourcedId", "status", "dateLastModified", "lineItemSourcedId", "studentSourcedId", "scoreStatus",
                "score", "scoreDate", "comment"],
    "resources": ["sourcedId", "status", "dateLastModified", "vendorResourceId", "title", "roles", "importance",
                  "vendorId", "applicationId"],
    "classResources": ["sourcedId", "status", "dateLastModified", "title", "classSourcedId", "resourceSourcedId"],
    "courseResources": ["sourcedId", "status", "dateLastModified", "title", "courseSourcedId", "resourceSourcedId"],
}


def write_full_district(folder: Path, students: int, schools: int = 2) -> Path:
    """:func:`write_district` plus everything else a 1.1 bundle can hold: a school year with a term and
    two grading periods, demographics, categories, line items, results and resources, and a few rows
    with their status and dateLastModified filled in (as a delta would), for the API conformance tests."""
    write_district(folder, students, schools)
    classes, courses = max(8, students // 4), schools
    with (folder / "enrollments.csv").open(newline="", encoding="utf-8") as handle:
        enrolled = [(r[3], r[5]) for r in list(csv.reader(handle))[1:] if r[6] == "student"]

    def rows(name: str):  # type: ignore[no-untyped-def]
        if name == "academicSessions":
            yield ["sy", "", "", "2026-2027", "schoolYear", "2026-08-15", "2027-06-10", "", "2027"]
            yield ["t1", "active", "2026-08-01T09:30:00.000Z", "Fall", "term", "2026-08-15", "2026-12-20", "sy", "2027"]
            yield ["gp1", "", "", "Fall Q1", "gradingPeriod", "2026-08-15", "2026-10-15", "t1", "2027"]
            yield ["gp2", "", "", "Fall Q2", "gradingPeriod", "2026-10-16", "2026-12-20", "t1", "2027"]
        elif name == "demographics":
            for st in range(students):
                race = ["true" if st % 7 == k else "false" for k in range(7)]
                yield [f"stu-{st}", "", "", f"2012-0{st % 9 + 1}-1{st % 9}", ("male", "female")[st % 2], *race,
                       "US", "CA", "Fresno", ""]
        elif name == "categories":
            yield from (["cat-hw", "", "", "Homework"], ["cat-test", "", "", "Tests"])
        elif name == "lineItems":
            for c in range(classes):
                for k, cat in enumerate(("cat-hw", "cat-test")):
                    yield [f"li-{c}-{k}", "", "", f"Item {k} of class {c}", "" if k else "Chapter 1",
                           "2026-09-01T08:00:00.000Z", "2026-09-08T23:59:00.000Z", f"cls-{c}", cat, f"gp{k + 1}",
                           "0", "100"]
        elif name == "results":
            for n, (cls, student) in enumerate(enrolled):
                yield [f"res-{n}", "", "", f"li-{cls.removeprefix('cls-')}-{n % 2}", student, "fully graded",
                       f"{50 + n % 50}.5" if n % 3 else str(60 + n % 40), "2026-09-09", "" if n % 4 else "Well done"]
        elif name == "resources":
            yield from (["rsc-1", "", "", "V-1", "Algebra online", "student,teacher", "primary", "vendor-a", "app-1"],
                        ["rsc-2", "", "", "V-2", "", "", "", "", ""],
                        ["rsc-3", "", "", "V-3", "Reader", "student", "secondary", "vendor-b", ""])
        elif name == "classResources":
            yield from ([f"cr-{c}", "", "", "", f"cls-{c}", f"rsc-{c % 3 + 1}"] for c in range(classes))
        elif name == "courseResources":
            yield from ([f"kr-{c}", "", "", "Book", f"crs-{c}", "rsc-1"] for c in range(courses))

    _write(folder, FULL_HEADERS, rows, {**HEADERS, **FULL_HEADERS})
    return folder
