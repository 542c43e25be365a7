"""The JSON fields the loopback server serves, per entity and OneRoster version: derived from the field table.

:mod:`rostersync.formats.oneroster_fields` declares every OneRoster field once, for the readers and for
a server alike: each field's REST key per version, the REST property order, its type on the wire per
version (a 1.1 boolean is JSON ``true``, a 1.2 one the string ``"true"``; 1.1 sends ``periods`` as one
string; 1.2 users carry ``roles[]``) and which properties the binding requires. This module puts that in
the form the server works with: a :class:`Field` per JSON key, naming the CSV columns its value is read
from (the field's own, then the other version's column for the same attribute, so a 1.1 bundle's
``gradingPeriodSourcedId`` is served as 1.2's ``academicSession``) and the GUIDRef type of a reference.

The one thing the table does not say, because only a server does it: a 1.2 line item must name a school,
and one from a 1.1 bundle (which has none) gets its class's school (:data:`DERIVED`).
"""

from __future__ import annotations

import attrs

from rostersync.formats.oneroster_fields import BOOL, BOOL_TEXT, ENTITIES, REF, REFS, TABLE, TEXT, VERSIONS, Entity
from rostersync.formats.oneroster_fields import Field as TableField
from rostersync.testing.oneroster_server.routes import ENVELOPES

#: The wire types of a boolean (1.1: JSON ``true``/``false``; 1.2: the strings ``"true"``/``"false"``).
BOOLEANS = (BOOL, BOOL_TEXT)


@attrs.frozen
class Field:
    """One JSON key of one entity in one version: the CSV columns it is read from (the first one found
    wins), its wire type (``kind``: one of the table's types), whether the binding requires it, the
    GUIDRef type of a reference, and where a blank value comes from instead (:data:`DERIVED`)."""

    key: str
    columns: tuple[str, ...]
    kind: str = TEXT
    required: bool = False
    ref: str = ""  # GUIDRef type for REF/REFS
    derive: tuple[str, str, str] | None = None

    @property
    def column(self) -> str:
        return self.columns[0]


#: (entity, JSON key) -> (entity, column naming its id, key there): what a server sends when the bundle
#: leaves the value blank. 1.2 requires a line item's school; 1.1 line items have none: their class's.
DERIVED = {("line_items", "school"): ("classes", "classSourcedId", "school")}

#: GUIDRef ``type`` -> (service, collection path) its ``href`` points into.
REF_TARGETS = {e.guid_type: (e.service, ENVELOPES[e.name][0]) for e in ENTITIES if e.guid_type and e.service}

#: Entities read from the bundle only to answer nested endpoints (never served as objects): the columns
#: of each link row, (owner, resource).
LINKS = {name: tuple(fd.name for fd in TABLE[name].fields if fd.to) for name in ("class_resources",
                                                                                  "course_resources")}


def _field(entity: Entity, fd: TableField, version: str) -> Field:
    key, kind = str(fd.json_key(version)), fd.json_type(version)
    same = tuple(o.name for o in entity.fields if fd.attr is not None and o.attr == fd.attr and o is not fd)
    ref = str(TABLE[fd.to].guid_type) if fd.to and kind in (REF, REFS) else ""
    return Field(key, (fd.name, *same), kind, version in fd.json_required, ref, DERIVED.get((entity.name, key)))


_FIELDS: dict[tuple[str, str], tuple[Field, ...]] = {
    (e.name, v): tuple(_field(e, fd, v) for fd in e.json_fields(v))
    for v in VERSIONS for e in ENTITIES if e.service and v in e.versions}


def fields(entity: str, version: str) -> tuple[Field, ...]:
    """Every field of ``entity`` in ``version``, in REST order (``sourcedId``/``status``/``dateLastModified`` first)."""
    found = _FIELDS.get((entity, version))
    if found is None:
        raise KeyError(f"the simulator serves no {entity}")
    return found


def served(version: str) -> tuple[str, ...]:
    """The entities the server can serve as objects in ``version``."""
    return tuple(entity for entity, v in _FIELDS if v == version)


#: ``metadata``: not a typed field, but filters may reach into it (``metadata.bus='4'``)
METADATA = Field("metadata", ("",), "metadata")


def by_key(entity: str, version: str) -> dict[str, Field]:
    """The fields of ``entity`` by JSON key, ``metadata`` included: what filter, sort and fields may name."""
    return {**{f.key: f for f in fields(entity, version)}, "metadata": METADATA}
