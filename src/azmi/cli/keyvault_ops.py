"""Pure rules of `az keyvault` (azure-cli `keyvault/custom.py` and its track-2 output transforms).

- create: RBAC by default; without RBAC the creator gets an access policy with az's default
  permissions;
- set-policy: the permission kinds given replace the object's lists, the others are kept
  (a new object gets a new entry); delete-policy drops the object's entry;
- secrets print as azure-keyvault-secrets models: `name` from the id, attributes with
  `expires`/`notBefore` and ISO-8601 times (`2024-01-01T00:00:00+00:00`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from azmi.cli.errors import EXIT_NOT_FOUND, CliError
from azmi.cli.resources import VAULT

KV_DATA_API = "7.5"
RBAC_REFUSAL = "Cannot set policies to a vault with '--enable-rbac-authorization' specified"
PERMISSION_KINDS = ("keys", "secrets", "certificates", "storage")

# What `az keyvault create` grants its caller on an access-policy vault.
CREATOR_PERMISSIONS: dict[str, list[str]] = {
    "keys": ["get", "create", "delete", "list", "update", "import", "backup", "restore", "recover",
             "getrotationpolicy", "setrotationpolicy", "rotate"],
    "secrets": ["get", "list", "set", "delete", "backup", "restore", "recover", "purge"],
    "certificates": ["get", "list", "delete", "create", "import", "update", "managecontacts", "getissuers",
                     "listissuers", "setissuers", "deleteissuers", "manageissuers", "recover"],
    "storage": ["get", "list", "delete", "set", "update", "regeneratekey", "setsas", "listsas", "getsas",
                "deletesas"],
}


def vault_body(location: str, tenant_id: str, sku: str, rbac: bool, operator_object_id: str,
               retention_days: int | None, tags: dict[str, str]) -> dict[str, Any]:
    props: dict[str, Any] = {"tenantId": tenant_id, "sku": {"family": "A", "name": sku},
                             "enableRbacAuthorization": rbac, "accessPolicies": []}
    if not rbac and operator_object_id:
        props["accessPolicies"] = [{"tenantId": tenant_id, "objectId": operator_object_id,
                                    "permissions": {k: list(v) for k, v in CREATOR_PERMISSIONS.items()}}]
    if retention_days is not None:
        props["softDeleteRetentionInDays"] = retention_days
    return {"location": location, "tags": tags, "properties": props}


def find_vault(vaults: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """A vault by name among the subscription's (names are global, so there is at most one)."""
    for vault in vaults:
        if str(vault.get("name", "")).lower() == name.lower():
            return vault
    raise CliError(f"The Resource '{VAULT.provider}/{name}' not found within subscription.", exit_code=EXIT_NOT_FOUND)


def _same_object(policy: dict[str, Any], object_id: str, tenant_id: str) -> bool:
    return (str(policy.get("objectId", "")).lower() == object_id.lower()
            and str(policy.get("tenantId", "")).lower() == tenant_id.lower()
            and not policy.get("applicationId"))


def set_policy(policies: list[dict[str, Any]], tenant_id: str, object_id: str,
               permissions: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The vault's policy list after `az keyvault set-policy` (a new list; input untouched)."""
    given = {k: list(v) for k, v in permissions.items() if v}
    out = [dict(p) for p in policies]
    for policy in out:
        if _same_object(policy, object_id, tenant_id):
            policy["permissions"] = {**(policy.get("permissions") or {}), **given}
            return out
    out.append({"tenantId": tenant_id, "objectId": object_id, "permissions": given})
    return out


def policy_of(policies: list[dict[str, Any]], tenant_id: str, object_id: str) -> dict[str, Any]:
    """The object's entry (for `delete-policy`), or az's error when it has none."""
    for policy in policies:
        if _same_object(policy, object_id, tenant_id):
            return policy
    raise CliError(f"No matching policies found for object id '{object_id}'")


def _iso(seconds: Any) -> str | None:
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(int(seconds), dt.timezone.utc).isoformat()


def _attributes(attrs: dict[str, Any] | None) -> dict[str, Any]:
    attrs = attrs or {}
    return {"created": _iso(attrs.get("created")), "enabled": attrs.get("enabled"),
            "expires": _iso(attrs.get("exp")), "notBefore": _iso(attrs.get("nbf")),
            "recoverableDays": attrs.get("recoverableDays"), "recoveryLevel": attrs.get("recoveryLevel"),
            "updated": _iso(attrs.get("updated"))}


def secret_name(secret_id: str) -> str:
    """`https://host/secrets/{name}[/{version}]` or `.../deletedsecrets/{name}` -> name."""
    parts = [p for p in secret_id.split("://", 1)[-1].split("/") if p]
    return parts[2] if len(parts) > 2 else ""


def secret_view(bundle: dict[str, Any], *, with_value: bool = True) -> dict[str, Any]:
    """A SecretBundle / SecretItem / DeletedSecretBundle as az prints it."""
    sid = str(bundle.get("id") or bundle.get("recoveryId") or "")
    view: dict[str, Any] = {"attributes": _attributes(bundle.get("attributes")),
                            "contentType": bundle.get("contentType"), "id": bundle.get("id"),
                            "managed": bundle.get("managed"), "name": secret_name(sid),
                            "tags": bundle.get("tags")}
    if with_value:
        view["kid"] = bundle.get("kid")
        view["value"] = bundle.get("value")
    if "recoveryId" in bundle:
        view.update(recoveryId=bundle.get("recoveryId"), deletedDate=_iso(bundle.get("deletedDate")),
                    scheduledPurgeDate=_iso(bundle.get("scheduledPurgeDate")))
    return view
