"""Reading a OneRoster CSV bundle (1.1 or 1.2): the manifest, the required-files check, the files in
dependency order, and for 1.2 the join of roles.csv into users.

manifest.csv says, per file, ``bulk`` (the full state of that entity: what is missing gets deleted on
apply), ``delta`` (only changed rows, ``status`` active/tobedeleted) or ``absent`` (leave the entity
alone). Every problem with the bundle's make-up (manifest missing, a promised file missing, a file the
manifest does not declare) is collected and reported together, naming the manifest line, before a
single row is read: nothing is staged, nothing changes.

OneRoster 1.2 moved users' role and orgs to roles.csv (one row per user and org). The canonical
user needs both, and scoping a run to a school needs the orgs while users are being read, so the
reader joins them in: roles.csv is read first (and staged like any file, into its own table) while
its (user, roleType, role, org) are copied into a private temporary SQLite file indexed by user;
each users batch then looks its users up there, one query per 500 users, and goes to the mapper with
them as values (never re-written as CSV text). Memory stays bounded by a
batch whatever the district's size (a dict of every role would cost ~200 bytes per role, ~400 MB
for a million-student district with guardians), and the lookup is indexed, never a scan.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs

from rostersync.batches import RawBatch
from rostersync.bundlefiles import Bundle, read_csv
from rostersync.errors import DataError, SourceError
from rostersync.formats.oneroster12_csv import ONEROSTER_12, HeldRole, UsersWithRoles
from rostersync.formats.oneroster_csv import ONEROSTER_11
from rostersync.formats.oneroster_fields import ENTITIES, V11, V12, files
from rostersync.issues import Issue

MODES = ("bulk", "delta", "absent")

#: OneRoster CSV data files in reading (dependency) order -> canonical entity, per version. 1.2 reads
#: roles.csv before users.csv (users need it) and userProfiles.csv after.
ONEROSTER_FILES: dict[str, str] = files(V11)
ONEROSTER_12_FILES: dict[str, str] = files(V12)

#: 1.2 files rostersync does not model (yet): read past with a warning, never an error.
NOT_IMPORTED_12 = ("userResources.csv", "scoreScales.csv", "lineItemScoreScales.csv", "resultScoreScales.csv",
                   "lineItemLearningObjectiveIds.csv", "resultLearningObjectiveIds.csv")

#: What each file holds, for messages about missing files.
PURPOSE: dict[str, str] = {
    "manifest.csv": "says which files are bulk, delta or absent; a OneRoster bundle cannot be read without it",
    **{e.file: e.purpose for e in ENTITIES},
}


@attrs.frozen
class PlannedFile:
    name: str  # the spec's spelling
    actual: str  # the bundle's spelling
    entity: str
    mode: str
    manifest_line: int | None = None


@attrs.frozen
class BundlePlan:
    """What a bundle holds and how to read it. ``format`` is the operator-facing name (``clever``,
    ``oneroster-1.1``...); ``wire`` the RawBatch format a mapper dispatches on."""

    format: str
    wire: str
    files: tuple[PlannedFile, ...]
    warnings: tuple[str | Issue, ...] = ()


def bundle_incomplete(problems: Sequence[str], fmt: str, location: str) -> SourceError:
    """One error listing every problem with the bundle's make-up."""
    lines = "\n".join(f"  - {p}" for p in problems)
    return SourceError(f"the {fmt} bundle is incomplete; nothing was imported:\n{lines}", location)


def read_manifest(bundle: Bundle) -> dict[str, tuple[str, int]]:
    """``manifest.csv`` as propertyName -> (value, line)."""
    actual = bundle.find("manifest.csv")
    if actual is None:
        raise bundle_incomplete([f"manifest.csv is missing: it {PURPOSE['manifest.csv']}"], "OneRoster",
                                bundle.location)
    props: dict[str, tuple[str, int]] = {}
    # mode "delta": a manifest is not an entity, so no "header but no rows" warning about it
    for batch in read_csv(bundle, actual, format="manifest", entity="manifest", mode="delta"):
        if batch.errors:
            raise batch.errors[0]
        if tuple(h.lower() for h in batch.header[:2]) != ("propertyname", "value"):
            raise DataError("header must be propertyName,value", "manifest.csv", 1, batch.header[0])
        for line, fields in batch.rows:
            props[fields[0].strip()] = (fields[1].strip(), line)
    return props


