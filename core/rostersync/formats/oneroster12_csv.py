"""OneRoster 1.2 CSV -> the same canonical model as 1.1 (the ``oneroster-1.2-csv`` format).

What differs from 1.1: users.csv has no ``role``/``orgSourcedIds`` (they live in the new roles.csv,
one row per user and org) and gains ``userMasterIdentifier``, ``preferredGivenName/MiddleName/
FamilyName``, ``primaryOrgSourcedId`` and ``pronouns``; early 1.2 exports also carry
``resourceSourcedIds``, kept in ``extra``. New files: roles.csv and userProfiles.csv (stored in their
own tables). Enumerations accept 1.2's ``ext:`` extension values. Gradebook changes: categories gain
``weight``; lineItems say ``academicSessionSourcedId`` (stored as the grading period) and
``schoolSourcedId``; results gain ``textScore``/``classSourcedId`` and make ``score`` optional.

The bundle reader joins roles.csv into each users batch before it reaches this mapper (see
:mod:`rostersync.formats.oneroster_bundle`): it appends ``role`` (the primary role), ``orgSourcedIds``
(the orgs of every active role, primary first) and two private columns read here.
"""

from __future__ import annotations

from typing import Any

from rostersync import hookimpl
from rostersync.batches import MappedBatch, RawBatch
from rostersync.formats import Format
from rostersync.formats import fields as f
from rostersync.formats.columns import Column, FileSpec, map_rows
from rostersync.formats.oneroster_csv import FILES as FILES_11
from rostersync.formats.oneroster_csv import common_columns, grades_finish, map_file
from rostersync.model import (
    CLASS_TYPES,
    ENROLLMENT_ROLES,
    ORG_TYPES,
    ROLE_TYPES,
    SESSION_TYPES,
    USER_ROLES,
    Role,
    UserProfile,
)

ONEROSTER_12 = "oneroster-1.2-csv"

#: private columns the bundle reader appends to users rows (never stored as extra)
PRIMARY_ROLE_ORG = "_primaryRoleOrg"
ALL_ROLES = "_roles"

_ROLE = f.one_of_ext(*USER_ROLES)


def _users() -> FileSpec:
    return FILES_11["users"].replace(add=(
        Column("role", "role", _ROLE, required=True),
        Column("userMasterIdentifier", "user_master_identifier"),
        Column("preferredGivenName", "preferred_given_name"),
        Column("preferredMiddleName", "preferred_middle_name"),
        Column("preferredFamilyName", "preferred_family_name"),
        Column("primaryOrgSourcedId", "primary_org_sourced_id", f.ident),
        Column("pronouns", "pronouns"),
        Column(PRIMARY_ROLE_ORG, "_primary_role_org", f.ident),
        Column(ALL_ROLES, "_roles"),
    ))


FILES: dict[str, FileSpec] = {
    **FILES_11,
    "orgs": FILES_11["orgs"].replace(add=(Column("type", "type", f.one_of_ext(*ORG_TYPES), required=True),)),
    "academic_sessions": FILES_11["academic_sessions"].replace(
        add=(Column("type", "type", f.one_of_ext(*SESSION_TYPES), required=True),)),
    "classes": FILES_11["classes"].replace(
        add=(Column("classType", "class_type", f.one_of_ext(*CLASS_TYPES), required=True),)),
    "enrollments": FILES_11["enrollments"].replace(
        add=(Column("role", "role", f.one_of_ext(*ENROLLMENT_ROLES), required=True),)),
    "users": _users(),
    "roles": FileSpec(Role, (
        *common_columns(),
        Column("userSourcedId", "user_sourced_id", f.ident, required=True),
        Column("roleType", "role_type", f.one_of(*ROLE_TYPES), required=True),
        Column("role", "role", _ROLE, required=True),
        Column("beginDate", "begin_date", f.date),
        Column("endDate", "end_date", f.date),
        Column("orgSourcedId", "org_sourced_id", f.ident, required=True),
        Column("userProfileSourcedId", "user_profile_sourced_id", f.ident),
    )),
    "user_profiles": FileSpec(UserProfile, (
        *common_columns(),
        Column("userSourcedId", "user_sourced_id", f.ident, required=True),
        Column("profileType", "profile_type", required=True),
        Column("vendorId", "vendor_id", required=True),
        Column("applicationId", "application_id"),
        Column("description", "description"),
        Column("credentialType", "credential_type"),
        Column("username", "username"),
    )),
    "categories": FILES_11["categories"].replace(add=(Column("weight", "weight", f.decimal),)),
    "line_items": FILES_11["line_items"].replace(
        drop=("gradingPeriodSourcedId",),
        add=(
            Column("categorySourcedId", "category_sourced_id", f.ident),
            Column("academicSessionSourcedId", "grading_period_sourced_id", f.ident),
            Column("schoolSourcedId", "school_sourced_id", f.ident),
        ),
    ),
    "results": FILES_11["results"].replace(add=(
        Column("score", "score", f.decimal),
        Column("scoreDate", "score_date", f.date),
        Column("textScore", "text_score"),
        Column("classSourcedId", "class_sourced_id", f.ident),
    )),
}


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
