"""Key Vault authorization models, pure: access policies and the operation -> permission map.

A vault uses either RBAC (`enableRbacAuthorization: true`, data actions) or access policies
(per object id, per-kind permission lists); never both (azure-wire.md §6.1, mapping from
Microsoft's access-policy-to-RBAC table).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azmi.errors import InvalidInput
from azmi.ids import is_guid

SECRET_PERMISSIONS = ("get", "list", "set", "delete", "backup", "restore", "recover", "purge")
KEY_PERMISSIONS = ("get", "list", "update", "create", "import", "delete", "recover", "backup", "restore", "decrypt",
                   "encrypt", "unwrapkey", "wrapkey", "verify", "sign", "purge", "release", "rotate",
                   "getrotationpolicy", "setrotationpolicy")
CERT_PERMISSIONS = ("get", "list", "delete", "create", "import", "update", "managecontacts", "getissuers",
                    "listissuers", "setissuers", "deleteissuers", "manageissuers", "recover", "purge", "backup",
                    "restore")
STORAGE_PERMISSIONS = ("get", "list", "delete", "set", "update", "regeneratekey", "recover", "purge", "backup",
                       "restore", "setsas", "listsas", "getsas", "deletesas")
KINDS = {"keys": KEY_PERMISSIONS, "secrets": SECRET_PERMISSIONS, "certificates": CERT_PERMISSIONS,
         "storage": STORAGE_PERMISSIONS}
MAX_POLICIES = 1024
_DATA = "Microsoft.KeyVault/vaults/secrets"

# operation -> (access-policy secret permission, RBAC data action)
SECRET_OPERATIONS: dict[str, tuple[str, str]] = {
    "get": ("get", f"{_DATA}/getSecret/action"),
    "set": ("set", f"{_DATA}/setSecret/action"),
    "update": ("set", f"{_DATA}/update/action"),
    "list": ("list", f"{_DATA}/readMetadata/action"),
    "versions": ("list", f"{_DATA}/readMetadata/action"),
    "delete": ("delete", f"{_DATA}/delete"),
    "get_deleted": ("get", f"{_DATA}/readMetadata/action"),
    "list_deleted": ("list", f"{_DATA}/readMetadata/action"),
    "purge": ("purge", f"{_DATA}/purge/action"),
    "recover": ("recover", f"{_DATA}/recover/action"),
    "backup": ("backup", f"{_DATA}/backup/action"),
    "restore": ("restore", f"{_DATA}/restore/action"),
}
SUGGESTED_ROLE = {"get": "Key Vault Secrets User", "list": "Key Vault Secrets User"}


@dataclass(frozen=True)
class AccessPolicy:
    tenant_id: str
    object_id: str
    application_id: str | None
    permissions: dict[str, tuple[str, ...]]

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"tenantId": self.tenant_id, "objectId": self.object_id,
                                "permissions": {k: list(v) for k, v in self.permissions.items()}}
        if self.application_id:
            body["applicationId"] = self.application_id
        return body

    def allows(self, kind: str, permission: str) -> bool:
        granted = self.permissions.get(kind, ())
        return permission in granted or "all" in granted


def parse_policies(raw: Any) -> list[AccessPolicy]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidInput("The property 'accessPolicies' must be an array.", code="BadRequest")
    if len(raw) > MAX_POLICIES:
        raise InvalidInput(f"The number of access policies exceeds the maximum of {MAX_POLICIES}.", code="BadRequest")
    policies = []
    for p in raw:
        if not isinstance(p, dict) or not is_guid(str(p.get("objectId", ""))) or not is_guid(str(p.get("tenantId", ""))):
            raise InvalidInput("Each access policy needs a valid 'tenantId' and 'objectId'.", code="BadRequest")
        perms_in = p.get("permissions") or {}
        if not isinstance(perms_in, dict):
            raise InvalidInput("Access policy 'permissions' must be an object.", code="BadRequest")
        perms: dict[str, tuple[str, ...]] = {}
        for kind, allowed in KINDS.items():
            given = perms_in.get(kind) or []
            if not isinstance(given, list) or not all(isinstance(x, str) for x in given):
                raise InvalidInput(f"Access policy permissions for '{kind}' must be a list.", code="BadRequest")
            lowered = tuple(dict.fromkeys(x.lower() for x in given))
            bad = [x for x in lowered if x not in allowed and x != "all"]
            if bad:
                raise InvalidInput(f"Invalid {kind} permission(s) '{', '.join(bad)}'. Valid values are: "
                                   f"{', '.join(allowed)}, all.", code="BadRequest")
            perms[kind] = lowered
        app = p.get("applicationId")
        policies.append(AccessPolicy(str(p["tenantId"]).lower(), str(p["objectId"]).lower(),
                                     str(app).lower() if app else None, perms))
    return policies


def merge_policies(current: list[AccessPolicy], change: list[AccessPolicy], kind: str) -> list[AccessPolicy]:
    """The `accessPolicies/{add|replace|remove}` operations, keyed by tenant + object (+ application)."""
    def key(p: AccessPolicy) -> tuple[str, str, str]:
        return (p.tenant_id, p.object_id, p.application_id or "")

    out = {key(p): p for p in current}
    for p in change:
        k = key(p)
        if kind == "replace" or k not in out:
            if kind != "remove":
                out[k] = p
            continue
        old = out[k]
        merged: dict[str, tuple[str, ...]] = {}
        for perm_kind in KINDS:
            have = list(old.permissions.get(perm_kind, ()))
            delta = p.permissions.get(perm_kind, ())
            if kind == "add":
                merged[perm_kind] = tuple(dict.fromkeys(have + list(delta)))
            else:
                merged[perm_kind] = tuple(x for x in have if x not in delta)
        out[k] = AccessPolicy(old.tenant_id, old.object_id, old.application_id, merged)
        if kind == "remove" and not any(merged.values()):
            del out[k]
    return list(out.values())
