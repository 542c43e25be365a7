"""Column maps: a vendor CSV export that is neither OneRoster nor Clever, described as data.

Some SIS send their own CSV layout (Tyler SIS's data-warehouse extract, Realtime's student file, the
one student file districts send ASB Works). Each is a :class:`ColumnMap`: which files the export has
(by name pattern, any case), which canonical entity each file's rows are, and for each canonical
attribute the column it comes from (or a ``{Column}`` template, or a constant), with its parser, a
value map and whether it is required. On top of that, three things such exports need:

- **enrich**: a file that completes another file's records by key, e.g. Tyler's DWEnrollment gives
  each DWStudents row its grade and school from the student's latest row by EntryDate;
- **derive**: records made from the distinct values of a file, e.g. each School value becomes a
  school org, because these exports have no schools file;
- **demographics** and **sensitive** columns: opt-in demographics from the same file (sex, birth
  date), and columns (ELL status, ethnicity) that only that opt-in record may hold, never ``extra``.

Every other column is kept in the record's ``extra``, like the other formats do. A map is checked
when it is built (a plugin module defining it fails ``rostersync connectors list`` with the reason),
and :func:`column_map_format` turns it into a registered :class:`~rostersync.formats.Format` whose
name the ``format`` setting of file sources (``csv-folder``, ``sftp``...) accepts. Reading and
mapping live in :mod:`.column_map_bundle` and :mod:`.column_map_rows`, imported on first use so that
plugin loading stays light.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from rostersync.formats import BundleReader, Format
from rostersync.formats import fields as f
from rostersync.model import ENTITIES, Record

if TYPE_CHECKING:
    from rostersync.batches import MappedBatch, RawBatch
    from rostersync.bundlefiles import Bundle
    from rostersync.formats.oneroster_bundle import BundlePlan

#: ``{Column}`` in a template; a column name may hold spaces and punctuation (``{Student#}``)
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
#: ``user_ids.<type>``: one entry of a user's ``user_ids`` (e.g. ``user_ids.state_id``)
USER_IDS = "user_ids."
#: the special attribute whose values go through the grade normaliser (CEDS codes, raw value kept)
GRADES = "grades"
#: the only entity a ``role`` or ``demographics`` applies to
USERS = "users"


def placeholders(template: str) -> list[str]:
    return PLACEHOLDER.findall(template)


@attrs.frozen
class Field:
    """One canonical attribute of a record, from exactly one of: ``column`` (a header name, any case),
    ``template`` (``"{FirstName} {LastName}"``: columns filled in, blank when every one is blank) or
    ``value`` (a constant).

    ``values`` maps what the file says to what is stored (keys match in any case, trimmed); a value
    it lacks refuses the row naming the column, unless ``otherwise`` says what to store instead. For
    ``grades`` the map gives aliases (``{"KF": "KG"}``) before the grade normaliser, and what the file
    said is kept in ``grades_raw``. ``fallback`` is a template used when the column is absent from
    the header or blank in a row. ``parse`` gets the (mapped) text; attributes ending in
    ``sourced_id(s)`` default to :func:`~rostersync.formats.fields.ident` (trimmed, leading zeros
    kept). An attribute that is a list (``grades``, ``org_sourced_ids``) gets the one value as a list.
    """

    attr: str
    column: str = ""
    template: str = ""
    value: Any = None
    parse: f.Parser | None = None
    required: bool = False
    values: Mapping[str, str] = attrs.field(factory=dict)
    otherwise: str | None = None
    fallback: str = ""

    def columns(self) -> list[str]:
        """Every header name this field reads."""
        named = [self.column] if self.column else placeholders(self.template)
        return named + placeholders(self.fallback)

    def parser(self) -> f.Parser:
        if self.parse is not None:
            return self.parse
        return f.ident if self.attr.endswith(("sourced_id", "sourced_ids")) else f.text

    @property
    def simple(self) -> bool:
        """Read straight by the shared row mapper: one column, no value map, fallback or normaliser."""
        return bool(self.column) and not self.values and not self.fallback and self.attr != GRADES


@attrs.frozen
class Enrich:
    """This file completes the records of file ``into``: its rows are matched by ``key`` (this file's
    column) to ``match`` (``into``'s column), and its fields are added to the matched record. With
    several rows per key, the row with the latest ``latest`` date wins (ties: the later line); with
    ``latest`` empty, the first row does. Columns of this file that no field names are not kept: they
    describe one row among several, not the record."""

    into: str
    key: str
    match: str
    latest: str = ""
    latest_parse: f.Parser = f.us_date


@attrs.frozen
class Derive:
    """Records of ``entity`` made from the rows of file ``source``: one per distinct ``sourced_id``
    (its first row wins), none from a row where it is blank. E.g. each School value a school org."""

    entity: str
    source: str
    fields: tuple[Field, ...]


@attrs.frozen
class FileMap:
    """One file of the export.

    ``name`` is how the map refers to it (enrich, derive, messages); ``pattern`` finds it in the bundle
    (a glob, any case: ``DWStudents*``); ``purpose`` says what it holds when it is missing. ``entity``
    is the canonical entity of its rows ("" for a file that only enriches another). ``role``: for a
    users file that lists one kind of person (``student``). ``demographics``: fields of each row's
    opt-in demographics record; ``sensitive``: columns only that record may hold (in its ``extra``);
    ``drop``: columns never stored. ``layout``: for a positional export, the columns the header must
    begin with, in order (a skipped field would shift every later one, so a different header is refused).
    """

    name: str
    pattern: str
    purpose: str
    entity: str = ""
    fields: tuple[Field, ...] = ()
    role: str = ""
    demographics: tuple[Field, ...] = ()
    sensitive: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    layout: tuple[str, ...] = ()
    enrich: Enrich | None = None
    required: bool = True

    def matches(self, file_name: str) -> bool:
        return glob_matches(self.pattern, file_name)

    def all_fields(self) -> tuple[Field, ...]:
        """``fields`` plus the constant role of a one-role users file."""
        return (*self.fields, Field("role", value=self.role)) if self.role else self.fields

    def not_extra(self) -> frozenset[str]:
        """Columns that never go to ``extra``: sensitive, dropped, and those demographics read."""
        demographic = [c for field in self.demographics for c in field.columns()]
        return frozenset(c.lower() for c in (*self.sensitive, *self.drop, *demographic))


def glob_matches(pattern: str, file_name: str) -> bool:
    """``*`` and ``?`` wildcards, matched in any case (``DWStudents*`` finds ``dwstudents_0612.CSV``)."""
    import fnmatch

    return fnmatch.fnmatchcase(file_name.lower(), pattern.lower())


@attrs.frozen
class ColumnMap:
    """A vendor export as data. ``name`` is the format name connectors select (``tyler-sis-dw``);
    ``ignore`` maps a file pattern the export has but rostersync does not import to the reason (said
    in a warning); ``docs`` says what the map rests on: what is public and what is assumed."""

    name: str
    title: str
    files: tuple[FileMap, ...]
    derive: tuple[Derive, ...] = ()
    ignore: Mapping[str, str] = attrs.field(factory=dict)
    docs: str = ""

    def __attrs_post_init__(self) -> None:
        problems = list(_problems(self))
        if problems:
            raise ValueError(f"column map {self.name!r}: " + "; ".join(problems))

    def file(self, name: str) -> FileMap:
        return next(fm for fm in self.files if fm.name == name)

    def record_type(self, fm: FileMap) -> type[Record]:
        """The record type a file's fields build (an enrich file's: its target's)."""
        return ENTITIES[self.file(fm.enrich.into).entity if fm.enrich else fm.entity]


# -- checks when a map is built --------------------------------------------------------------------
def required_attrs(record_type: type[Record]) -> set[str]:
    return {a.name for a in attrs.fields(record_type) if a.default is attrs.NOTHING}


def tuple_attrs(record_type: type[Record]) -> set[str]:
    types = attrs.fields_dict(attrs.resolve_types(record_type))
    return {name for name, a in types.items() if typing.get_origin(a.type) is tuple}


def _field_problems(fields: tuple[Field, ...], record_type: type[Record], where: str) -> Iterator[str]:
    known = set(attrs.fields_dict(record_type)) - {"extra"}
    for field in fields:
        sources = sum((bool(field.column), bool(field.template), field.value is not None))
        if sources != 1:
            yield f"{where}: field {field.attr} needs exactly one of column, template or value"
        attr = field.attr
        if attr.startswith(USER_IDS) and record_type is ENTITIES[USERS] and len(attr) > len(USER_IDS):
            continue
        if attr not in known:
            yield f"{where}: {record_type.__name__} has no attribute {attr!r} (it has: {', '.join(sorted(known))})"
        elif attr.endswith("grades_raw"):
            yield f"{where}: grades_raw is filled from grades (map the grade column to grades)"


def _problems(cmap: ColumnMap) -> Iterator[str]:
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9.]+)*", cmap.name):
        yield "the name must be kebab-case (it is what a connector's format setting says)"
    names = [fm.name for fm in cmap.files]
    if len(set(names)) != len(names) or not names:
        yield f"file names must be unique and at least one: {names}"
        return
    by_name = {fm.name: fm for fm in cmap.files}
    outputs: set[tuple[str, str]] = set()
    for fm in cmap.files:
        where = f"file {fm.name}"
        if bool(fm.entity) == bool(fm.enrich):
            yield f"{where}: give an entity or an enrich, not both or neither"
            continue
        if fm.enrich:
            target = by_name.get(fm.enrich.into)
            if target is None or not target.entity:
                yield f"{where}: enriches {fm.enrich.into!r}, which is not a file of this map with an entity"
                continue
            record_type = ENTITIES[target.entity]
            own = {field.attr for field in target.all_fields()}
            if clash := sorted(own & {field.attr for field in fm.fields}):
                yield f"{where}: sets {', '.join(clash)}, which {target.name} sets too"
        elif fm.entity not in ENTITIES:
            yield f"{where}: unknown entity {fm.entity!r} (known: {', '.join(ENTITIES)})"
            continue
        else:
            record_type = ENTITIES[fm.entity]
            outputs.add((fm.entity, fm.name))
            covered = {field.attr for field in fm.all_fields()}
            covered |= {field.attr for other in cmap.files if other.enrich and other.enrich.into == fm.name
                        for field in other.fields}
            if missing := sorted(required_attrs(record_type) - covered):
                yield f"{where}: nothing gives {record_type.__name__}'s required {', '.join(missing)}"
        yield from _field_problems(fm.all_fields(), record_type, where)
        if (fm.role or fm.demographics) and fm.entity != USERS:
            yield f"{where}: role and demographics are for users files"
        if fm.demographics:
            outputs.add(("demographics", fm.name))
            yield from _field_problems(fm.demographics, ENTITIES["demographics"], f"{where} demographics")
            if not any(field.attr == "sourced_id" for field in fm.fields):
                yield f"{where}: demographics are keyed by the file's sourced_id field, which it lacks"
    for derive in cmap.derive:
        where = f"derive {derive.entity} from {derive.source}"
        if derive.source not in by_name:
            yield f"{where}: no file {derive.source!r} in this map"
        elif derive.entity not in ENTITIES:
            yield f"{where}: unknown entity {derive.entity!r}"
        elif (derive.entity, derive.source) in outputs:
            yield f"{where}: {derive.source} already gives {derive.entity}"
        else:
            outputs.add((derive.entity, derive.source))
            record_type = ENTITIES[derive.entity]
            yield from _field_problems(derive.fields, record_type, where)
            if missing := sorted(required_attrs(record_type) - {field.attr for field in derive.fields}):
                yield f"{where}: nothing gives {record_type.__name__}'s required {', '.join(missing)}"


