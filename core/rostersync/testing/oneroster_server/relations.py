"""Which objects an endpoint returns: the collections' subsets and the nested endpoints' relations.

Each function takes the :class:`~.data.RosterData` and the path's ids and returns the objects in
bundle order, or raises 404 ``unknownobject`` when a parent id is unknown (or is not what the path
says it is: ``/schools/{id}`` is an org of type school, ``/terms/{id}`` an academicSession of type
term, ``/students/{id}`` a user whose role is student).

The relations, as the bindings define the nested endpoints:

* students/teachers **of a class**: the users of its enrollments with role student/teacher;
* classes **of a user** (``/users``, ``/students``, ``/teachers``): the classes of the user's enrollments;
* classes/courses/enrollments **of a school**: ``school`` (classes, enrollments) or ``org`` (courses) is it;
* students/teachers **of a school**: users with that role whose orgs (1.2: roles' orgs) include it;
* terms **of a school**: the terms its classes are taught in; classes **of a term**: classes listing it;
* grading periods **of a term**: grading periods whose parent it is;
* results **of a class**: results of its line items; categories of a class: its line items' categories;
* resources of a class/course: the classResources/courseResources files' links (a bundle holds no
  user resources, so ``/users/{id}/resources`` is empty for a known user).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rostersync.testing.oneroster_server.data import RosterData
from rostersync.testing.oneroster_server.errors import unknown

Obj = dict[str, Any]


def ref_id(value: Any) -> str:
    return str(value.get("sourcedId", "")).strip() if isinstance(value, dict) else str(value or "").strip()


def role_of(user: Obj) -> str | None:
    """A user's role: 1.1 ``role``, or the primary role of 1.2 ``roles[]``."""
    if "roles" in user and isinstance(user["roles"], list):
        return next((r.get("role") for r in user["roles"] if r.get("roleType") == "primary"), None)
    return user.get("role")


def orgs_of(user: Obj) -> set[str]:
    refs = [r.get("org") for r in user.get("roles") or [] if isinstance(r, dict)] + list(user.get("orgs") or [])
    return {ref_id(r) for r in refs}


def is_type(kind: str) -> Callable[[Obj], bool]:
    return lambda o: o.get("type") == kind


def has_role(role: str) -> Callable[[Obj], bool]:
    return lambda o: role_of(o) == role


#: collection path -> (entity, the subset it holds or None for all)
COLLECTIONS: dict[str, tuple[str, Callable[[Obj], bool] | None]] = {
    "orgs": ("orgs", None), "schools": ("orgs", is_type("school")),
    "academicSessions": ("academic_sessions", None), "terms": ("academic_sessions", is_type("term")),
    "gradingPeriods": ("academic_sessions", is_type("gradingPeriod")),
    "courses": ("courses", None), "classes": ("classes", None), "users": ("users", None),
    "students": ("users", has_role("student")), "teachers": ("users", has_role("teacher")),
    "enrollments": ("enrollments", None), "demographics": ("demographics", None),
    "categories": ("categories", None), "lineItems": ("line_items", None), "results": ("results", None),
    "resources": ("resources", None),
}


def everything(data: RosterData, collection: str) -> list[Obj]:
    entity, subset = COLLECTIONS[collection]
    items = data.objects.get(entity, [])
    return [o for o in items if subset(o)] if subset else items


def one(data: RosterData, collection: str, sourced_id: str) -> Obj:
    entity, subset = COLLECTIONS[collection]
    obj = data.find(entity, sourced_id)
    if obj is None or (subset and not subset(obj)):
        raise unknown(f"no {collection} object has sourcedId {sourced_id!r}")
    return obj


def _where(items: list[Obj], key: str, sourced_id: str) -> list[Obj]:
    return [o for o in items if any(ref_id(r) == sourced_id for r in _as_list(o.get(key)))]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _enrolled(data: RosterData, class_id: str, role: str, school: str | None = None) -> list[Obj]:
    users = {ref_id(e.get("user")) for e in _where(data.objects.get("enrollments", []), "class", class_id)
             if e.get("role") == role and (school is None or ref_id(e.get("school")) == school)}
    return [u for u in data.objects.get("users", []) if u["sourcedId"] in users]


def _class_in_school(data: RosterData, school: str, class_id: str) -> Obj:
    one(data, "schools", school)
    cls = one(data, "classes", class_id)
    if ref_id(cls.get("school")) != school:
        raise unknown(f"class {class_id!r} is not a class of school {school!r}")
    return cls


def classes_of_user(data: RosterData, collection: str, user_id: str) -> list[Obj]:
    one(data, collection, user_id)
    ids = {ref_id(e.get("class")) for e in _where(data.objects.get("enrollments", []), "user", user_id)}
    return [c for c in data.objects.get("classes", []) if c["sourcedId"] in ids]


