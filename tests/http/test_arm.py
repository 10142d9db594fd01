"""ARM control plane, in-process (azure-wire.md §4, sdk-compat §7 and §9)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from azmi.tokens.claims import AZURE_CLI_APP_ID
from tests.conftest import Wire
from tests.http.helpers import (API, TYPES, VAULT, arm, binding_key, build_wire, delete, error_of, get, group_path,
                                imds_token, list_names, new_group, new_uami, patch, put, resource_path, unique,
                                with_system, with_users)


def principal_exists(wire: Wire, object_id: str) -> bool:
    with wire.azmi.services.store.begin() as tx:
        return tx.get_principal(object_id) is not None


def uami_ids(body: dict[str, Any]) -> set[str]:
    return {k.lower() for k in body.get("identity", {}).get("userAssignedIdentities", {})}


# -- resource groups ---------------------------------------------------------------------------------
def test_group_crud(wire):  # type: ignore[no-untyped-def]
    name = unique("rg")
    path = group_path(wire, name)
    created = arm(wire, "PUT", path, API["group"], {"location": "eastus", "tags": {"a": "1"}})
    assert created.status_code == 201, created.text
    assert created.json() == {"id": path, "name": name, "type": "Microsoft.Resources/resourceGroups",
                              "location": "eastus", "tags": {"a": "1"},
                              "properties": {"provisioningState": "Succeeded"}}
    again = arm(wire, "PUT", path, API["group"], {"location": "eastus", "tags": {"b": "2"}})
    assert again.status_code == 200
    assert again.json()["tags"] == {"b": "2"}
    assert arm(wire, "GET", path, API["group"]).json()["tags"] == {"b": "2"}
    patched = arm(wire, "PATCH", path, API["group"], {"tags": {"c": "3"}})
    assert patched.status_code == 200 and patched.json()["tags"] == {"c": "3"}
    listed = arm(wire, "GET", f"/subscriptions/{wire.sub}/resourcegroups", API["group"]).json()["value"]
    assert name in [g["name"] for g in listed]
    assert arm(wire, "HEAD", path, API["group"]).status_code == 204
    assert arm(wire, "DELETE", path, API["group"]).status_code == 200
    gone = arm(wire, "GET", path, API["group"])
    assert gone.status_code == 404
    assert error_of(gone)["code"] == "ResourceGroupNotFound"
    assert arm(wire, "DELETE", path, API["group"]).status_code == 204


def test_group_names_are_case_insensitive_and_keep_their_casing(wire):  # type: ignore[no-untyped-def]
    new_group(wire, "MyGroup")
    r = arm(wire, "GET", group_path(wire, "mygroup"), API["group"])
    assert r.status_code == 200
    assert r.json()["name"] == "MyGroup"
    assert arm(wire, "PUT", group_path(wire, "MYGROUP"), API["group"], {"location": "eastus"}).status_code == 200


def test_group_location_change_is_400_and_changes_nothing(wire):  # type: ignore[no-untyped-def]
    name = new_group(wire)
    r = arm(wire, "PUT", group_path(wire, name), API["group"], {"location": "westus", "tags": {"x": "y"}})
    assert r.status_code == 400
    assert error_of(r)["code"] == "InvalidResourceGroupLocation"
    after = arm(wire, "GET", group_path(wire, name), API["group"]).json()
    assert after["location"] == "eastus" and after["tags"] == {}


def test_group_location_is_normalised(wire):  # type: ignore[no-untyped-def]
    name = unique("rg")
    r = arm(wire, "PUT", group_path(wire, name), API["group"], {"location": "East US"})
    assert r.json()["location"] == "eastus"


def test_group_without_location_is_400(wire):  # type: ignore[no-untyped-def]
    name = unique("rg")
    r = arm(wire, "PUT", group_path(wire, name), API["group"], {})
    assert r.status_code == 400
    assert error_of(r)["code"] == "LocationRequired"
    assert arm(wire, "GET", group_path(wire, name), API["group"]).status_code == 404


# -- resource CRUD -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["vm", "site", "aci", "msi", "logic", "apim", "aks"])
def test_resource_crud(wire, kind):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    name = unique("r")
    first = put(wire, kind, group, name, {"tags": {"k": "v"}})
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["name"] == name
    assert body["type"] == TYPES[kind]
    assert body["location"] == "eastus"
    assert body["tags"] == {"k": "v"}
    assert body["id"].lower() == resource_path(wire, kind, group, name).lower()
    second = put(wire, kind, group, name, {"tags": {"k": "w"}})
    assert second.status_code == 200
    assert get(wire, kind, group, name).json()["tags"] == {"k": "w"}
    listed = arm(wire, "GET", f"{group_path(wire, group)}/providers/{TYPES[kind]}", API[kind]).json()["value"]
    assert [item["name"] for item in listed] == [name]
    assert delete(wire, kind, group, name).status_code == 200
    missing = get(wire, kind, group, name)
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "ResourceNotFound"
    assert delete(wire, kind, group, name).status_code == 204


def test_vm_provisioning_state_and_stable_vm_id(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    first = put(wire, "vm", group, "vm1", {"properties": {"vmId": "forged", "provisioningState": "Failed"}}).json()
    assert first["properties"]["provisioningState"] == "Succeeded"
    assert first["properties"]["vmId"] != "forged"
    second = put(wire, "vm", group, "vm1", {"properties": {}}).json()
    assert second["properties"]["vmId"] == first["properties"]["vmId"]


def test_resource_in_missing_group_is_404(wire):  # type: ignore[no-untyped-def]
    r = put(wire, "vm", "no-such-group", "vm1")
    assert r.status_code == 404
    assert error_of(r)["code"] == "ResourceGroupNotFound"


def test_patch_of_missing_resource_is_404(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    r = patch(wire, "vm", group, "ghost", {"tags": {}})
    assert r.status_code == 404
    assert list_names(wire, group) == []


# -- the identity block -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, spelling", [("vm", "SystemAssigned, UserAssigned"),
                                            ("aci", "SystemAssigned, UserAssigned"),
                                            ("site", "SystemAssigned,UserAssigned"),
                                            ("apim", "SystemAssigned, UserAssigned")])
@pytest.mark.parametrize("request_spelling", ["SystemAssigned, UserAssigned", "SystemAssigned,UserAssigned",
                                              "systemassigned,userassigned"])
def test_identity_block_per_provider(wire, kind, spelling, request_spelling):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    u = new_uami(wire, group)
    body = put(wire, kind, group, unique("r"), {"identity": {
        "type": request_spelling, "userAssignedIdentities": {u["id"]: {}}}}, expect=201).json()
    ident = body["identity"]
    assert ident["type"] == spelling
    assert set(ident) == {"type", "principalId", "tenantId", "userAssignedIdentities"}
    assert ident["tenantId"] == wire.settings.tenant_id
    assert ident["principalId"] not in (u["properties"]["principalId"], "")
    (key, value), = ident["userAssignedIdentities"].items()
    assert key.lower() == u["id"].lower()
    assert value == {"principalId": u["properties"]["principalId"], "clientId": u["properties"]["clientId"]}


def test_identity_block_single_kinds(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    u = new_uami(wire, group)
    system = with_system(wire, "vm", group)["identity"]
    assert set(system) == {"type", "principalId", "tenantId"} and system["type"] == "SystemAssigned"
    user = with_users(wire, "vm", group, [u["id"]])["identity"]
    assert set(user) == {"type", "userAssignedIdentities"} and user["type"] == "UserAssigned"
    plain = put(wire, "vm", group, unique("vm"), expect=201).json()
    assert "identity" not in plain


def test_uami_renders_lower_case_resourcegroups(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire, "CamelGroup")
    u = new_uami(wire, group, "ident1")
    assert u["id"] == (f"/subscriptions/{wire.sub}/resourcegroups/CamelGroup/providers/"
                       "Microsoft.ManagedIdentity/userAssignedIdentities/ident1")
    assert set(u["properties"]) == {"tenantId", "principalId", "clientId"}
    assert u["properties"]["tenantId"] == wire.settings.tenant_id
    assert get(wire, "msi", group, "ident1").json()["id"] == u["id"]
    newer = arm(wire, "GET", resource_path(wire, "msi", group, "ident1"), "2024-11-30").json()
    assert newer["properties"]["isolationScope"] == "None"


def test_uami_cannot_have_an_identity(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    r = put(wire, "msi", group, "ident1", {"identity": {"type": "SystemAssigned"}})
    assert r.status_code == 400
    assert list_names(wire, group) == []


def test_uami_update_keeps_its_principal(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    u = new_uami(wire, group, "ident1")
    again = put(wire, "msi", group, "ident1", {"tags": {"a": "b"}}, expect=200).json()
    assert again["properties"] == u["properties"]


def test_patch_merges_user_assigned_and_null_removes(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    a, b = new_uami(wire, group), new_uami(wire, group)
    vm = with_system(wire, "vm", group, name="vm1", users=[a["id"]])
    sami = vm["identity"]["principalId"]
    merged = patch(wire, "vm", group, "vm1", {"identity": {
        "type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {b["id"]: {}}}})
    assert merged.status_code == 200, merged.text
    assert uami_ids(merged.json()) == {a["id"].lower(), b["id"].lower()}
    assert merged.json()["identity"]["principalId"] == sami  # untouched
    removed = patch(wire, "vm", group, "vm1", {"identity": {
        "type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {a["id"]: None}}})
    assert uami_ids(removed.json()) == {b["id"].lower()}
    assert uami_ids(get(wire, "vm", group, "vm1").json()) == {b["id"].lower()}
    # the removed identity no longer gets tokens on this VM
    r = imds_token(wire, vm["id"], client_id=a["properties"]["clientId"])
    assert r.json() == {"error": "invalid_request", "error_description": "Identity not found"}


def test_put_replaces_user_assigned(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    a, b = new_uami(wire, group), new_uami(wire, group)
    with_users(wire, "vm", group, [a["id"]], name="vm1")
    r = put(wire, "vm", group, "vm1", {"identity": {"type": "UserAssigned", "userAssignedIdentities": {b["id"]: {}}}})
    assert r.status_code == 200
    assert uami_ids(r.json()) == {b["id"].lower()}


def test_type_none_removes_everything_and_deletes_the_system_principal(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    a = new_uami(wire, group)
    vm = with_system(wire, "vm", group, name="vm1", users=[a["id"]])
    sami = vm["identity"]["principalId"]
    assert principal_exists(wire, sami)
    r = patch(wire, "vm", group, "vm1", {"identity": {"type": "None"}})
    assert r.status_code == 200, r.text
    assert "identity" not in r.json()
    assert "identity" not in get(wire, "vm", group, "vm1").json()
    assert not principal_exists(wire, sami)
    assert principal_exists(wire, a["properties"]["principalId"])  # the UAMI itself lives on
    assert imds_token(wire, vm["id"]).json()["error_description"] == "Identity not found"


def test_disabling_system_keeps_user_assigned(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    a = new_uami(wire, group)
    vm = with_system(wire, "vm", group, name="vm1", users=[a["id"]])
    r = patch(wire, "vm", group, "vm1", {"identity": {"type": "UserAssigned"}})
    assert r.status_code == 200, r.text
    assert r.json()["identity"]["type"] == "UserAssigned"
    assert uami_ids(r.json()) == {a["id"].lower()}
    assert not principal_exists(wire, vm["identity"]["principalId"])
    token = imds_token(wire, vm["id"]).json()
    assert token["client_id"] == a["properties"]["clientId"]


def test_reenabling_system_creates_a_new_principal(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    first = with_system(wire, "vm", group, name="vm1")["identity"]["principalId"]
    patch(wire, "vm", group, "vm1", {"identity": {"type": "None"}})
    again = patch(wire, "vm", group, "vm1", {"identity": {"type": "SystemAssigned"}}).json()
    assert again["identity"]["principalId"] != first


def test_update_without_identity_block_keeps_identity(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    vm = with_system(wire, "vm", group, name="vm1")
    r = patch(wire, "vm", group, "vm1", {"tags": {"x": "y"}}).json()
    assert r["identity"]["principalId"] == vm["identity"]["principalId"]


def test_deleting_the_resource_deletes_its_system_principal(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    vm = with_system(wire, "vm", group, name="vm1")
    key = binding_key(wire, vm["id"])
    assert delete(wire, "vm", group, "vm1").status_code == 200
    assert not principal_exists(wire, vm["identity"]["principalId"])
    r = wire.imds.get(f"/{key}/metadata/identity/oauth2/token", params={"api-version": "2018-02-01",
                                                                        "resource": VAULT},
                      headers={"Metadata": "true"})
    assert r.json() == {"error": "invalid_request", "error_description": "Identity not found"}


def test_deleting_the_group_deletes_its_principals(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    u = new_uami(wire, group)
    vm = with_system(wire, "vm", group, users=[u["id"]])
    key = binding_key(wire, vm["id"])
    assert imds_token(wire, vm["id"]).status_code == 200
    assert arm(wire, "DELETE", group_path(wire, group), API["group"]).status_code == 200
    assert not principal_exists(wire, vm["identity"]["principalId"])
    assert not principal_exists(wire, u["properties"]["principalId"])
    r = wire.imds.get(f"/{key}/metadata/identity/oauth2/token", params={"api-version": "2018-02-01",
                                                                        "resource": VAULT},
                      headers={"Metadata": "true"})
    assert r.json()["error_description"] == "Identity not found"


def test_recreated_resource_gets_a_new_principal(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    first = with_system(wire, "vm", group, name="vm1")
    delete(wire, "vm", group, "vm1")
    second = with_system(wire, "vm", group, name="vm1")
    assert second["identity"]["principalId"] != first["identity"]["principalId"]
    assert binding_key(wire, second["id"]) != ""


def test_recreated_uami_gets_new_ids(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    first = new_uami(wire, group, "ident1")
    delete(wire, "msi", group, "ident1")
    assert not principal_exists(wire, first["properties"]["principalId"])
    second = new_uami(wire, group, "ident1")
    assert second["properties"]["principalId"] != first["properties"]["principalId"]
    assert second["properties"]["clientId"] != first["properties"]["clientId"]


def test_deleting_a_uami_detaches_it_from_its_users(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    a, b = new_uami(wire, group, "ida"), new_uami(wire, group, "idb")
    vm = with_users(wire, "vm", group, [a["id"], b["id"]], name="vm1")
    assert imds_token(wire, vm["id"], client_id=a["properties"]["clientId"]).status_code == 200
    delete(wire, "msi", group, "ida")
    assert uami_ids(get(wire, "vm", group, "vm1").json()) == {b["id"].lower()}
    r = imds_token(wire, vm["id"], client_id=a["properties"]["clientId"])
    assert r.json()["error_description"] == "Identity not found"
    assert imds_token(wire, vm["id"]).json()["client_id"] == b["properties"]["clientId"]


def test_system_identity_default_view(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    vm = with_system(wire, "vm", group, name="vm1")
    path = resource_path(wire, "vm", group, "vm1") + "/providers/Microsoft.ManagedIdentity/identities/default"
    r = arm(wire, "GET", path, API["msi"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == vm["id"] + "/providers/Microsoft.ManagedIdentity/identities/default"
    assert body["name"] == "default" and body["type"] == "Microsoft.ManagedIdentity/identities"
    props = body["properties"]
    assert props["principalId"] == vm["identity"]["principalId"]
    assert props["tenantId"] == wire.settings.tenant_id
    assert props["clientId"] == imds_token(wire, vm["id"]).json()["client_id"]
    assert "clientSecretUrl" in props
    plain = put(wire, "vm", group, "vm2", expect=201)
    r = arm(wire, "GET", plain.json()["id"] + "/providers/Microsoft.ManagedIdentity/identities/default", API["msi"])
    assert r.status_code == 404
    error_of(r)


# -- invalid identity input -----------------------------------------------------------------------------
def _bad_identities(wire: Wire, group: str) -> list[Any]:
    sub = wire.sub
    vm_id = f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines/other"
    missing = f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nope"
    return [
        "SystemAssigned",
        {"type": "Bogus"},
        {"type": 5},
        {},
        {"type": "UserAssigned"},
        {"type": "UserAssigned", "userAssignedIdentities": {}},
        {"type": "UserAssigned", "userAssignedIdentities": {"not-an-id": {}}},
        {"type": "UserAssigned", "userAssignedIdentities": {vm_id: {}}},
        {"type": "UserAssigned", "userAssignedIdentities": {missing: {}}},
        {"type": "UserAssigned", "userAssignedIdentities": [missing]},
        {"type": "UserAssigned", "userAssignedIdentities": {missing: "yes"}},
        {"type": "SystemAssigned", "userAssignedIdentities": {missing: {}}},
    ]


def test_invalid_identity_blocks_are_400_and_persist_nothing(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    for block in _bad_identities(wire, group):
        r = put(wire, "vm", group, "vm1", {"identity": block})
        assert r.status_code == 400, (block, r.status_code, r.text)
        error_of(r)
    assert list_names(wire, group) == []


def test_invalid_identity_patch_leaves_resource_unchanged(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    a = new_uami(wire, group)
    before = with_system(wire, "vm", group, name="vm1", users=[a["id"]])
    for block in _bad_identities(wire, group):
        if block in ({"type": "UserAssigned"}, {"type": "UserAssigned", "userAssignedIdentities": {}}):
            continue  # valid on PATCH: keeps the attached identities
        r = patch(wire, "vm", group, "vm1", {"identity": block, "tags": {"changed": "yes"}})
        assert r.status_code == 400, (block, r.text)
    after = get(wire, "vm", group, "vm1").json()
    assert after["identity"] == before["identity"]
    assert after["tags"] == {}


def test_single_uami_providers_reject_two_and_both(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    a, b = new_uami(wire, group), new_uami(wire, group)
    for kind in ("logic", "aks"):
        two = put(wire, kind, group, unique(kind), {"identity": {
            "type": "UserAssigned", "userAssignedIdentities": {a["id"]: {}, b["id"]: {}}}})
        assert two.status_code == 400, two.text
        both = put(wire, kind, group, unique(kind), {"identity": {
            "type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {a["id"]: {}}}})
        assert both.status_code == 400, both.text
    assert list_names(wire, group) == sorted([a["name"], b["name"]])


# -- limits ------------------------------------------------------------------------------------------
def test_twenty_one_uamis_on_one_resource_is_rejected(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    ids = [new_uami(wire, group)["id"] for _ in range(21)]
    ok = put(wire, "vm", group, "vm1", {"identity": {"type": "UserAssigned",
                                                     "userAssignedIdentities": {i: {} for i in ids[:20]}}})
    assert ok.status_code == 201, ok.text
    r = patch(wire, "vm", group, "vm1", {"identity": {"type": "UserAssigned",
                                                      "userAssignedIdentities": {ids[20]: {}}}})
    assert r.status_code == 400
    assert "limit '20'" in error_of(r)["message"]
    assert len(uami_ids(get(wire, "vm", group, "vm1").json())) == 20
    fresh = put(wire, "vm", group, "vm2", {"identity": {"type": "UserAssigned",
                                                        "userAssignedIdentities": {i: {} for i in ids}}})
    assert fresh.status_code == 400
    assert "vm2" not in list_names(wire, group)


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Wire]:
    yield from build_wire(tmp_path, uami_per_resource=2, uami_per_subscription=3)


def test_low_per_resource_limit_from_settings(small):  # type: ignore[no-untyped-def]
    group = new_group(small)
    ids = [new_uami(small, group)["id"] for _ in range(3)]
    r = put(small, "site", group, "app1", {"identity": {"type": "SystemAssigned,UserAssigned",
                                                        "userAssignedIdentities": {i: {} for i in ids}}})
    assert r.status_code == 400
    assert error_of(r)["code"] == "BadRequest"
    assert "app1" not in list_names(small, group)
    ok = put(small, "site", group, "app1", {"identity": {"type": "UserAssigned",
                                                         "userAssignedIdentities": {i: {} for i in ids[:2]}}})
    assert ok.status_code == 201, ok.text


def test_subscription_quota_of_uamis(small):  # type: ignore[no-untyped-def]
    group = new_group(small)
    for i in range(3):
        new_uami(small, group, f"id{i}")
    r = put(small, "msi", group, "id3")
    assert r.status_code == 400
    err = error_of(r)
    assert err["code"] == "QuotaExceeded"
    assert "Current Limit: 3" in err["message"]
    assert list_names(small, group) == ["id0", "id1", "id2"]
    # updating an existing one is not a new identity
    assert put(small, "msi", group, "id0", {"tags": {"a": "b"}}).status_code == 200
    delete(small, "msi", group, "id1")
    assert put(small, "msi", group, "id3").status_code == 201


# -- authentication ------------------------------------------------------------------------------------
def test_no_token_is_401_with_challenge(wire):  # type: ignore[no-untyped-def]
    r = wire.arm.get(f"/subscriptions/{wire.sub}/resourcegroups", params={"api-version": API["group"]})
    assert r.status_code == 401
    assert error_of(r)["code"] == "AuthenticationFailed"
    challenge = r.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'authorization_uri="https://login.test/{wire.settings.tenant_id}"' in challenge


def test_token_for_another_audience_is_401(wire):  # type: ignore[no-untyped-def]
    op = wire.azmi.services.operator
    vault_token, _ = op.token(AZURE_CLI_APP_ID, op.secret, VAULT)
    r = wire.arm.get(f"/subscriptions/{wire.sub}/resourcegroups", params={"api-version": API["group"]},
                     headers={"Authorization": f"Bearer {vault_token}"})
    assert r.status_code == 401
    assert error_of(r)["code"] == "InvalidAuthenticationToken"
    assert "WWW-Authenticate" in r.headers


@pytest.mark.parametrize("authorization", ["Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer a.b.c"])
def test_garbage_credentials_are_401(wire, authorization):  # type: ignore[no-untyped-def]
    r = wire.arm.get(f"/subscriptions/{wire.sub}/resourcegroups", params={"api-version": API["group"]},
                     headers={"Authorization": authorization})
    assert r.status_code == 401
    assert error_of(r)["code"] in ("InvalidAuthenticationToken", "AuthenticationFailed")


def test_expired_token_is_401(wire):  # type: ignore[no-untyped-def]
    wire.clock.advance(wire.settings.token_lifetime + 301)
    r = arm(wire, "GET", f"/subscriptions/{wire.sub}/resourcegroups", API["group"])
    assert r.status_code == 401
    assert error_of(r)["code"] == "InvalidAuthenticationToken"


def test_unauthenticated_write_changes_nothing(wire):  # type: ignore[no-untyped-def]
    name = unique("rg")
    r = wire.arm.put(group_path(wire, name), params={"api-version": API["group"]}, json={"location": "eastus"})
    assert r.status_code == 401
    assert arm(wire, "GET", group_path(wire, name), API["group"]).status_code == 404


# -- bad input: 4xx in ARM's shape, never a 500, nothing persisted --------------------------------------
def test_malformed_json_and_non_object_bodies(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    path = resource_path(wire, "vm", group, "vm1")
    for raw in (b"{", b"{'location': 'eastus'}", b"[]", b'"vm"', b"42", b"null", b"\xff\xfe{}",
                b'{"location": "eastus"} trailing'):
        r = arm(wire, "PUT", path, API["vm"], content=raw)
        assert r.status_code == 400, (raw, r.status_code, r.text)
        assert error_of(r)["code"] == "InvalidRequestContent"
    assert list_names(wire, group) == []


def test_deeply_nested_json_is_400(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    raw = b'{"location": "eastus", "properties": {"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    r = arm(wire, "PUT", resource_path(wire, "vm", group, "vm1"), API["vm"], content=raw)
    assert r.status_code == 400, r.text
    error_of(r)
    assert list_names(wire, group) == []


def test_oversize_body_is_rejected(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    body = {"location": "eastus", "properties": {"blob": "x" * (1024 * 1024 + 1)}}
    r = arm(wire, "PUT", resource_path(wire, "vm", group, "vm1"), API["vm"], body)
    assert 400 <= r.status_code < 500
    error_of(r)
    assert list_names(wire, group) == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("sub", ["not-a-guid", "00000000-0000-0000-0000-00000000a2a", "12345"])
def test_malformed_subscription_id(wire, method, sub):  # type: ignore[no-untyped-def]
    r = arm(wire, method, f"/subscriptions/{sub}/resourceGroups/rg1", API["group"],
            {"location": "eastus"} if method == "PUT" else None)
    assert r.status_code == 400, r.text
    assert error_of(r)["code"] == "InvalidSubscriptionId"


def test_unknown_subscription_is_404(wire):  # type: ignore[no-untyped-def]
    r = arm(wire, "PUT", "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg1", API["group"],
            {"location": "eastus"})
    assert r.status_code in (403, 404)  # no access, or not found: either way nothing is created
    assert error_of(r)["code"] in ("AuthorizationFailed", "SubscriptionNotFound")


@pytest.mark.parametrize("name", ["bad!name", "a" * 91, "ends-with.", "has space", "sl\\ash"])
def test_bad_group_names(wire, name):  # type: ignore[no-untyped-def]
    r = arm(wire, "PUT", group_path(wire, name), API["group"], {"location": "eastus"})
    assert r.status_code == 400, r.text
    assert error_of(r)["code"] == "InvalidResourceGroup"
    names = [g["name"] for g in arm(wire, "GET", f"/subscriptions/{wire.sub}/resourcegroups",
                                    API["group"]).json()["value"]]
    assert name not in names


@pytest.mark.parametrize("kind, name", [("vm", "bad!name"), ("vm", "-starts-with-dash"), ("vm", "a" * 65),
                                        ("site", "a"), ("site", "under_score"), ("msi", "ab"),
                                        ("msi", "dot.ted")])
def test_bad_resource_names(wire, kind, name):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    r = put(wire, kind, group, name)
    assert r.status_code == 400, r.text
    assert error_of(r)["code"] == "InvalidResourceName"
    assert list_names(wire, group) == []


def test_unknown_resource_type(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    r = arm(wire, "PUT", f"{group_path(wire, group)}/providers/Microsoft.Foo/bars/x", "2024-01-01",
            {"location": "eastus"})
    assert 400 <= r.status_code < 500
    assert error_of(r)["code"] == "InvalidResourceType"
    assert list_names(wire, group) == []


@pytest.mark.parametrize("path", ["group", "resource"])
def test_missing_api_version(wire, path):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    url = group_path(wire, unique("rg")) if path == "group" else resource_path(wire, "vm", group, "vm1")
    r = arm(wire, "PUT", url, None, {"location": "eastus"})
    assert r.status_code == 400
    assert error_of(r)["code"] == "MissingApiVersionParameter"
    assert list_names(wire, group) == []


def test_unknown_api_version(wire):  # type: ignore[no-untyped-def]
    name = unique("rg")
    r = arm(wire, "PUT", group_path(wire, name), "2099-01-01", {"location": "eastus"})
    assert r.status_code == 400
    err = error_of(r)
    assert err["code"] == "InvalidApiVersionParameter"
    assert "'2099-01-01' is invalid" in err["message"]
    assert arm(wire, "GET", group_path(wire, name), API["group"]).status_code == 404
    group = new_group(wire)
    r = arm(wire, "PUT", resource_path(wire, "vm", group, "vm1"), "2099-01-01", {"location": "eastus"})
    assert r.status_code == 400
    assert error_of(r)["code"] == "NoRegisteredProviderFound"
    r = arm(wire, "PUT", resource_path(wire, "msi", group, "id1"), API["vm"], {"location": "eastus"})
    assert r.status_code == 400  # a Compute api-version is not a ManagedIdentity one
    assert list_names(wire, group) == []


@pytest.mark.parametrize("method, where", [("POST", "group"), ("POST", "resource"), ("PUT", "groups"),
                                           ("DELETE", "groups"), ("PATCH", "subscription")])
def test_wrong_method_is_405(wire, method, where):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    url = {"group": group_path(wire, group), "resource": resource_path(wire, "vm", group, "vm1"),
           "groups": f"/subscriptions/{wire.sub}/resourcegroups",
           "subscription": f"/subscriptions/{wire.sub}"}[where]
    r = arm(wire, method, url, API["group"] if where != "resource" else API["vm"], {"location": "eastus"})
    assert r.status_code == 405
    assert error_of(r)["code"] == "MethodNotAllowed"
    assert list_names(wire, group) == []


def test_repeated_query_parameter(wire):  # type: ignore[no-untyped-def]
    name = unique("rg")
    r = wire.arm.put(group_path(wire, name) + f"?api-version={API['group']}&api-version={API['group']}",
                     json={"location": "eastus"}, headers=wire.auth())
    assert r.status_code == 400
    assert error_of(r)["code"] == "InvalidQueryParameter"
    assert arm(wire, "GET", group_path(wire, name), API["group"]).status_code == 404


@pytest.mark.parametrize("body", [{"location": 5}, {"location": ""}, {"location": "x" * 100},
                                  {"location": "eastus", "tags": {"a": 1}}, {"location": "eastus", "tags": []},
                                  {"location": "eastus", "tags": {f"k{i}": "v" for i in range(51)}},
                                  {"location": "eastus", "properties": []}, {"location": "eastus", "kind": 7}])
def test_bad_fields_are_400(wire, body):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    r = arm(wire, "PUT", resource_path(wire, "site", group, "app1"), API["site"], body)
    assert r.status_code == 400, (body, r.text)
    error_of(r)
    assert list_names(wire, group) == []


def test_unknown_path_is_404_in_arm_shape(wire):  # type: ignore[no-untyped-def]
    r = arm(wire, "GET", "/nothing/here", API["group"])
    assert r.status_code == 404
    error_of(r)


def test_environment_of_a_vm_and_a_site(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    vm = with_system(wire, "vm", group)
    env = wire.arm.get("/azmi/environment", params={"resourceId": vm["id"]}, headers=wire.auth()).json()
    assert env["set"]["AZURE_POD_IDENTITY_AUTHORITY_HOST"] == f"http://imds.test/{binding_key(wire, vm['id'])}"
    assert "IDENTITY_ENDPOINT" in env["unset"] and "AZURE_CLIENT_ID" in env["unset"]
    site = with_system(wire, "site", group)
    env = wire.arm.get("/azmi/environment", params={"resourceId": site["id"]}, headers=wire.auth()).json()
    assert env["set"]["IDENTITY_ENDPOINT"] == "http://appsvc.test/msi/token"
    assert "AZURE_POD_IDENTITY_AUTHORITY_HOST" in env["unset"]
    r = wire.arm.get("/azmi/environment", params={"resourceId": "nope"}, headers=wire.auth())
    assert r.status_code == 400
    error_of(r)
