"""Field rules: a school shapes some values the SIS sends (``[[schools.X.rules]]``), e.g. usernames and
emails made from names, a preferred first name over the legal one, class titles a teacher recognises::

    [[schools.lincoln.rules]]
    field = "users.username"                  # entity.attribute (OneRoster or snake_case name)
    template = "{givenName}.{familyName}"     # {attribute}; for classes also {course.title},
    roles = ["student"]                       #   {school.name}, {teacher.familyName}, {term.title}

    [[schools.lincoln.rules]]
    field = "users.given_name"
    prefer = ["preferredGivenName", "givenName"]   # the first that is not empty

    [[schools.lincoln.rules]]
    field = "classes.title"
    template = "{course.title} P{periods} {teacher.familyName}"

    [[schools.lincoln.rules]]
    field = "classes.location"
    value = "Main campus"                     # a static value

* ``username`` and ``email`` results are lower-cased, folded to ASCII (``Zoë O'Brien`` → ``zoe.obrien``)
  and **unique in the school**: a second ``jane.doe`` becomes ``jane.doe2`` (``jane.doe2@...``). The
  number is stable: a person whose current value is the template's (with or without a number) keeps it,
  and a value someone holds is never given to another in the same run, so nightly syncs do not swap
  accounts when the SIS's order changes.
* The value the SIS sent is kept in the record's ``extra`` as ``rostersync.original.<attribute>`` (and so
  in an export's metadata columns); a blank result leaves the SIS's value.
* Rules apply in the order listed, each seeing the results of those before (an email template may use
  the username a rule made). List values (``periods``) are joined with ``,``; a missing value is blank.

When: after the run's last batch is staged, before the reference checks and the diff, as an update of
the staged rows (only the rows a rule covers are read and rewritten). Class titles need the class's
teacher, whose enrollments come after classes in every format's dependency order, so rules cannot run
as each batch is mapped; on the staged rows they see the whole run. The diff therefore shows their
effect like any change (``sync --dry-run --show``), and a changed rule is an ordinary update.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from rostersync.errors import ConfigError
from rostersync.store.schema import TABLES
from rostersync.store.sqlfiles import q

if TYPE_CHECKING:
    from rostersync.store.base import Store
    from rostersync.store.staging import StagingArea

UNIQUE = ("username", "email")
FIELD = re.compile(r"\{([^{}]+)\}")
#: what a template may reach besides the record's own attributes, per entity
RELATED = {"classes": ("course", "school", "teacher", "term"), "users": ("school",), "courses": ("school",)}
ORIGINAL = "rostersync.original."


def snake(name: str) -> str:
    """``givenName`` -> ``given_name`` (snake_case names are left as they are)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@attrs.frozen
class FieldRule:
    """One rule: the attribute it sets and how (a ``template``, a static ``value``, or ``prefer``: the first
    non-empty of several attributes); ``roles`` limits a users rule to some roles."""

    entity: str
    attr: str
    template: str | None = None
    value: str | None = None
    prefer: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()

    @classmethod
    def parse(cls, table: dict[str, Any], where: str) -> FieldRule:
        unknown = sorted(set(table) - {"field", "template", "value", "prefer", "roles"})
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (a rule has field, and one of "
                              f"template, value, prefer; roles for users)")
        entity, _, name = str(table.get("field", "")).partition(".")
        if entity not in TABLES or not name:
            raise ConfigError(f"{where}: field {table.get('field')!r} must be ENTITY.ATTRIBUTE, e.g. users.username")
        attr = snake(name)
        columns = TABLES[entity].columns
        if attr not in columns or attr in ("sourced_id", "extra") or TABLES[entity].types[attr] is not str \
                or str(attrs.fields_dict(TABLES[entity].record_type)[attr].type).startswith("tuple"):
            raise ConfigError(f"{where}: {entity} has no text attribute {name!r} a rule may set")
        ways = [k for k in ("template", "value", "prefer") if k in table]
        if len(ways) != 1:
            raise ConfigError(f"{where}: give exactly one of template, value or prefer")
        roles = table.get("roles", [])
        if roles and entity != "users":
            raise ConfigError(f"{where}: roles limit users rules only")
        rule = cls(entity, attr, table.get("template"), table.get("value"), tuple(table.get("prefer", ())),
                   tuple(roles))
        for ref in rule.references():
            head, _, rest = ref.partition(".")
            if rest and head in RELATED.get(entity, ()):
                continue
            if snake(ref) not in columns and not ref.startswith("metadata."):
                raise ConfigError(f"{where}: {ref!r} is not an attribute of {entity}"
                                  + (f" (or of {', '.join(RELATED[entity])})" if entity in RELATED else ""))
        return rule

    def references(self) -> list[str]:
        """The names the rule reads (template fields, or the preferred attributes)."""
        if self.template is not None:
            return FIELD.findall(self.template)
        return list(self.prefer)

    def describe(self) -> str:
        how = (f"template {self.template!r}" if self.template is not None else f"value {self.value!r}"
               if self.value is not None else f"first of {', '.join(self.prefer)}")
        return f"{self.entity}.{self.attr} = {how}" + (f" (roles {', '.join(self.roles)})" if self.roles else "")