# -- building blocks the maps of SIS exports share ----------------------------------------------------
#: the sex codes SIS exports use, as a value map for a demographics ``sex`` field
SEX_CODES = {"M": "male", "Male": "male", "F": "female", "Female": "female", "X": "other", "U": "unspecified"}


def person(id_column: str, given: str, family: str, middle: str = "", identifier: str = "") -> tuple[Field, ...]:
    """A person's sourcedId (required) and identifier (``identifier``, else the id column), and their
    given and family (required) and middle names."""
    fields = (Field("sourced_id", id_column, required=True), Field("identifier", identifier or id_column),
              Field("given_name", given, required=True), Field("family_name", family, required=True))
    return (*fields, Field("middle_name", middle)) if middle else fields


def school_of(column: str) -> tuple[Field, ...]:
    """The one school of each row (required): its ``org_sourced_ids`` and ``primary_org_sourced_id``."""
    return (Field("org_sourced_ids", column, required=True), Field("primary_org_sourced_id", column, required=True))


def schools_from(source: str, id_column: str, name_column: str = "") -> Derive:
    """School orgs from the distinct values of ``id_column`` of file ``source``, named by
    ``name_column`` where the file has it and is not blank, else by the id."""
    name = (Field("name", name_column, fallback=f"{{{id_column}}}") if name_column
            else Field("name", template=f"{{{id_column}}}"))
    return Derive("orgs", source, (Field("sourced_id", id_column, required=True), name,
                                   Field("identifier", id_column), Field("type", value="school")))


# -- registration ----------------------------------------------------------------------------------
def column_map_format(cmap: ColumnMap) -> Format:
    """The registered format of ``cmap``: its ``map`` maps the raw batches its ``bundle`` reader yields.
    The reading and mapping modules are imported on the first batch, not when plugins load."""

    mappers: list[Any] = []  # the one Mapper of this format, made on the first batch

    def map_batch(batch: RawBatch) -> MappedBatch | None:
        if not mappers:
            from rostersync.formats.column_map_rows import Mapper

            mappers.append(Mapper(cmap))
        return mappers[0].map(batch)

    def plan(bundle: Bundle) -> BundlePlan:
        from rostersync.formats.column_map_bundle import plan_column_map

        return plan_column_map(cmap, bundle)

    def read(bundle: Bundle, plan: BundlePlan, *, demographics: bool) -> Iterator[RawBatch]:
        from rostersync.formats.column_map_bundle import read_column_map

        return read_column_map(cmap, bundle, plan, demographics=demographics)

    return Format(cmap.name, cmap.title, map_batch, bundle=BundleReader(plan, read))