#: oneroster.version values rostersync reads -> the format read; 1.0's files are 1.1's, give or take a column
VERSIONS = {"1.0": "oneroster-1.1", "1.1": "oneroster-1.1", "1.2": "oneroster-1.2"}


def read_version(version: str, line: int | None, warnings: list[str | Issue]) -> str:
    """The format a manifest's ``oneroster.version`` means. An errata release (``1.1.1``, ``1.2.1``) is
    its version; anything else rostersync does not know (``7.3``, ``2.0``) is refused before a row is
    read: guessing would map columns by a spec the bundle does not follow. A missing version is 1.1."""
    if not version:
        return "oneroster-1.1"
    major_minor = ".".join(version.split(".")[:2])
    fmt = VERSIONS.get(major_minor) if version.replace(".", "").isdigit() else None
    if fmt is None:
        raise DataError(f"oneroster.version is {version!r}; rostersync reads OneRoster 1.0, 1.1 and 1.2 bundles "
                        f"(check the SIS's export settings)", "manifest.csv", line, "value")
    if major_minor == "1.0":
        warnings.append(Issue(f"oneroster.version is {version}: read as OneRoster 1.1, whose files and columns 1.0 "
                              f"mostly shares; check the result, or export OneRoster 1.1", code="version_1_0",
                              file="manifest.csv", line=line, column="value"))
    return fmt


def plan_oneroster(bundle: Bundle, fmt: str = "auto") -> BundlePlan:
    """Check the manifest against the bundle and say what to read, or raise listing every problem."""
    manifest = read_manifest(bundle)
    problems: list[str] = []
    warnings: list[str | Issue] = []
    version, version_line = manifest.get("oneroster.version", ("", None))
    detected = read_version(version, version_line, warnings)
    if fmt == "auto":
        fmt = detected
    elif version and fmt != detected:
        problems.append(f"manifest.csv:{version_line}:value: oneroster.version is {version} but the connector's "
                        f"format is {fmt} (set format to {detected} or auto)")
    files = ONEROSTER_12_FILES if fmt == "oneroster-1.2" else ONEROSTER_FILES
    wire = ONEROSTER_12 if fmt == "oneroster-1.2" else ONEROSTER_11
    planned: list[PlannedFile] = []
    for name, entity in files.items():
        key = f"file.{name.removesuffix('.csv')}"
        mode, line = manifest.get(key, ("absent", None))
        mode = mode.lower() or "absent"
        where = f"manifest.csv:{line}:value" if line else "manifest.csv"
        actual = bundle.find(name)
        if mode not in MODES:
            problems.append(f"{where}: {key} is {mode!r}; expected one of bulk, delta, absent")
        elif mode != "absent" and actual is None:
            problems.append(f"{where}: manifest.csv declares {key}={mode} but {name} is not in the bundle "
                            f"({name}: {PURPOSE[name]})")
        elif mode == "absent" and actual is not None:
            problems.append(f"{where}: {name} is in the bundle but manifest.csv declares {key}=absent "
                            f"(or omits it); fix the manifest or remove the file")
        else:
            if mode != "absent":
                planned.append(PlannedFile(name, actual or name, entity, mode, line))
    if fmt == "oneroster-1.2":
        modes = {p.entity: p for p in planned}
        if "users" in modes and "roles" not in modes and modes["users"].mode == "bulk":
            problems.append(f"roles.csv is missing (file.roles absent) but users.csv is bulk: roles.csv holds "
                            f"{PURPOSE['roles.csv']}")
        for name in NOT_IMPORTED_12:
            key = f"file.{name.removesuffix('.csv')}"
            mode, _line = manifest.get(key, ("absent", None))
            if mode.lower() not in ("", "absent") and bundle.find(name):
                warnings.append(Issue("not imported (rostersync does not model it yet); the rest of the bundle is",
                                      code="not_imported", file=name))
    if problems:
        raise bundle_incomplete(problems, fmt, bundle.location)
    return BundlePlan(fmt, wire, tuple(planned), tuple(warnings))


