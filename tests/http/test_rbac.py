"""`Microsoft.Authorization` role assignments and role definitions on ARM, in-process
(azure-wire.md §4.3-4.4, §5): the REST shapes, Azure's errors, list filters, inheritance,
custom roles, and how the roles decide a managed identity's own ARM calls.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import Wire
from tests.http.helpers import (API, MGMT, arm, error_of, group_path, imds_token, new_group, new_uami,
                                resource_path, unique, with_system)

AUTHZ = "2022-04-01"
RA = "/providers/Microsoft.Authorization/roleAssignments"
RD = "/providers/Microsoft.Authorization/roleDefinitions"
BUILT_IN = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": "Key Vault Administrator",
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "Key Vault Secrets Officer",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "21090545-7ca7-4776-b22c-e363652d74d2": "Key Vault Reader",
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "f1a07417-d97a-45cb-824c-7a7467783830": "Managed Identity Operator",
    "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59": "Managed Identity Contributor",
}
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"


def role_id(wire: Wire, guid: str) -> str:
    return f"/subscriptions/{wire.sub}{RD}/{guid}"


def put_assignment(wire: Wire, scope: str, principal: str, role: str = READER, name: str | None = None,
                   token: str | None = None) -> httpx.Response:
    body = {"properties": {"roleDefinitionId": role_id(wire, role), "principalId": principal,
                           "principalType": "ServicePrincipal"}}
    path = f"{scope}{RA}/{name or uuid.uuid4()}"
    if token is None:
        return arm(wire, "PUT", path, AUTHZ, body)
    return wire.arm.put(path, params={"api-version": AUTHZ}, json=body, headers={"Authorization": f"Bearer {token}"})


def mgmt_token(wire: Wire, resource_id: str) -> str:
    r = imds_token(wire, resource_id, resource=MGMT)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def as_identity(wire: Wire, token: str, method: str, path: str, api: str, body: Any = None) -> httpx.Response:
    return wire.arm.request(method, path, params={"api-version": api}, json=body,
                            headers={"Authorization": f"Bearer {token}"})


def workload(wire: Wire, group: str | None = None) -> tuple[dict[str, Any], str]:
    vm = with_system(wire, "vm", group or new_group(wire))
    return vm, mgmt_token(wire, vm["id"])


def test_create_is_201_then_idempotent_and_409_under_another_name(wire: Wire) -> None:
    group = new_group(wire)
    vm = with_system(wire, "vm", group)
    oid, scope = vm["identity"]["principalId"], group_path(wire, group)
    name = str(uuid.uuid4())
    r = put_assignment(wire, scope, oid, name=name)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id"] == f"{scope}{RA}/{name}"
    assert body["name"] == name and body["type"] == "Microsoft.Authorization/roleAssignments"
    props = body["properties"]
    assert props["roleDefinitionId"] == role_id(wire, READER)
    assert (props["principalId"], props["principalType"], props["scope"]) == (oid, "ServicePrincipal", scope)
    assert props["createdOn"].endswith("Z")

    again = put_assignment(wire, scope, oid, name=name)
    assert again.status_code == 200 and again.json() == body
    got = arm(wire, "GET", f"{scope}{RA}/{name}", AUTHZ)
    assert got.status_code == 200 and got.json() == body

    dup = put_assignment(wire, scope, oid)
    assert dup.status_code == 409
    assert error_of(dup) == {"code": "RoleAssignmentExists", "message": "The role assignment already exists."}
    changed = put_assignment(wire, scope, oid, role=CONTRIBUTOR, name=name)
    assert changed.status_code == 400
    assert error_of(changed)["code"] == "RoleAssignmentUpdateNotPermitted"


def test_bad_principal_role_or_name(wire: Wire) -> None:
    scope = group_path(wire, new_group(wire))
    ghost = str(uuid.uuid4())
    r = put_assignment(wire, scope, ghost)
    assert r.status_code == 400
    err = error_of(r)
    assert err["code"] == "PrincipalNotFound"
    assert err["message"].startswith(f"Principal {ghost.replace('-', '')} does not exist in the directory "
                                     f"{wire.settings.tenant_id}. Check that you have the correct principal ID.")
    oid = with_system(wire, "vm", new_group(wire))["identity"]["principalId"]
    unknown_role = put_assignment(wire, scope, oid, role=str(uuid.uuid4()))
    assert unknown_role.status_code == 400 and error_of(unknown_role)["code"] == "RoleDefinitionDoesNotExist"
    bad_name = arm(wire, "PUT", f"{scope}{RA}/not-a-guid", AUTHZ, {"properties": {
        "roleDefinitionId": role_id(wire, READER), "principalId": oid}})
    assert bad_name.status_code == 400
    bad_role_id = arm(wire, "PUT", f"{scope}{RA}/{uuid.uuid4()}", AUTHZ, {"properties": {
        "roleDefinitionId": "Reader", "principalId": oid}})
    assert bad_role_id.status_code == 400
    missing_rg = put_assignment(wire, group_path(wire, "rg-does-not-exist"), oid)
    assert missing_rg.status_code == 404
    assert arm(wire, "GET", f"{scope}{RA}", None).status_code == 400  # api-version is required
    assert all(a["properties"]["principalId"] != oid
               for a in arm(wire, "GET", f"{scope}{RA}", AUTHZ).json()["value"])


def test_list_filters_and_delete(wire: Wire) -> None:
    group = new_group(wire)
    scope = group_path(wire, group)
    uami = new_uami(wire, group)
    oid = with_system(wire, "vm", new_group(wire))["identity"]["principalId"]
    at_group = put_assignment(wire, scope, oid).json()
    at_uami = put_assignment(wire, uami["id"], oid, role=SECRETS_USER).json()
    operator = str(wire.azmi.services.operator.principal.object_id)

    def names(path: str, flt: str | None = None) -> set[str]:
        r = wire.arm.get(path, params={"api-version": AUTHZ, **({"$filter": flt} if flt else {})},
                         headers=wire.auth())
        assert r.status_code == 200, r.text
        return {a["name"] for a in r.json()["value"]}

    everything = names(f"{scope}{RA}")
    assert {at_group["name"], at_uami["name"]} <= everything  # at, above and below
    above = names(f"{scope}{RA}", "atScope()")
    assert at_group["name"] in above and at_uami["name"] not in above
    owner = arm(wire, "GET", f"{scope}{RA}", AUTHZ, None).json()["value"]
    assert any(a["properties"]["principalId"] == operator and a["properties"]["scope"] == f"/subscriptions/{wire.sub}"
               for a in owner)  # the subscription's Owner assignment is inherited, so listed here
    mine = names(f"/subscriptions/{wire.sub}{RA}", f"principalId eq '{oid}'")
    assert mine == {at_group["name"], at_uami["name"]}
    assert names(f"{uami['id']}{RA}", f"principalId eq '{oid}'") == {at_group["name"], at_uami["name"]}
    assert arm(wire, "GET", f"{scope}{RA}", AUTHZ).status_code == 200
    r = wire.arm.get(f"{scope}{RA}", params={"api-version": AUTHZ, "$filter": "roleName eq 'x'"},
                     headers=wire.auth())
    assert r.status_code == 400

    gone = arm(wire, "DELETE", at_group["id"], AUTHZ)
    assert gone.status_code == 200 and gone.json()["name"] == at_group["name"]
    again = arm(wire, "DELETE", at_group["id"], AUTHZ)
    assert again.status_code == 204 and again.content == b""
    assert arm(wire, "GET", at_group["id"], AUTHZ).status_code == 404
    assert names(f"/subscriptions/{wire.sub}{RA}", f"principalId eq '{oid}'") == {at_uami["name"]}


def test_group_assignment_is_inherited_by_its_resources(wire: Wire) -> None:
    group, elsewhere = new_group(wire), new_group(wire)
    inside, outside = new_uami(wire, group), new_uami(wire, elsewhere)
    vm, token = workload(wire)
    api = API["msi"]
    assert as_identity(wire, token, "GET", inside["id"], api).status_code == 403
    assert put_assignment(wire, group_path(wire, group), vm["identity"]["principalId"]).status_code == 201
    r = as_identity(wire, token, "GET", inside["id"], api)
    assert r.status_code == 200 and r.json()["properties"]["principalId"] == inside["properties"]["principalId"]
    denied = as_identity(wire, token, "GET", outside["id"], api)
    assert denied.status_code == 403 and error_of(denied)["code"] == "AuthorizationFailed"
    listed = as_identity(wire, token, "GET", f"{group_path(wire, group)}/providers/"
                         "Microsoft.ManagedIdentity/userAssignedIdentities", api)
    assert [i["name"] for i in listed.json()["value"]] == [inside["name"]]
    write = as_identity(wire, token, "PUT", resource_path(wire, "msi", group, "id-new"), api, {"location": "eastus"})
    assert write.status_code == 403
    assert "'Microsoft.ManagedIdentity/userAssignedIdentities/write'" in error_of(write)["message"]


def test_contributor_cannot_grant_roles_not_actions_is_case_insensitive(wire: Wire) -> None:
    group = new_group(wire)
    vm, token = workload(wire, group)
    oid = vm["identity"]["principalId"]
    assert put_assignment(wire, group_path(wire, group), oid, role=CONTRIBUTOR).status_code == 201
    # Contributor: actions `*`, notActions `Microsoft.Authorization/*/Write` (capital W) covers roleAssignments/write.
    r = put_assignment(wire, group_path(wire, group), oid, role=READER, token=token)
    assert r.status_code == 403
    assert ("does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/write'"
            in error_of(r)["message"])
    listed = wire.arm.get(f"{group_path(wire, group)}{RA}", params={"api-version": AUTHZ},
                          headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200  # `*` still covers roleAssignments/read


def test_role_definitions_are_azures(wire: Wire) -> None:
    base = f"/subscriptions/{wire.sub}{RD}"
    for guid, name in BUILT_IN.items():
        r = arm(wire, "GET", f"{base}/{guid}", AUTHZ)
        assert r.status_code == 200, (name, r.text)
        body = r.json()
        assert body["id"] == f"{base}/{guid}" and body["name"] == guid
        assert body["type"] == "Microsoft.Authorization/roleDefinitions"
        assert body["properties"]["roleName"] == name
        assert body["properties"]["type"] == "BuiltInRole"
        assert body["properties"]["assignableScopes"] == ["/"]
    user = arm(wire, "GET", f"{base}/{SECRETS_USER}", AUTHZ).json()["properties"]["permissions"]
    assert user == [{"actions": [], "notActions": [], "dataActions": [
        "Microsoft.KeyVault/vaults/secrets/getSecret/action", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"],
        "notDataActions": []}]
    owner = arm(wire, "GET", f"{base}/8e3af657-a8ff-443c-a75c-2fe8c4bcb635", AUTHZ).json()["properties"]
    assert owner["permissions"][0]["actions"] == ["*"] and owner["permissions"][0]["dataActions"] == []
    tenant_level = arm(wire, "GET", f"{RD}/{READER}", AUTHZ)
    assert tenant_level.status_code == 200 and tenant_level.json()["id"] == f"{RD}/{READER}"

    r = wire.arm.get(base, params={"api-version": AUTHZ, "$filter": "roleName eq 'Key Vault Secrets User'"},
                     headers=wire.auth())
    assert [d["name"] for d in r.json()["value"]] == [SECRETS_USER]
    everything = arm(wire, "GET", base, AUTHZ).json()["value"]
    assert set(BUILT_IN) <= {d["name"] for d in everything}
    assert arm(wire, "GET", f"{base}/{uuid.uuid4()}", AUTHZ).status_code == 404
    assert arm(wire, "PUT", f"{base}/{READER}", AUTHZ, {"properties": {"roleName": "Mine", "permissions": [
        {"actions": ["*"]}]}}).status_code == 400  # built-ins cannot change


def test_custom_role_lifecycle_and_case_insensitive_actions(wire: Wire) -> None:
    group = new_group(wire)
    uami = new_uami(wire, group)
    guid = str(uuid.uuid4())
    role_name = unique("identity-peeker")
    path = f"/subscriptions/{wire.sub}{RD}/{guid}"
    body = {"properties": {"roleName": role_name, "description": "reads identities",
                           "assignableScopes": [f"/subscriptions/{wire.sub}"],
                           "permissions": [{"actions": ["microsoft.managedidentity/USERASSIGNEDIDENTITIES/READ"]}]}}
    r = arm(wire, "PUT", path, AUTHZ, body)
    assert r.status_code == 201, r.text
    assert r.json()["properties"]["type"] == "CustomRole" and r.json()["name"] == guid
    assert arm(wire, "PUT", path, AUTHZ, body).status_code == 200
    clash = arm(wire, "PUT", f"/subscriptions/{wire.sub}{RD}/{uuid.uuid4()}", AUTHZ, body)
    assert clash.status_code == 409
    customs = wire.arm.get(f"/subscriptions/{wire.sub}{RD}", params={"api-version": AUTHZ,
                                                                    "$filter": "type eq 'CustomRole'"},
                           headers=wire.auth()).json()["value"]
    assert [c["properties"]["roleName"] for c in customs] == [role_name]

    vm, token = workload(wire)
    assert as_identity(wire, token, "GET", uami["id"], API["msi"]).status_code == 403
    a = put_assignment(wire, uami["id"], vm["identity"]["principalId"], role=guid)
    assert a.status_code == 201, a.text
    assert as_identity(wire, token, "GET", uami["id"], API["msi"]).status_code == 200

    busy = arm(wire, "DELETE", path, AUTHZ)
    assert busy.status_code == 400 and error_of(busy)["code"] == "RoleDefinitionHasAssignments"
    assert arm(wire, "DELETE", a.json()["id"], AUTHZ).status_code == 200
    assert as_identity(wire, token, "GET", uami["id"], API["msi"]).status_code == 403
    deleted = arm(wire, "DELETE", path, AUTHZ)
    assert deleted.status_code == 200 and deleted.json()["properties"]["roleName"] == role_name
    assert arm(wire, "DELETE", path, AUTHZ).status_code == 204
    assert arm(wire, "GET", path, AUTHZ).status_code == 404


def test_custom_assign_role_on_the_uami_allows_linking_it(wire: Wire) -> None:
    """`userAssignedIdentities/*/assign/action` in a custom role, evaluated while the VM is written."""
    group, other = new_group(wire), new_group(wire)
    uami = new_uami(wire, other)
    vm, token = workload(wire, group)
    oid = vm["identity"]["principalId"]
    assert put_assignment(wire, group_path(wire, group), oid, role=CONTRIBUTOR).status_code == 201
    target = resource_path(wire, "vm", group, "vm-linked")
    body = {"location": "eastus", "identity": {"type": "UserAssigned", "userAssignedIdentities": {uami["id"]: {}}}}
    denied = as_identity(wire, token, "PUT", target, API["vm"], body)
    assert denied.status_code == 403 and error_of(denied)["code"] == "LinkedAuthorizationFailed"

    guid = str(uuid.uuid4())
    r = arm(wire, "PUT", f"/subscriptions/{wire.sub}{RD}/{guid}", AUTHZ, {"properties": {
        "roleName": unique("uami-assigner"), "assignableScopes": [f"/subscriptions/{wire.sub}"],
        "permissions": [{"actions": ["Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action"]}]}})
    assert r.status_code == 201, r.text
    assert put_assignment(wire, uami["id"], oid, role=guid).status_code == 201
    # Another custom role changes the role cache; the link check must still find the assigner role.
    assert arm(wire, "PUT", f"/subscriptions/{wire.sub}{RD}/{uuid.uuid4()}", AUTHZ, {"properties": {
        "roleName": unique("unrelated"), "permissions": [{"actions": ["Microsoft.Compute/*/read"]}]}}).status_code == 201
    allowed = as_identity(wire, token, "PUT", target, API["vm"], body)
    assert allowed.status_code == 201, allowed.text
    assert [k.lower() for k in allowed.json()["identity"]["userAssignedIdentities"]] == [uami["id"].lower()]
