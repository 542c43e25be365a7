"""OneRoster 1.2 CSV -> the same canonical model as 1.1 (the ``oneroster-1.2-csv`` format).

The files come from the field table (:mod:`~rostersync.formats.oneroster_fields`), which says what
differs from 1.1: users.csv has no ``role``/``orgSourcedIds`` (they live in the new roles.csv, one row
per user and org) and gains ``userMasterIdentifier``, ``preferredGivenName/MiddleName/FamilyName``,
``primaryOrgSourcedId`` and ``pronouns``; early 1.2 exports also carry ``resourceSourcedIds``, kept in
``extra``. New files: roles.csv and userProfiles.csv (stored in their own tables). Some enumerations
accept 1.2's ``ext:`` extension values. Gradebook changes: categories gain ``weight``; lineItems say
``academicSessionSourcedId`` (stored as the grading period) and ``schoolSourcedId``; results gain
``textScore``/``classSourcedId`` and make ``score`` optional.

The bundle reader joins roles.csv into each users batch before it reaches this mapper (see
:mod:`rostersync.formats.oneroster_bundle`): it appends ``role`` (the primary role), ``orgSourcedIds``
(the orgs of every active role, primary first) and two private columns read here.
"""

from __future__ import annotations

from typing import Any

import attrs

from rostersync import hookimpl
from rostersync.batches import MappedBatch, RawBatch
from rostersync.formats import Format
from rostersync.formats import fields as f
from rostersync.formats.columns import Column, FileSpec, map_rows
from rostersync.formats.oneroster_csv import file_spec, grades_finish, map_file
from rostersync.formats.oneroster_fields import ENTITIES, V12

ONEROSTER_12 = "oneroster-1.2-csv"

#: private columns the bundle reader appends to users rows (never stored as extra)
PRIMARY_ROLE_ORG = "_primaryRoleOrg"
ALL_ROLES = "_roles"

FILES: dict[str, FileSpec] = {e.name: file_spec(e, V12) for e in ENTITIES if V12 in e.versions}
FILES["users"] = attrs.evolve(FILES["users"], columns=(
    *FILES["users"].columns, Column(PRIMARY_ROLE_ORG, "_primary_role_org", f.ident), Column(ALL_ROLES, "_roles")))


def users_finish(values: dict[str, Any]) -> list[str]:
    """The primary org defaults to the primary role's org; several roles are kept in ``extra``."""
    role_org = values.pop("_primary_role_org", None)
    roles = values.pop("_roles", None)
    if role_org and not values.get("primary_org_sourced_id"):
        values["primary_org_sourced_id"] = role_org
    if roles and ";" in roles:
        values["extra"] = {**values.get("extra", {}), "roles": roles}
    return grades_finish(values)


def map_batch(batch: RawBatch) -> MappedBatch | None:
    if batch.format != ONEROSTER_12 or batch.entity not in FILES:
        return None
    if batch.entity == "users":
        return map_rows(batch, FILES["users"], users_finish)
    return map_file(batch, FILES[batch.entity])


@hookimpl
def rostersync_register_formats(register):  # type: ignore[no-untyped-def]
    register(Format(ONEROSTER_12, "OneRoster 1.2 CSV (roles and user profiles folded into users)", map_batch))