def school_users(data: RosterData, school: str, role: str) -> list[Obj]:
    one(data, "schools", school)
    return [u for u in data.objects.get("users", []) if role_of(u) == role and school in orgs_of(u)]


def school_terms(data: RosterData, school: str) -> list[Obj]:
    one(data, "schools", school)
    used = {ref_id(t) for c in _where(data.objects.get("classes", []), "school", school) for t in c.get("terms") or []}
    return [t for t in everything(data, "terms") if t["sourcedId"] in used]


def class_results(data: RosterData, class_id: str, line_item: str | None = None,
                  student: str | None = None) -> list[Obj]:
    one(data, "classes", class_id)
    items = {li["sourcedId"] for li in _where(data.objects.get("line_items", []), "class", class_id)}
    if line_item is not None:
        if line_item not in items:
            raise unknown(f"line item {line_item!r} is not a line item of class {class_id!r}")
        items = {line_item}
    if student is not None:
        one(data, "users", student)
    return [r for r in data.objects.get("results", []) if ref_id(r.get("lineItem")) in items
            and (student is None or ref_id(r.get("student")) == student)]


def class_categories(data: RosterData, class_id: str) -> list[Obj]:
    one(data, "classes", class_id)
    used = {ref_id(li.get("category")) for li in _where(data.objects.get("line_items", []), "class", class_id)}
    return [c for c in data.objects.get("categories", []) if c["sourcedId"] in used]


def linked_resources(data: RosterData, links: str, parent: str, owner: str) -> list[Obj]:
    one(data, parent, owner)
    ids = {resource for who, resource in data.links.get(links, []) if who == owner}
    return [r for r in data.objects.get("resources", []) if r["sourcedId"] in ids]


def nested(kind: str, data: RosterData, ids: list[str]) -> list[Obj]:
    """The objects of nested endpoint ``kind`` (a key of :data:`NESTED`) for the path's ``ids``."""
    return NESTED[kind](data, *ids)


NESTED: dict[str, Callable[..., list[Obj]]] = {
    "school.classes": lambda d, s: (one(d, "schools", s), _where(d.objects.get("classes", []), "school", s))[1],
    "school.courses": lambda d, s: (one(d, "schools", s), _where(d.objects.get("courses", []), "org", s))[1],
    "school.enrollments": lambda d, s: (one(d, "schools", s),
                                        _where(d.objects.get("enrollments", []), "school", s))[1],
    "school.students": lambda d, s: school_users(d, s, "student"),
    "school.teachers": lambda d, s: school_users(d, s, "teacher"),
    "school.terms": school_terms,
    "school.class.enrollments": lambda d, s, c: (_class_in_school(d, s, c), [
        e for e in _where(d.objects.get("enrollments", []), "class", c) if ref_id(e.get("school")) == s])[1],
    "school.class.students": lambda d, s, c: (_class_in_school(d, s, c), _enrolled(d, c, "student", s))[1],
    "school.class.teachers": lambda d, s, c: (_class_in_school(d, s, c), _enrolled(d, c, "teacher", s))[1],
    "class.students": lambda d, c: (one(d, "classes", c), _enrolled(d, c, "student"))[1],
    "class.teachers": lambda d, c: (one(d, "classes", c), _enrolled(d, c, "teacher"))[1],
    "course.classes": lambda d, c: (one(d, "courses", c), _where(d.objects.get("classes", []), "course", c))[1],
    "term.classes": lambda d, t: (one(d, "terms", t), _where(d.objects.get("classes", []), "terms", t))[1],
    "term.gradingPeriods": lambda d, t: (one(d, "terms", t), _where(everything(d, "gradingPeriods"), "parent", t))[1],
    "user.classes": lambda d, u: classes_of_user(d, "users", u),
    "student.classes": lambda d, u: classes_of_user(d, "students", u),
    "teacher.classes": lambda d, u: classes_of_user(d, "teachers", u),
    "class.lineItems": lambda d, c: (one(d, "classes", c), _where(d.objects.get("line_items", []), "class", c))[1],
    "class.results": class_results,
    "class.lineItem.results": lambda d, c, li: class_results(d, c, line_item=li),
    "class.student.results": lambda d, c, s: class_results(d, c, student=s),
    "class.categories": class_categories,
    "class.resources": lambda d, c: linked_resources(d, "class_resources", "classes", c),
    "course.resources": lambda d, c: linked_resources(d, "course_resources", "courses", c),
    "user.resources": lambda d, u: (one(d, "users", u), [])[1],
}
