"""The resource kinds the CLI manages, their ARM paths, and az's view of an ARM resource.

az shows SDK models: a resource's `properties` are flattened into the top level (the
`x-ms-client-flatten` of the Compute, Web, Container Instance and MSI specs) and every object
whose `id` names a resource group gets a `resourceGroup` key. Resource groups are not flattened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

BOTH_SPACED = "SystemAssigned, UserAssigned"
BOTH_COMPACT = "SystemAssigned,UserAssigned"


@dataclass(frozen=True)
class Kind:
    key: str                      # the CLI's name: vm, webapp, functionapp, container
    label: str                    # for messages
    namespace: str
    type: str
    api_version: str
    both_spelling: str = BOTH_SPACED
    site_kind: str | None = None  # Microsoft.Web/sites kind this command manages
    assign_summary: bool = False  # `identity assign` prints az's VM summary, not the block

    @property
    def provider(self) -> str:
        return f"{self.namespace}/{self.type}"

    def resource_id(self, sub: str, rg: str, name: str) -> str:
        return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{self.provider}/{name}"

    def collection_path(self, sub: str, rg: str | None = None) -> str:
        if rg:
            return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{self.provider}"
        return f"/subscriptions/{sub}/providers/{self.provider}"

    def matches(self, resource: dict[str, Any]) -> bool:
        """Whether a listed resource belongs to this command (webapp vs functionapp)."""
        if self.site_kind is None:
            return True
        is_function = "functionapp" in str(resource.get("kind") or "").lower()
        return is_function == (self.site_kind == "functionapp")


VM = Kind("vm", "virtual machine", "Microsoft.Compute", "virtualMachines", "2024-07-01", assign_summary=True)
WEBAPP = Kind("webapp", "web app", "Microsoft.Web", "sites", "2023-12-01", BOTH_COMPACT, site_kind="app")
FUNCTIONAPP = Kind("functionapp", "function app", "Microsoft.Web", "sites", "2023-12-01", BOTH_COMPACT,
                   site_kind="functionapp")
CONTAINER = Kind("container", "container group", "Microsoft.ContainerInstance", "containerGroups", "2023-05-01")
UAMI = Kind("identity", "managed identity", "Microsoft.ManagedIdentity", "userAssignedIdentities", "2023-01-31")
VAULT = Kind("keyvault", "key vault", "Microsoft.KeyVault", "vaults", "2023-07-01")

KINDS: dict[str, Kind] = {k.key: k for k in (VM, WEBAPP, FUNCTIONAPP, CONTAINER)}


def rg_path(sub: str, rg: str) -> str:
    return f"/subscriptions/{sub}/resourcegroups/{quote(rg, safe='')}"


def parse_resource_id(rid: str) -> dict[str, str]:
    """Split an ARM id into subscription, resource_group, namespace, type, name (case kept)."""
    parts = [p for p in rid.split("/") if p]
    out: dict[str, str] = {}
    low = [p.lower() for p in parts]
    if "subscriptions" in low and low.index("subscriptions") + 1 < len(parts):
        out["subscription"] = parts[low.index("subscriptions") + 1]
    if "resourcegroups" in low and low.index("resourcegroups") + 1 < len(parts):
        out["resource_group"] = parts[low.index("resourcegroups") + 1]
    if "providers" in low:
        rest = parts[low.index("providers") + 1:]
        if len(rest) >= 3:
            out["namespace"], out["type"], out["name"] = rest[0], rest[1], rest[2]
    return out


def add_resource_group(obj: Any) -> Any:
    """az's `_add_resource_group`: recursively add `resourceGroup` beside ids that have one."""
    if isinstance(obj, dict):
        rid = obj.get("id")
        if isinstance(rid, str) and "resourceGroup" not in obj and "/providers/" in rid:
            rg = parse_resource_id(rid).get("resource_group")
            if rg:
                obj["resourceGroup"] = rg
        for value in obj.values():
            add_resource_group(value)
    elif isinstance(obj, list):
        for item in obj:
            add_resource_group(item)
    return obj


def az_view(resource: Any) -> Any:
    """An ARM resource as az prints it: properties flattened, resourceGroup added."""
    if not isinstance(resource, dict):
        return resource
    view = {k: v for k, v in resource.items() if k != "properties"}
    props = resource.get("properties")
    if isinstance(props, dict):
        for key, value in props.items():
            view.setdefault(key, value)
    return add_resource_group(view)
