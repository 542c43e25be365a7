"""The relaxed payload forms real servers send, applied to a spec-exact object when a behaviour asks.

* ``nulls``: every field of the entity without a value is sent as ``null`` (empty lists as ``[]``),
  and so are ``status``/``dateLastModified`` of objects whose bundle row left them blank;
* ``json_booleans`` (1.2) / ``string_booleans`` (1.1): booleans in the other version's typing;
* ``bare_refs``: GUIDRefs reduced to ``{"sourcedId": ...}``;
* ``id_whitespace``: every ``sourcedId`` padded with two spaces (a fixed-width export column);
* ``department_orgs``: schools sent as orgs of type ``department`` (some Rediker tenants);
* ``norwegian_roles``: guardians' role sent as ``ext:primaryGuardian`` (the Norwegian 1.2 profile).
"""

from __future__ import annotations

from typing import Any

from rostersync.formats.oneroster_fields import LIST, REFS, USER_IDS
from rostersync.testing.oneroster_server.behaviour import Behaviour
from rostersync.testing.oneroster_server.fields import BOOLEANS, Field

NORWEGIAN_GUARDIAN = "ext:primaryGuardian"


def relax(obj: dict[str, Any], fields: tuple[Field, ...], behaviour: Behaviour, *, defaulted: bool,
          entity: str = "") -> dict[str, Any]:
    """``obj`` (of ``entity``) as a server with ``behaviour``'s payload habits would send it (a new object)."""
    b = behaviour
    out = dict(obj)
    if b.department_orgs and entity == "orgs" and out.get("type") == "school":
        out["type"] = "department"
    if b.norwegian_roles and entity == "users":
        out = _norwegian(out)
    if b.nulls:
        for field in fields:
            if field.key not in out:
                out[field.key] = [] if field.kind in (LIST, REFS, USER_IDS) else None
        if defaulted:
            out["status"] = out["dateLastModified"] = None
    for field in fields:
        value = out.get(field.key)
        if field.kind in BOOLEANS and value is not None:
            if b.json_booleans and isinstance(value, str) and value in ("true", "false"):
                out[field.key] = value == "true"
            elif b.string_booleans and isinstance(value, bool):
                out[field.key] = "true" if value else "false"
    if b.bare_refs or b.id_whitespace:
        out = _refs(out, b.bare_refs, b.id_whitespace)
    return out


def _refs(value: Any, bare: bool, pad: bool) -> Any:
    if isinstance(value, list):
        return [_refs(v, bare, pad) for v in value]
    if not isinstance(value, dict):
        return value
    if bare and "href" in value and "sourcedId" in value:
        value = {"sourcedId": value["sourcedId"]}
    out = {k: _refs(v, bare, pad) for k, v in value.items()}
    if pad and isinstance(out.get("sourcedId"), str):
        out["sourcedId"] += "  "
    return out


def _norwegian(user: dict[str, Any]) -> dict[str, Any]:
    """A user as the Norwegian 1.2 profile's servers send guardians: role ``ext:primaryGuardian``."""
    def role(value: Any) -> Any:
        return NORWEGIAN_GUARDIAN if value == "guardian" else value

    out = dict(user)
    if "role" in out:
        out["role"] = role(out["role"])
    if isinstance(out.get("roles"), list):
        out["roles"] = [{**r, "role": role(r.get("role"))} if isinstance(r, dict) else r for r in out["roles"]]
    return out