def fold(text: str, email: bool = False) -> str:
    """Lower-case ASCII for a username or an email's local part: accents dropped, spaces and punctuation
    other than ``.``, ``_``, ``-`` (and ``+`` in an email) removed, dots not doubled nor at the ends."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    allowed = r"[^a-z0-9._\-+]" if email else r"[^a-z0-9._\-]"
    return re.sub(r"\.{2,}", ".", re.sub(allowed, "", plain)).strip(".")


def apply_rules(rules: Sequence[FieldRule], staging: StagingArea, store: Store | None, school: str) -> int:
    """Apply ``rules`` to the staged rows; returns how many values they changed."""
    changed = 0
    for rule in rules:
        if rule.entity in staging._modes:
            changed += _apply(rule, staging, store, school)
    return changed


def _apply(rule: FieldRule, staging: StagingArea, store: Store | None, school: str) -> int:
    conn = staging.conn
    cols = TABLES[rule.entity].columns
    t = q(rule.entity)
    where = " AND role IN (SELECT value FROM json_each(?))" if rule.roles else ""
    params = [json.dumps(list(rule.roles))] if rule.roles else []
    related = _Related(conn, staging, rule)
    claims = _Claims(conn, store, school, rule) if rule.attr in UNIQUE else None
    changed = 0
    for chunk in _chunks(conn, t, cols, where, params):
        updates = []
        for rowid, *values in chunk:
            record = dict(zip(cols, values, strict=True))
            current = record[rule.attr]
            new = _value(rule, record, related)
            if claims is not None and new:
                new = claims.claim(new, record["sourced_id"])
            if not new or new == current:
                continue
            extra = json.loads(record["extra"]) if record["extra"] else {}
            if current is not None and f"{ORIGINAL}{rule.attr}" not in extra:
                extra[f"{ORIGINAL}{rule.attr}"] = current
            updates.append((new, json.dumps(extra, ensure_ascii=False, sort_keys=True) if extra else None, rowid))
        if updates:
            conn.execute("BEGIN")
            conn.executemany(f"UPDATE {t} SET {q(rule.attr)} = ?, extra = ? WHERE rowid = ?", updates)
            conn.execute("COMMIT")
            changed += len(updates)
    return changed


#: rows a rule reads and rewrites at a time (memory stays bounded whatever the district's size)
CHUNK = 5000


def _chunks(conn: sqlite3.Connection, table: str, cols: Sequence[str], where: str,
            params: list[Any]) -> Iterator[list[tuple[Any, ...]]]:
    """The staged rows a rule covers, in sourcedId order, a chunk at a time (keyset paging on the unique
    sourcedId index, so rewriting a chunk never disturbs the reading of the next)."""
    after = ""
    while True:
        chunk = conn.execute(f"SELECT rowid, {', '.join(map(q, cols))} FROM {table} WHERE _deleted = 0{where} "
                             f"AND sourced_id > ? ORDER BY sourced_id LIMIT {CHUNK}", [*params, after]).fetchall()
        if not chunk:
            return
        yield chunk
        after = chunk[-1][1]


def _text(value: Any, column: str | None = None) -> str:
    """A stored value as a template shows it (a JSON list joined with ``,``; NULL blank)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith("[") and column and column in _LISTS:
        return ",".join(json.loads(value))
    return str(value)


_LISTS = {c for spec in TABLES.values() for c in spec.columns
          if str(attrs.fields_dict(spec.record_type)[c].type).startswith("tuple")}


def _lookup(record: dict[str, Any], name: str) -> str:
    if name.startswith("metadata.") or (name not in record and snake(name) not in record):
        extra = json.loads(record["extra"]) if record.get("extra") else {}
        return str(extra.get(name, ""))
    column = name if name in record else snake(name)
    return _text(record[column], column)


def _value(rule: FieldRule, record: dict[str, Any], related: _Related) -> str:
    """The rule's result for one row ("" to leave the row's value as it is)."""
    if rule.value is not None:
        return rule.value
    if rule.prefer:
        return next((v for v in (_lookup(record, p) for p in rule.prefer) if v.strip()), "")

    def field(match: re.Match[str]) -> str:
        head, _, rest = match[1].partition(".")
        if rest and head in RELATED.get(rule.entity, ()):
            other = related.get(head, record)
            return _lookup(other, rest) if other else ""
        return _lookup(record, match[1])

    if not any(field(m).strip() for m in FIELD.finditer(rule.template or "")):
        return ""  # every field blank: the SIS's value stands
    text = " ".join(FIELD.sub(field, rule.template or "").split())
    if rule.attr == "username":
        return fold(text)
    if rule.attr == "email":
        local, at, domain = text.rpartition("@")
        return f"{fold(local, email=True)}@{domain.strip().lower()}" if at else fold(text, email=True)
    return text


