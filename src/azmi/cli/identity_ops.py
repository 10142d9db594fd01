"""Pure rules of `az <resource> identity assign|remove` and `--assign-identity`.

Follows azure-cli's `assign_identity`/`_remove_identities`:
- `[system]` stands for the system-assigned identity; no list at all means `[system]`.
- A bare name is a user-assigned identity in the command's resource group.
- assign: the new type keeps what the resource has and adds what is asked; PATCH carries only
  the added user-assigned ids (`{}` each), since ARM merges the map.
- remove: ids are compared case-insensitively; asking to remove one that is not attached is an
  error `'<ids>' are not associated with '<name>'`; the type drops to what remains (`None` when
  nothing does) and, while user-assigned ones remain, the removed ids are PATCHed to null.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from azmi.cli.argv import SYSTEM
from azmi.cli.errors import CliError
from azmi.cli.resources import UAMI


@dataclass(frozen=True)
class IdentityRequest:
    system: bool
    user_ids: tuple[str, ...]


def uami_id(ref: str, subscription: str, resource_group: str) -> str:
    """A UAMI reference as given on the command line -> its resource id."""
    if ref.startswith("/"):
        return ref
    return UAMI.resource_id(subscription, resource_group, ref)


def parse_identity_refs(refs: Iterable[str] | None, subscription: str, resource_group: str) -> IdentityRequest:
    values = [r for r in (refs or ()) if r]
    if not values:
        return IdentityRequest(system=True, user_ids=())
    system = any(v.lower() == SYSTEM for v in values)
    ids: list[str] = []
    for v in values:
        if v.lower() == SYSTEM:
            continue
        rid = uami_id(v, subscription, resource_group)
        if rid.lower() not in (i.lower() for i in ids):
            ids.append(rid)
    return IdentityRequest(system=system, user_ids=tuple(ids))


def current_flags(identity: dict[str, Any] | None) -> tuple[bool, bool]:
    """(has system-assigned, has user-assigned) from an identity block's type."""
    kind = str((identity or {}).get("type") or "None").replace(" ", "").lower()
    return "systemassigned" in kind, "userassigned" in kind


def identity_type(system: bool, user: bool, both_spelling: str) -> str:
    if system and user:
        return both_spelling
    if system:
        return "SystemAssigned"
    if user:
        return "UserAssigned"
    return "None"


def create_identity(request: IdentityRequest | None, both_spelling: str) -> dict[str, Any] | None:
    """The identity block of a PUT that creates a resource with `--assign-identity`."""
    if request is None:
        return None
    block: dict[str, Any] = {"type": identity_type(request.system, bool(request.user_ids), both_spelling)}
    if request.user_ids:
        block["userAssignedIdentities"] = {i: {} for i in request.user_ids}
    return block


def assign_patch(current: dict[str, Any] | None, request: IdentityRequest, both_spelling: str) -> dict[str, Any]:
    has_system, has_user = current_flags(current)
    block: dict[str, Any] = {
        "type": identity_type(has_system or request.system, has_user or bool(request.user_ids), both_spelling)}
    if request.user_ids:
        block["userAssignedIdentities"] = {i: {} for i in request.user_ids}
    return {"identity": block}


def remove_patch(current: dict[str, Any] | None, request: IdentityRequest, resource_name: str,
                 both_spelling: str) -> dict[str, Any]:
    has_system, has_user = current_flags(current)
    attached = {k.lower(): k for k in ((current or {}).get("userAssignedIdentities") or {})}
    missing = [i for i in request.user_ids if i.lower() not in attached]
    if missing:
        raise CliError(f"'{','.join(m.lower() for m in missing)}' are not associated with '{resource_name}'")
    removing = {i.lower() for i in request.user_ids}
    remaining_user = has_user and bool(set(attached) - removing)
    remaining_system = has_system and not request.system
    block: dict[str, Any] = {"type": identity_type(remaining_system, remaining_user, both_spelling)}
    if request.user_ids and remaining_user:
        block["userAssignedIdentities"] = {attached[i.lower()]: None for i in request.user_ids}
    return {"identity": block}


def vm_identity_summary(identity: dict[str, Any] | None) -> dict[str, Any]:
    """azure-cli `_construct_identity_info`: what `az vm identity assign` prints."""
    identity = identity or {}
    users = identity.get("userAssignedIdentities") or {}
    return {
        "systemAssignedIdentity": identity.get("principalId") or "",
        "userAssignedIdentities": {k: {"clientId": (v or {}).get("clientId"),
                                       "principalId": (v or {}).get("principalId")}
                                   for k, v in users.items()},
    }


def shown_identity(identity: dict[str, Any] | None) -> dict[str, Any] | None:
    """`identity show`: the block, or nothing when the resource has none."""
    if not identity or str(identity.get("type") or "None").lower() == "none":
        return None
    return identity
