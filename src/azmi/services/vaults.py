"""Key Vault's control-plane rules, used by the control plane for `Microsoft.KeyVault/vaults`.

- properties: `tenantId`, `sku`, `enableRbacAuthorization` (true by default, as current Azure),
  `accessPolicies` (validated, 1024 at most), soft delete on with 90 days' retention;
- vault names are globally unique (they are DNS names in Azure);
- every vault gets its own HTTPS origin: a port of its own on azmi's host, so
  `vaultUri = https://127.0.0.1:<port>/` (the SDK parses object ids by origin, sdk-compat §5).
"""

from __future__ import annotations

from typing import Any, Callable

from azmi.domain.keyvault import merge_policies, parse_policies
from azmi.domain.models import Resource
from azmi.errors import Conflict, InvalidInput
from azmi.settings import Settings
from azmi.store.sql import Tx

VAULT_TYPE_KEY = "microsoft.keyvault/vaults"
SKUS = ("standard", "premium")


class VaultRules:
    def __init__(self, settings: Settings, allocate_port: Callable[[set[int]], int]) -> None:
        self._s = settings
        self._allocate_port = allocate_port

    def properties(self, props: dict[str, Any], old: Resource | None) -> dict[str, Any]:
        out = dict(props)
        out.pop("vaultUri", None)
        tenant = out.get("tenantId") or self._s.tenant_id
        if str(tenant).lower() != self._s.tenant_id:
            raise InvalidInput(f"The tenant '{tenant}' is not the tenant of this subscription "
                               f"('{self._s.tenant_id}').", code="BadRequest")
        out["tenantId"] = self._s.tenant_id
        sku = out.get("sku") or {"family": "A", "name": "standard"}
        if not isinstance(sku, dict) or str(sku.get("name", "")).lower() not in SKUS:
            raise InvalidInput("The property 'sku.name' must be 'standard' or 'premium'.", code="BadRequest")
        out["sku"] = {"family": "A", "name": str(sku["name"]).lower()}
        rbac = out.get("enableRbacAuthorization", True)
        if not isinstance(rbac, bool):
            raise InvalidInput("The property 'enableRbacAuthorization' must be a boolean.", code="BadRequest")
        out["enableRbacAuthorization"] = rbac
        out["accessPolicies"] = [p.as_json() for p in parse_policies(out.get("accessPolicies"))]
        out["enableSoftDelete"] = True
        out["softDeleteRetentionInDays"] = 90
        if old is not None:
            out["vaultUri"] = old.properties.get("vaultUri")
        return out

    def on_create(self, tx: Tx, r: Resource, all_vault_names: list[str]) -> tuple[dict[str, Any], int]:
        """Check the global name and choose the vault's own port; returns (final properties, port)."""
        if r.id.name.lower() in all_vault_names:
            raise Conflict(f"The vault name '{r.id.name}' is already in use. Vault names are globally unique so it "
                           "is possible that the name is already taken.", code="VaultAlreadyExists")
        port = self._allocate_port(set(tx.vault_ports()))
        host = f"[{self._s.host}]" if ":" in self._s.host else self._s.host
        return {**r.properties, "vaultUri": f"https://{host}:{port}/"}, port

    def update_policies(self, r: Resource, kind: str, body: Any) -> dict[str, Any]:
        if kind not in ("add", "replace", "remove"):
            raise InvalidInput(f"The access policy operation '{kind}' is not valid; use add, replace or remove.",
                               code="BadRequest")
        props = body.get("properties") if isinstance(body, dict) else None
        if not isinstance(props, dict):
            raise InvalidInput("The request needs 'properties.accessPolicies'.", code="BadRequest")
        change = parse_policies(props.get("accessPolicies"))
        current = parse_policies(r.properties.get("accessPolicies"))
        merged = merge_policies(current, change, kind)
        if len(merged) > 1024:
            raise InvalidInput("The number of access policies exceeds the maximum of 1024.", code="BadRequest")
        return {**r.properties, "accessPolicies": [p.as_json() for p in merged]}
