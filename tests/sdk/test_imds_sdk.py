"""A VM's managed identities through IMDS, as the unmodified azure-identity SDK sees them.

Every token is verified like a relying party would (JWKS from OIDC discovery) and must name
the identity ARM reports for the VM (oid = principalId, appid = clientId).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Server
from tests.sdk.helpers import (VAULT, assert_principal, error_from, identity_of, imds_get, imds_host, snippet,
                               token_from, uami, user_assigned, verify)

FLAVOURS = [("ManagedIdentityCredential", False), ("ManagedIdentityCredential", True),
            ("DefaultAzureCredential", False), ("DefaultAzureCredential", True)]
FLAVOUR_IDS = ["mi-sync", "mi-async", "dac-sync", "dac-async"]


@pytest.fixture(scope="module")
def group(server: Server) -> str:
    return server.new_group()


@pytest.fixture(scope="module")
def system_vm(server: Server, group: str) -> dict[str, Any]:
    return server.put("vm", group, "vm-system", {"identity": {"type": "SystemAssigned"}}, expect=201)


@pytest.fixture(scope="module")
def both_vm(server: Server, group: str) -> dict[str, Any]:
    """A VM with a system-assigned identity and one user-assigned identity."""
    ua = uami(server, group, "id-both")
    vm = server.put("vm", group, "vm-both", {"identity": {
        "type": "SystemAssigned, UserAssigned", "userAssignedIdentities": user_assigned(ua)}}, expect=201)
    return {"vm": vm, "uami": ua}


# --- system-assigned ---------------------------------------------------------------------------

@pytest.mark.parametrize("cls,use_async", FLAVOURS, ids=FLAVOUR_IDS)
def test_system_assigned_token(server: Server, system_vm: dict[str, Any], cls: str, use_async: bool) -> None:
    vm_id = system_vm["id"]
    ident = identity_of(server, vm_id)
    assert ident["principalId"] == system_vm["identity"]["principalId"]

    token = token_from(server, vm_id, snippet(cls, use_async=use_async))

    claims = verify(server, token, VAULT)
    assert_principal(claims, ident["principalId"], ident["clientId"])


# --- system-assigned + user-assigned -----------------------------------------------------------

@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_no_selector_picks_system_assigned(server: Server, both_vm: dict[str, Any], use_async: bool) -> None:
    vm_id = both_vm["vm"]["id"]
    ident = identity_of(server, vm_id)
    token = token_from(server, vm_id, snippet(use_async=use_async))
    assert_principal(verify(server, token), ident["principalId"], ident["clientId"])
    assert ident["principalId"] != both_vm["uami"]["properties"]["principalId"]


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("how", ["client_id", "identity_config-client_id", "identity_config-resource_id",
                                 "identity_config-object_id"])
def test_selector_picks_user_assigned(server: Server, both_vm: dict[str, Any], how: str, use_async: bool) -> None:
    ua = both_vm["uami"]
    props = ua["properties"]
    kwargs = {
        "client_id": f"client_id={props['clientId']!r}",
        "identity_config-client_id": f"identity_config={{'client_id': {props['clientId']!r}}}",
        "identity_config-resource_id": f"identity_config={{'resource_id': {ua['id']!r}}}",
        "identity_config-object_id": f"identity_config={{'object_id': {props['principalId']!r}}}",
    }[how]

    token = token_from(server, both_vm["vm"]["id"], snippet(kwargs=kwargs, use_async=use_async))

    assert_principal(verify(server, token), props["principalId"], props["clientId"])


def test_dac_with_managed_identity_client_id_picks_user_assigned(server: Server, both_vm: dict[str, Any]) -> None:
    props = both_vm["uami"]["properties"]
    code = snippet("DefaultAzureCredential", f"managed_identity_client_id={props['clientId']!r}")
    token = token_from(server, both_vm["vm"]["id"], code)
    assert_principal(verify(server, token), props["principalId"], props["clientId"])


# --- errors the SDK surfaces -------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_uami_vm(server: Server, group: str) -> dict[str, Any]:
    a, b = uami(server, group), uami(server, group)
    vm = server.put("vm", group, "vm-two-uami", {"identity": {
        "type": "UserAssigned", "userAssignedIdentities": user_assigned(a, b)}}, expect=201)
    return {"vm": vm, "uamis": [a, b]}


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_two_user_assigned_without_selector_is_ambiguous(server: Server, two_uami_vm: dict[str, Any],
                                                         use_async: bool) -> None:
    name, message = error_from(server, two_uami_vm["vm"]["id"], snippet(use_async=use_async))
    assert name == "CredentialUnavailableError"
    assert "Multiple user assigned identities" in message


def test_two_user_assigned_with_selector_works(server: Server, two_uami_vm: dict[str, Any]) -> None:
    props = two_uami_vm["uamis"][1]["properties"]
    token = token_from(server, two_uami_vm["vm"]["id"], snippet(kwargs=f"client_id={props['clientId']!r}"))
    assert_principal(verify(server, token), props["principalId"], props["clientId"])


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_unknown_client_id_is_identity_not_found(server: Server, both_vm: dict[str, Any], use_async: bool) -> None:
    code = snippet(kwargs="client_id='00000000-1111-2222-3333-444444444444'", use_async=use_async)
    name, message = error_from(server, both_vm["vm"]["id"], code)
    assert name == "CredentialUnavailableError"
    assert "Identity not found" in message


def test_uami_not_assigned_to_this_vm_is_identity_not_found(server: Server, group: str,
                                                            system_vm: dict[str, Any]) -> None:
    other = uami(server, group)
    code = snippet(kwargs=f"client_id={other['properties']['clientId']!r}")
    name, message = error_from(server, system_vm["id"], code)
    assert name == "CredentialUnavailableError"
    assert "Identity not found" in message


# --- the raw wire (what curl sees) ---------------------------------------------------------------

def test_raw_token_response_shape(server: Server, system_vm: dict[str, Any]) -> None:
    ident = identity_of(server, system_vm["id"])
    r = imds_get(imds_host(server, system_vm["id"]))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    for name in ("expires_in", "expires_on", "not_before"):
        assert isinstance(body[name], str) and body[name].isdigit(), (name, body[name])
    assert body["token_type"] == "Bearer"
    assert body["resource"] == VAULT
    assert body["client_id"] == ident["clientId"]
    claims = verify(server, body["access_token"])
    assert claims["exp"] == int(body["expires_on"])
    assert claims["nbf"] == int(body["not_before"])
    assert 0 < int(body["expires_in"]) <= claims["exp"] - claims["iat"]
    assert_principal(claims, ident["principalId"], ident["clientId"])


def test_raw_audience_is_the_resource_exactly(server: Server, system_vm: dict[str, Any]) -> None:
    r = imds_get(imds_host(server, system_vm["id"]), resource="https://management.azure.com/")
    assert r.status_code == 200, r.text
    assert r.json()["resource"] == "https://management.azure.com/"
    verify(server, r.json()["access_token"], audience="https://management.azure.com/")


def test_raw_without_metadata_header(server: Server, system_vm: dict[str, Any]) -> None:
    r = imds_get(imds_host(server, system_vm["id"]), headers={})
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_request", "error_description": "Required metadata header not specified"}


@pytest.mark.parametrize("key", ["wrong", "missing"])
def test_raw_bad_binding_key(server: Server, system_vm: dict[str, Any], key: str) -> None:
    real = imds_host(server, system_vm["id"])
    base = server.info["imds"]
    url = {"wrong": f"{base}/{real.rsplit('/', 1)[1][:-4]}abcd", "missing": base}[key]
    r = imds_get(url)
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_request", "error_description": "Identity not found"}


# --- caching and lifecycle ---------------------------------------------------------------------

def test_token_is_cached(server: Server, system_vm: dict[str, Any]) -> None:
    url = imds_host(server, system_vm["id"])
    first, second = imds_get(url), imds_get(url)
    assert first.status_code == second.status_code == 200
    assert first.json()["access_token"] == second.json()["access_token"]
    # a different audience is a different token
    other = imds_get(url, resource="https://storage.azure.com/")
    assert other.json()["access_token"] != first.json()["access_token"]


def test_deleted_vm_binding_stops_working(server: Server, group: str) -> None:
    vm = server.put("vm", group, "vm-deleted", {"identity": {"type": "SystemAssigned"}}, expect=201)
    url = imds_host(server, vm["id"])
    assert imds_get(url).status_code == 200

    assert server.delete("vm", group, "vm-deleted").status_code == 200

    r = imds_get(url)
    assert r.status_code == 400
    assert r.json()["error_description"] == "Identity not found"


def test_disabled_identity_is_identity_not_found(server: Server, group: str) -> None:
    vm = server.put("vm", group, "vm-disabled", {"identity": {"type": "SystemAssigned"}}, expect=201)
    assert token_from(server, vm["id"], snippet())

    r = server.patch("vm", group, "vm-disabled", {"identity": {"type": "None"}})
    assert r.status_code == 200, r.text
    assert "identity" not in r.json() or r.json()["identity"].get("type") == "None"

    raw = imds_get(imds_host(server, vm["id"]))
    assert raw.status_code == 400
    assert raw.json()["error_description"] == "Identity not found"
    name, message = error_from(server, vm["id"], snippet())
    assert name == "CredentialUnavailableError" and "Identity not found" in message


def test_recreated_vm_is_a_new_identity(server: Server, group: str) -> None:
    old = server.put("vm", group, "vm-again", {"identity": {"type": "SystemAssigned"}}, expect=201)
    old_url = imds_host(server, old["id"])
    old_token = imds_get(old_url).json()["access_token"]
    assert server.delete("vm", group, "vm-again").status_code == 200

    new = server.put("vm", group, "vm-again", {"identity": {"type": "SystemAssigned"}}, expect=201)

    assert new["id"] == old["id"]
    assert new["identity"]["principalId"] != old["identity"]["principalId"]
    assert imds_host(server, new["id"]) != old_url
    stale = imds_get(old_url)
    assert stale.status_code == 400 and stale.json()["error_description"] == "Identity not found"
    token = token_from(server, new["id"], snippet())
    assert token != old_token
    assert verify(server, token)["oid"] == new["identity"]["principalId"]


def test_deleted_user_assigned_identity_stops_working(server: Server, group: str) -> None:
    ua = uami(server, group, "id-deleted")
    vm = server.put("vm", group, "vm-ua-deleted", {"identity": {
        "type": "UserAssigned", "userAssignedIdentities": user_assigned(ua)}}, expect=201)
    url = imds_host(server, vm["id"])
    client_id = ua["properties"]["clientId"]
    assert imds_get(url, client_id=client_id).status_code == 200

    assert server.delete("msi", group, "id-deleted").status_code == 200

    for params in ({"client_id": client_id}, {}):
        r = imds_get(url, **params)
        assert r.status_code == 400 and r.json()["error_description"] == "Identity not found", params
    # a new identity with the same name is a new principal, not assigned to the VM
    again = uami(server, group, "id-deleted")
    assert again["properties"]["principalId"] != ua["properties"]["principalId"]
    r = imds_get(url, client_id=again["properties"]["clientId"])
    assert r.status_code == 400 and r.json()["error_description"] == "Identity not found"