def read_oneroster(bundle: Bundle, plan: BundlePlan, *, demographics: bool) -> Iterator[RawBatch]:
    """Every planned file as raw batches, in dependency order; 1.2 users get their roles joined in."""
    with tempfile.TemporaryDirectory(prefix="rostersync-roles-") as tmp:
        roles: RoleIndex | None = None
        try:
            for planned in plan.files:
                if planned.entity == "demographics" and not demographics:
                    continue
                batches = read_csv(bundle, planned.actual, format=plan.wire, entity=planned.entity,
                                   mode=planned.mode)
                if planned.entity == "roles":
                    roles = RoleIndex(Path(tmp) / "roles.db")
                    batches = roles.collect(batches)
                elif planned.entity == "users" and plan.format == "oneroster-1.2":
                    batches = join_roles(batches, roles)
                yield from batches
        finally:
            if roles is not None:
                roles.close()


class RoleIndex:
    """roles.csv's (user, primary?, role, org) in a private SQLite file, indexed by user."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("CREATE TABLE roles (user TEXT, is_primary INTEGER, role TEXT, org TEXT, line INTEGER)")
        self.indexed = False

    def collect(self, batches: Iterator[RawBatch]) -> Iterator[RawBatch]:
        """Pass roles batches through unchanged, copying the live (not tobedeleted) roles aside."""
        for batch in batches:
            index = {h: i for i, h in enumerate(batch.header)}
            cols = [index.get(c) for c in ("userSourcedId", "roleType", "role", "orgSourcedId", "status")]
            if None not in cols[:4]:
                u, t, r, o, s = cols
                self.conn.execute("BEGIN")
                self.conn.executemany(
                    "INSERT INTO roles VALUES (?, ?, ?, ?, ?)",
                    [(row[u].strip(), row[t].strip().lower() == "primary", row[r].strip(), row[o].strip(), line)
                     for line, row in batch.rows if s is None or row[s].strip().lower() != "tobedeleted"],
                )
                self.conn.execute("COMMIT")
            yield batch

    def lookup(self, users: Sequence[str]) -> dict[str, list[HeldRole]]:
        """user -> their roles, primary first, then in file order."""
        if not self.indexed:
            self.conn.execute("CREATE INDEX roles_user ON roles (user, is_primary DESC, line)")
            self.indexed = True
        found: dict[str, list[HeldRole]] = {}
        for start in range(0, len(users), 500):
            chunk = users[start:start + 500]
            sql = (f"SELECT user, is_primary, role, org FROM roles WHERE user IN ({', '.join('?' * len(chunk))}) "
                   f"ORDER BY user, is_primary DESC, line")
            for user, primary, role, org in self.conn.execute(sql, chunk):
                found.setdefault(user, []).append(HeldRole(bool(primary), role, org))
        return found

    def close(self) -> None:
        self.conn.close()


def join_roles(batches: Iterator[RawBatch], roles: RoleIndex | None) -> Iterator[RawBatch]:
    """Hand each 1.2 users batch over with its users' roles from roles.csv (:class:`UsersWithRoles`).

    A users.csv that still carries ``role`` (a hybrid export) is passed through unchanged. A user with
    no role is refused (row error naming the line), except a delta ``tobedeleted`` row, which only
    says "delete this user".
    """
    for batch in batches:
        if "role" in batch.header:
            yield batch
            continue
        index = {h: i for i, h in enumerate(batch.header)}
        sid, status = index.get("sourcedId"), index.get("status")
        if sid is None:
            yield batch  # the mapper reports the missing column
            continue
        found = roles.lookup([row[sid].strip() for _line, row in batch.rows]) if roles else {}
        rows, errors = [], list(batch.errors)
        for line, row in batch.rows:
            if row[sid].strip() in found or (status is not None and row[status].strip().lower() == "tobedeleted"):
                rows.append((line, row))
            else:
                errors.append(DataError(
                    f"user {row[sid].strip()!r} has no role in roles.csv (OneRoster 1.2 keeps each user's role "
                    f"and schools there; a delta must send the roles of every user it sends)",
                    batch.location, line, "sourcedId"))
        yield attrs.evolve(batch, rows=UsersWithRoles(rows, found), errors=errors)
