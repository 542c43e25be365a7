"""Every GET endpoint the server answers, per OneRoster version and service, and where each is mounted.

1.1 mounts its three services (rostering, gradebook, resources) on one base path,
``/ims/oneroster/v1p1``; 1.2 gives each its own (``/ims/oneroster/rostering/v1p2``,
``.../gradebook/v1p2``, ``.../resources/v1p2``). :class:`Paths` holds them: a profile imitating a SIS
that mounts elsewhere (ClassLink serves 1.2 under ``/ims/oneroster/v1p1``) passes its own.

The tables (collections here, nested collections in ``nested.tsv``) list the 41 rostering endpoints
of both versions (12 collections, their 12 singletons, 17 nested collections), the gradebook reads
for what a bundle holds (categories, lineItems, results and their nested forms; 1.2 adds
``/classes/{id}/categories``) and the resources reads (1.2 adds ``/users/{id}/resources``): 55
endpoints in 1.1, 57 in 1.2. Not served: 1.2's scoreScales, assessmentLineItems and
assessmentResults (a CSV bundle holds none) and every write (PUT/POST/DELETE).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import attrs

from rostersync.formats.oneroster_fields import GRADEBOOK, RESOURCES, ROSTERING

COLLECTION, SINGLE, NESTED = "collection", "single", "nested"

#: entity -> (collection envelope key, singleton envelope key)
ENVELOPES = {
    "orgs": ("orgs", "org"), "academic_sessions": ("academicSessions", "academicSession"),
    "courses": ("courses", "course"), "classes": ("classes", "class"), "users": ("users", "user"),
    "enrollments": ("enrollments", "enrollment"), "demographics": ("demographics", "demographics"),
    "categories": ("categories", "category"), "line_items": ("lineItems", "lineItem"),
    "results": ("results", "result"), "resources": ("resources", "resource"),
}


@attrs.frozen
class Paths:
    """Where each service is mounted (URL paths without the host)."""

    rostering: str
    gradebook: str
    resources: str

    @classmethod
    def default(cls, version: str, base_path: str | None = None) -> Paths:
        """The spec's paths, or ``base_path`` for rostering (and, in 1.2, the sibling gradebook/resources
        paths when it ends in ``/rostering/v1p2``; otherwise every service shares it)."""
        if version == "1.1":
            base = (base_path or "/ims/oneroster/v1p1").rstrip("/")
            return cls(base, base, base)
        base = (base_path or "/ims/oneroster/rostering/v1p2").rstrip("/")
        if base.endswith("/rostering/v1p2"):
            root = base.removesuffix("/rostering/v1p2")
            return cls(base, f"{root}/gradebook/v1p2", f"{root}/resources/v1p2")
        return cls(base, base, base)

    def of(self, service: str) -> str:
        return {ROSTERING: self.rostering, GRADEBOOK: self.gradebook, RESOURCES: self.resources}[service]


@attrs.frozen
class Route:
    service: str
    pattern: tuple[str, ...]  # segments; "{name}" matches one id
    kind: str  # COLLECTION, SINGLE or NESTED
    name: str  # the collection (COLLECTION/SINGLE) or the relation (NESTED, see relations.NESTED)
    entity: str  # what it returns (its fields and envelope)

    @property
    def path(self) -> str:
        return "/" + "/".join(self.pattern)

    @property
    def envelope(self) -> str:
        return ENVELOPES[self.entity][1 if self.kind == SINGLE else 0]

    def match(self, segments: list[str]) -> list[str] | None:
        if len(segments) != len(self.pattern):
            return None
        ids = []
        for want, got in zip(self.pattern, segments, strict=True):
            if want.startswith("{"):
                ids.append(got)
            elif want != got:
                return None
        return ids


_ENTITY = {"orgs": "orgs", "schools": "orgs", "academicSessions": "academic_sessions",
           "terms": "academic_sessions", "gradingPeriods": "academic_sessions", "courses": "courses",
           "classes": "classes", "users": "users", "students": "users", "teachers": "users",
           "enrollments": "enrollments", "demographics": "demographics", "categories": "categories",
           "lineItems": "line_items", "results": "results", "resources": "resources"}


def _both(service: str, collection: str) -> list[Route]:
    entity = _ENTITY[collection]
    return [Route(service, (collection,), COLLECTION, collection, entity),
            Route(service, (collection, "{sourcedId}"), SINGLE, collection, entity)]


#: (service, collections served with their singletons)
_COLLECTIONS = (
    (ROSTERING, ("academicSessions", "classes", "courses", "demographics", "enrollments", "gradingPeriods", "orgs",
                 "schools", "students", "teachers", "terms", "users")),
    (GRADEBOOK, ("categories", "lineItems", "results")),
    (RESOURCES, ("resources",)),
)


def _routes(version: str) -> tuple[Route, ...]:
    routes = [r for service, names in _COLLECTIONS for name in names for r in _both(service, name)]
    for line in (Path(__file__).parent / "nested.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        service, path, name, entity, *only = line.split("\t")
        if not only or version in only:
            routes.append(Route(service, tuple(path.split("/")), NESTED, name, entity))
    return tuple(routes)


ROUTES: dict[str, tuple[Route, ...]] = {"1.1": _routes("1.1"), "1.2": _routes("1.2")}


def find_route(version: str, paths: Paths, path: str) -> tuple[Route, list[str]] | None:
    """The route serving URL ``path`` and its ids (each path segment percent-decoded)."""
    for route in ROUTES[version]:
        base = paths.of(route.service)
        if not path.startswith(base + "/"):
            continue
        ids = route.match([unquote(s) for s in path[len(base) + 1:].split("/") if s])
        if ids is not None:
            return route, ids
    return None
