"""OneRoster 1.2 CSV -> the same canonical model as 1.1 (the ``oneroster-1.2-csv`` format).

The files come from the field table (:mod:`~rostersync.formats.oneroster_fields`), which says what
differs from 1.1: users.csv has no ``role``/``orgSourcedIds`` (they live in the new roles.csv, one row
per user and org) and gains ``userMasterIdentifier``, ``preferredGivenName/MiddleName/FamilyName``,
``primaryOrgSourcedId`` and ``pronouns``; early 1.2 exports also carry ``resourceSourcedIds``, kept in
``extra``. New files: roles.csv and userProfiles.csv (stored in their own tables). Some enumerations
accept 1.2's ``ext:`` extension values. Gradebook changes: categories gain ``weight``; lineItems say
``academicSessionSourcedId`` (stored as the grading period) and ``schoolSourcedId``; results gain
``textScore``/``classSourcedId`` and make ``score`` optional.

The bundle reader (:mod:`rostersync.formats.oneroster_bundle`) hands each users batch over with its
users' roles from roles.csv (:class:`UsersWithRoles`); the mapper takes the role, orgs and primary org
from those values as they are, never through CSV text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import attrs

from rostersync import hookimpl
from rostersync.batches import MappedBatch, RawBatch
from rostersync.formats import Format
from rostersync.formats.columnar import EMPTY_REQUIRED
from rostersync.formats.columns import FileSpec, RowProblem, map_rows
from rostersync.formats.oneroster_csv import file_spec, grades_finish, map_file
from rostersync.formats.oneroster_fields import ENTITIES, TABLE, V12

ONEROSTER_12 = "oneroster-1.2-csv"

FILES: dict[str, FileSpec] = {e.name: file_spec(e, V12) for e in ENTITIES if V12 in e.versions}

#: users.csv columns 1.2 moved to roles.csv; a users.csv that has ``role`` keeps both (a hybrid export)
FROM_ROLES = ("role", "orgSourcedIds")

#: users.csv as 1.2 writes it: role and orgs come from roles.csv (stray orgSourcedIds are not ``extra``)
USERS_FROM_ROLES = attrs.evolve(
    FILES["users"], columns=tuple(c for c in FILES["users"].columns if c.name not in FROM_ROLES),
    not_extra=FILES["users"].not_extra | set(FROM_ROLES))

_ROLE = TABLE["users"].field("role").parser(V12)


class HeldRole(NamedTuple):
    """One live row of roles.csv as a user's record needs it."""

    primary: bool
    role: str
    org: str


class UsersWithRoles(Sequence[Any]):
    """The rows of a 1.2 users batch, and each user's roles from roles.csv by sourcedId (primary first,
    then in file order): the bundle reader's join, handed over as values."""

    def __init__(self, rows: Sequence[Any], roles: Mapping[str, Sequence[HeldRole]]) -> None:
        self.rows = rows
        self.roles = roles

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: Any) -> Any:
        return self.rows[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)


def with_roles(held: Mapping[str, Sequence[HeldRole]]) -> Callable[[dict[str, Any]], list[str]]:
    """A finish step giving each user its role (the primary one), orgs (of every role, primary first) and,
    unless users.csv names one, primary org (the primary role's); several roles are listed in ``extra``.
    A delta ``tobedeleted`` row may have no role: it only says "delete this user"."""

    def finish(values: dict[str, Any]) -> list[str]:
        roles = held.get(values["sourced_id"], ())
        deletion = values.get("status") == "tobedeleted"
        orgs = tuple(dict.fromkeys(r.org for r in roles if r.org))
        if not orgs and not deletion:
            raise RowProblem("orgSourcedIds", EMPTY_REQUIRED)
        values["org_sourced_ids"] = orgs
        role = roles[0].role if roles else ""
        if role:
            try:
                values["role"] = _ROLE(role)
            except ValueError as exc:
                raise RowProblem("role", str(exc)) from None
        elif deletion:
            values["role"] = ""
        else:
            raise RowProblem("role", EMPTY_REQUIRED)
        if roles and roles[0].org and not values.get("primary_org_sourced_id"):
            values["primary_org_sourced_id"] = roles[0].org
        if len(roles) > 1:
            listed = "; ".join(f"{'primary' if r.primary else 'secondary'} {r.role}@{r.org}" for r in roles)
            values["extra"] = {**values.get("extra", {}), "roles": listed}
        return grades_finish(values)

    return finish


def map_users(batch: RawBatch) -> MappedBatch:
    """users.csv with the roles the bundle reader joined in, or a users.csv that carries its own role."""
    if isinstance(batch.rows, UsersWithRoles):
        return map_rows(batch, USERS_FROM_ROLES, with_roles(batch.rows.roles))
    return map_rows(batch, FILES["users"], grades_finish)


def map_batch(batch: RawBatch) -> MappedBatch | None:
    if batch.format != ONEROSTER_12 or batch.entity not in FILES:
        return None
    if batch.entity == "users":
        return map_users(batch)
    return map_file(batch, FILES[batch.entity])


@hookimpl
def rostersync_register_formats(register):  # type: ignore[no-untyped-def]
    register(Format(ONEROSTER_12, "OneRoster 1.2 CSV (roles and user profiles folded into users)", map_batch))