class _Related:
    """The rows a template reaches from a record (its course, school, teacher, term), read from this run's
    staging once per rule, only for the names the template uses."""

    def __init__(self, conn: sqlite3.Connection, staging: StagingArea, rule: FieldRule) -> None:
        self.conn, self.staging = conn, staging
        self.wanted = {r.partition(".")[0] for r in rule.references() if "." in r}
        self.tables: dict[str, dict[str, dict[str, Any]]] = {}
        self.teachers: dict[str, dict[str, Any]] | None = None

    def _rows(self, entity: str) -> dict[str, dict[str, Any]]:
        if entity not in self.tables:
            found: dict[str, dict[str, Any]] = {}
            if entity in self.staging._modes:
                cols = TABLES[entity].columns
                for values in self.conn.execute(f"SELECT {', '.join(map(q, cols))} FROM {q(entity)} WHERE _deleted=0"):
                    found[values[0]] = dict(zip(cols, values, strict=True))
            self.tables[entity] = found
        return self.tables[entity]

    def get(self, name: str, record: dict[str, Any]) -> dict[str, Any] | None:
        if name not in self.wanted:
            return None
        if name == "course":
            return self._rows("courses").get(record.get("course_sourced_id") or "")
        if name == "school":
            org = (record.get("school_sourced_id") or record.get("org_sourced_id")
                   or record.get("primary_org_sourced_id"))
            if not org and record.get("org_sourced_ids"):
                org = json.loads(record["org_sourced_ids"])[0]
            return self._rows("orgs").get(org or "")
        if name == "term":
            terms = json.loads(record["term_sourced_ids"]) if record.get("term_sourced_ids") else []
            return self._rows("academic_sessions").get(terms[0]) if terms else None
        return self._teacher(record["sourced_id"])

    def _teacher(self, class_id: str) -> dict[str, Any] | None:
        """A class's teacher: its primary teacher enrollment's user (else the first teacher by enrollment id)."""
        if self.teachers is None:
            self.teachers = {}
            if {"enrollments", "users"} <= self.staging._modes.keys():
                cols = TABLES["users"].columns
                sql = (f"SELECT e.class_sourced_id, {', '.join('u.' + q(c) for c in cols)} FROM enrollments e "
                       f"JOIN users u ON u.sourced_id = e.user_sourced_id AND u._deleted = 0 "
                       f"WHERE e._deleted = 0 AND e.role = 'teacher' "
                       f"ORDER BY e.class_sourced_id, coalesce(e.\"primary\", 0) DESC, e.sourced_id")
                for class_id_, *values in self.conn.execute(sql):
                    self.teachers.setdefault(class_id_, dict(zip(cols, values, strict=True)))
        return self.teachers.get(class_id)


class _Claims:
    """The usernames (or emails) taken in the school, in a table of the staging file: the live roster's
    (every source) first, then those this run gives out."""

    def __init__(self, conn: sqlite3.Connection, store: Store | None, school: str, rule: FieldRule) -> None:
        self.conn = conn
        self.email = rule.attr == "email"
        table = f"_claims_{rule.attr}"
        self.table = table
        conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (value TEXT PRIMARY KEY, owner TEXT) WITHOUT ROWID")
        conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_owner ON {table} (owner)")
        if store is not None:
            conn.execute("BEGIN")
            conn.executemany(f"INSERT OR IGNORE INTO {table} VALUES (lower(?), ?)", self._live(store, school, rule))
            conn.execute("COMMIT")

    @staticmethod
    def _live(store: Store, school: str, rule: FieldRule) -> Iterator[tuple[str, str]]:
        for sid, value in store.live_rows(school, "users", ["sourced_id", rule.attr]):
            if value:
                yield value, sid

    def claim(self, base: str, owner: str) -> str:
        """``base``, or ``base`` numbered, unique in the school; the owner's current one when it fits."""
        local, at, domain = base.rpartition("@") if self.email else (base, "", "")
        shape = re.compile(rf"^{re.escape(local)}(\d*){re.escape(at + domain)}$")
        mine = [v for (v,) in self.conn.execute(f"SELECT value FROM {self.table} WHERE owner = ?", [owner])]
        fitting = sorted((v for v in mine if shape.match(v)), key=len)
        if fitting:
            return fitting[0]
        n, candidate = 1, base
        while (holder := self.conn.execute(f"SELECT owner FROM {self.table} WHERE value = ?",
                                           [candidate]).fetchone()) and holder[0] != owner:
            n += 1
            candidate = f"{local}{n}{at}{domain}"
        self.conn.execute(f"INSERT OR REPLACE INTO {self.table} VALUES (?, ?)", [candidate, owner])
        return candidate
