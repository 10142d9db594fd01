"""ARM JSON shapes for subscriptions, resource groups, resources and their identity blocks."""

from __future__ import annotations

from typing import Any

from azmi.domain import resource_types
from azmi.domain.models import Principal, Resource, ResourceGroup, Subscription


def subscription(s: Subscription) -> dict[str, Any]:
    return {"id": f"/subscriptions/{s.id}", "authorizationSource": "RoleBased", "managedByTenants": [],
            "subscriptionId": s.id, "tenantId": s.tenant_id, "displayName": s.display_name, "state": "Enabled",
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01",
                                     "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"}}


def alias(s: Subscription) -> dict[str, Any]:
    return {"id": f"/providers/Microsoft.Subscription/aliases/{s.alias}", "name": s.alias,
            "type": "Microsoft.Subscription/aliases",
            "properties": {"subscriptionId": s.id, "displayName": s.display_name, "provisioningState": "Succeeded"}}


def group(g: ResourceGroup) -> dict[str, Any]:
    return {"id": g.id, "name": g.name, "type": "Microsoft.Resources/resourceGroups", "location": g.location,
            "tags": g.tags, "properties": {"provisioningState": "Succeeded"}}


def identity_block(r: Resource, tenant_id: str) -> dict[str, Any] | None:
    system, users = r.system_identity, r.user_assigned
    if system is None and not users:
        return None
    rtype = resource_types.by_full_type(r.id.full_type)
    kind = rtype.both_spelling if system and users else ("SystemAssigned" if system else "UserAssigned")
    block: dict[str, Any] = {"type": kind}
    if system:
        block["principalId"] = system.object_id
        block["tenantId"] = tenant_id
    if users:
        block["userAssignedIdentities"] = {
            str(a.uami_id): {"principalId": a.principal.object_id, "clientId": a.principal.client_id}
            for a in users}
    return block


def resource(r: Resource, tenant_id: str, api_version: str) -> dict[str, Any]:
    if r.is_uami:
        return user_assigned_identity(r, tenant_id, api_version)
    body: dict[str, Any] = {"id": str(r.id), "name": r.id.name, "type": r.id.full_type, "location": r.location,
                            "tags": r.tags}
    if r.kind is not None:
        body["kind"] = r.kind
    ident = identity_block(r, tenant_id)
    if ident is not None:
        body["identity"] = ident
    props = dict(r.properties)
    props["provisioningState"] = "Succeeded"
    if r.id.full_type == "Microsoft.Storage/storageAccounts":  # azmi keeps the top-level sku in properties
        body["sku"] = props.pop("sku", {"name": "Standard_LRS", "tier": "Standard"})
    if r.id.full_type == "Microsoft.Web/sites":
        props.setdefault("state", "Running")
        props.setdefault("defaultHostName", f"{r.id.name.lower()}.azurewebsites.net")
        props.setdefault("enabled", True)
    body["properties"] = props
    return body


def user_assigned_identity(r: Resource, tenant_id: str, api_version: str) -> dict[str, Any]:
    p = r.principal
    assert p is not None
    props: dict[str, Any] = {"tenantId": tenant_id, "principalId": p.object_id, "clientId": p.client_id}
    if api_version >= "2024-11-30":
        props["isolationScope"] = "None"
    return {"id": r.id.lower_rg_form(), "name": r.id.name, "type": r.id.full_type, "location": r.location,
            "tags": r.tags, "properties": props}


def system_identity(r: Resource, p: Principal, tenant_id: str) -> dict[str, Any]:
    return {"id": f"{r.id}/providers/Microsoft.ManagedIdentity/identities/default", "name": "default",
            "type": "Microsoft.ManagedIdentity/identities", "location": r.location, "tags": r.tags,
            "properties": {"tenantId": tenant_id, "principalId": p.object_id, "clientId": p.client_id,
                           "clientSecretUrl": f"https://control-{r.location}.identity.azure.net{r.id}/credentials"
                                              f"?tid={tenant_id}&oid={p.object_id}&aid={p.client_id}"}}


def principal(p: Principal) -> dict[str, Any]:
    """A directory object the way Microsoft Graph shows it (servicePrincipal, or the operator as a user)."""
    if p.kind == "User":
        return {"@odata.type": "#microsoft.graph.user", "id": p.object_id, "displayName": p.display_name,
                "userPrincipalName": "operator@azmi.local", "mail": None, "userType": "Member"}
    alternative = ["isExplicit=" + ("True" if p.kind == "UserAssigned" else "False")]
    if p.mi_resource_id:
        alternative.append(p.mi_resource_id)
    return {"@odata.type": "#microsoft.graph.servicePrincipal", "id": p.object_id, "appId": p.client_id,
            "displayName": p.display_name, "servicePrincipalType": "ManagedIdentity",
            "servicePrincipalNames": [p.client_id] + ([p.mi_resource_id] if p.mi_resource_id else []),
            "alternativeNames": alternative, "accountEnabled": True,
            "appOwnerOrganizationId": None, "managedIdentityKind": p.kind}
