"""The `identity` block of an ARM request, parsed and validated into a desired state.

ARM accepts `None`, `SystemAssigned`, `UserAssigned` and both (spelled with or without a
space; each provider echoes its own spelling). PUT replaces; PATCH merges
`userAssignedIdentities`, where a `null` value removes that identity (azure-wire.md §4.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azmi.errors import InvalidInput, LimitExceeded
from azmi.ids import ResourceId, parse_resource_id
from azmi.domain.models import UAMI_TYPE

_TYPES = {
    "none": (False, False),
    "systemassigned": (True, False),
    "userassigned": (False, True),
    "systemassigned,userassigned": (True, True),
}


@dataclass(frozen=True)
class IdentityChange:
    system: bool
    user_enabled: bool
    add: tuple[ResourceId, ...]
    remove: tuple[ResourceId, ...]


def parse_identity(block: Any, *, allow_both: bool = True, allow_user: bool = True) -> IdentityChange | None:
    """None if the request carries no identity block; raise InvalidInput when it is malformed."""
    if block is None:
        return None
    if not isinstance(block, dict):
        raise InvalidInput("The 'identity' property must be an object.", code="InvalidRequestContent")
    raw_type = block.get("type")
    if not isinstance(raw_type, str):
        raise InvalidInput("The 'identity.type' property is required.", code="InvalidIdentityType")
    key = raw_type.replace(" ", "").lower()
    if key not in _TYPES or (not allow_both and key == "systemassigned,userassigned") or (
            not allow_user and _TYPES[key][1]):
        raise InvalidInput(
            f"The identity type '{raw_type}' is not supported by this resource type.",
            code="InvalidIdentityType")
    system, user_enabled = _TYPES[key]
    uais = block.get("userAssignedIdentities")
    if uais is not None and not isinstance(uais, dict):
        raise InvalidInput("The 'identity.userAssignedIdentities' property must be an object.",
                           code="InvalidRequestContent")
    uais = uais or {}
    if uais and not user_enabled and any(v is not None for v in uais.values()):
        raise InvalidInput(
            "The identity type must include 'UserAssigned' when 'userAssignedIdentities' is provided.",
            code="InvalidIdentityValues")
    add: list[ResourceId] = []
    remove: list[ResourceId] = []
    seen: set[str] = set()
    for raw_id, value in uais.items():
        if isinstance(raw_id, str) and raw_id.rstrip("/").lower().endswith(
                "/providers/microsoft.managedidentity/identities/default"):
            raise InvalidInput(
                f"'{raw_id}' is a system-assigned identity. A system-assigned identity belongs to its own resource and "
                "cannot be assigned to another one; create a user-assigned identity to share.",
                code="InvalidUserAssignedIdentity")
        rid = parse_resource_id(raw_id, what="user assigned identity id")
        if rid.full_type.lower() != UAMI_TYPE.lower():
            raise InvalidInput(
                f"Property id '{raw_id}' at path 'identity.userAssignedIdentities' is invalid. "
                f"Expect a resource id of type '{UAMI_TYPE}'.", code="LinkedInvalidPropertyId")
        if rid.key in seen:
            continue
        seen.add(rid.key)
        if value is None:
            remove.append(rid)
        elif isinstance(value, dict):
            add.append(rid)
        else:
            raise InvalidInput("Values in 'identity.userAssignedIdentities' must be objects or null.",
                               code="InvalidRequestContent")
    return IdentityChange(system, user_enabled, tuple(add), tuple(remove))


def next_user_assigned(current: list[ResourceId], change: IdentityChange, *, merge: bool,
                       limit: int) -> list[ResourceId]:
    """The user-assigned ids a resource ends with; raise LimitExceeded past `limit`."""
    if not change.user_enabled:
        return []
    result = list(current) if merge else []
    keys = {r.key for r in result}
    for rid in change.add:
        if rid.key not in keys:
            result.append(rid)
            keys.add(rid.key)
    gone = {r.key for r in change.remove}
    result = [r for r in result if r.key not in gone]
    if len(result) > limit:
        raise LimitExceeded(
            f"User Assigned Identities Number '{len(result)}' Assign exceed limit '{limit}' in one request.",
            code="BadRequest")
    return result
