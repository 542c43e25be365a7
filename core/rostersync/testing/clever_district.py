"""A deterministic synthetic Clever CSV district of any size, for the loopback Clever server, demos and
tests that need many pages.

Every habit of the committed fixture at scale: students with one to three contacts (siblings share a
contact with a Contact_sis_id; others have none, so they are one per student), teachers who co-teach
at another school, staff, sections with courses, terms and up to three teachers, grade names and
aliases. The same ``seed`` writes the same files.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

FIRST = ("Ada", "Ben", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kai", "Lu", "Max", "Nia", "Oz", "Pia")
LAST = ("Adams", "Brown", "Chen", "Diaz", "Evans", "Fox", "Gray", "Hill", "Ito", "Jones", "Kim", "Lee", "Moss")
GRADES = ("Kindergarten", "K", "1", "2", "3", "4", "5", "6", "7", "8")
SUBJECTS = ("Math", "English/Language Arts", "Science", "Social Studies", "Arts and Music", "Homeroom/Advisory")
TERMS = (("Fall 2026", "08/17/2026", "01/15/2027"), ("Spring 2027", "01/19/2027", "06/11/2027"))


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_clever_district(folder: Path, students: int, schools: int = 2, seed: int = 0) -> Path:
    """Write a Clever CSV bundle of ``students`` students over ``schools`` schools into ``folder``."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    school_ids = [f"SCH{n}" for n in range(1, schools + 1)]
    _write(folder / "schools.csv", ["School_id", "School_name", "School_number", "Low_grade", "High_grade"],
           [[s, f"School {n}", str(100 + n), "Kindergarten", "8"] for n, s in enumerate(school_ids, start=1)])
    teachers = [(f"T{n}", school_ids[n % schools]) for n in range(max(2, students // 20))]
    _write(folder / "teachers.csv", ["School_id", "Teacher_id", "Teacher_number", "Teacher_email", "First_name",
                                     "Last_name", "Title", "Username"],
           [[school, tid, f"9{tid[1:]}", f"{tid.lower()}@district.example", rng.choice(FIRST), rng.choice(LAST),
             rng.choice(("Ms.", "Mr.", "Dr.", "")), tid.lower()] for tid, school in teachers])
    _write(folder / "staff.csv", ["School_id", "Staff_id", "Staff_email", "First_name", "Last_name", "Title", "Role"],
           [[s, f"A{n}", f"a{n}@district.example", rng.choice(FIRST), rng.choice(LAST),
             "Aide" if n % 2 else "Principal", "Instructional Aide" if n % 2 else "School Admin"]
            for n, s in enumerate(school_ids, start=1)])
    sections, by_school = [], {s: [] for s in school_ids}
    for n in range(max(4, students // 5)):
        school = school_ids[n % schools]
        mine = [t for t, s in teachers if s == school] or [teachers[0][0]]
        others = [t for t, _ in teachers]
        course = n % 12
        term = TERMS[n % len(TERMS)]
        co = rng.sample(others, k=min(len(others), rng.choice((0, 0, 1, 2))))
        crew = list(dict.fromkeys([rng.choice(mine), *co]))  # a co-teacher may teach at another school
        sid = f"SEC{n}"
        sections.append([school, sid, *[*crew, "", "", ""][:3], f"Course {course} {n}", str(n % 7 + 1),
                         GRADES[course % len(GRADES)], f"Course {course}", f"C{course}", str(n % 7 + 1),
                         SUBJECTS[course % len(SUBJECTS)], *term])
        by_school[school].append(sid)
    _write(folder / "sections.csv", ["School_id", "Section_id", "Teacher_id", "Teacher_2_id", "Teacher_3_id", "Name",
                                     "Section_number", "Grade", "Course_name", "Course_number", "Period", "Subject",
                                     "Term_name", "Term_start", "Term_end"], sections)
    rows, enrollments = [], []
    family = None
    for n in range(students):
        school = school_ids[n % schools]
        student = str(1000 + n)
        if family is None or rng.random() < 0.6:  # a new family, or a sibling of the last one
            family = (f"P{n}", rng.choice(FIRST), rng.choice(LAST))
        base = [school, student, str(5000 + n), family[2], rng.choice(FIRST), rng.choice(GRADES),
                rng.choice("MFX"), f"{rng.randint(1, 12)}/{rng.randint(1, 28)}/{rng.randint(2012, 2020)}",
                f"s{student}@district.example", f"s{student}"]
        contacts = [("Mother", "Parent/Guardian", f"{family[1]} {family[2]}", family[0])]
        for extra in range(rng.choice((0, 0, 1, 2))):  # relatives without an sis id
            contacts.append((rng.choice(("Grandparent", "Aunt/Uncle")), "Emergency",
                             f"{rng.choice(FIRST)} {rng.choice(LAST)}", ""))
            if extra and rng.random() < 0.5:
                contacts.append(("Self", "", "", ""))  # a student named as their own contact: not a guardian
        for relationship, kind, name, sis in contacts:
            rows.append([*base, relationship, kind, name, f"541555{n:04d}"[-10:], sis])
        for section in rng.sample(by_school[school], k=min(5, len(by_school[school]))):
            enrollments.append([school, section, student])
    _write(folder / "students.csv", ["School_id", "Student_id", "Student_number", "Last_name", "First_name", "Grade",
                                     "Gender", "DOB", "Student_email", "Username", "Contact_relationship",
                                     "Contact_type", "Contact_name", "Contact_phone", "Contact_sis_id"], rows)
    _write(folder / "enrollments.csv", ["School_id", "Section_id", "Student_id"], enrollments)
    return folder
