"""IMDS token endpoint and instance metadata, in-process (azure-wire.md §1, sdk-compat §2.1 and §9)."""

from __future__ import annotations

import json

import pytest

from tests.http.helpers import (IMDS_TOKEN, MGMT, VAULT, binding_key, claims, imds_get, imds_token, new_group,
                                new_uami, put, unique, with_system, with_users)

GENERIC = ("The request is missing a required parameter, includes an invalid parameter value, includes a "
           "parameter more than once, or is otherwise malformed.")


@pytest.fixture
def vm(wire):  # type: ignore[no-untyped-def]
    """A VM with a system-assigned identity; returns (resource json, binding key)."""
    group = new_group(wire)
    body = with_system(wire, "vm", group)
    return body, binding_key(wire, body["id"])


def error(r, description: str, code: str = "invalid_request") -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == code
    assert body["error_description"] == description


# -- success -------------------------------------------------------------------------------------
def test_success_body_shape_and_string_numbers(wire, vm):  # type: ignore[no-untyped-def]
    body, key = vm
    r = imds_get(wire, key, {"api-version": "2018-02-01", "resource": VAULT})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    out = r.json()
    assert set(out) == {"access_token", "client_id", "expires_in", "expires_on", "ext_expires_in", "not_before",
                        "resource", "token_type"}
    for name in ("expires_in", "expires_on", "ext_expires_in", "not_before"):
        assert isinstance(out[name], str) and out[name].isdigit(), (name, out[name])
    now = int(wire.clock.now())
    assert int(out["expires_on"]) - now == int(out["expires_in"]) == wire.settings.token_lifetime
    assert out["not_before"] == str(now)
    assert out["resource"] == VAULT
    assert out["token_type"] == "Bearer"
    c = claims(out["access_token"])
    assert c["aud"] == VAULT
    assert c["oid"] == body["identity"]["principalId"]
    assert c["appid"] == out["client_id"]
    assert c["exp"] == int(out["expires_on"])


def test_body_is_compact_json_bytes(wire, vm):  # type: ignore[no-untyped-def]
    _, key = vm
    r = imds_get(wire, key, {"api-version": "2018-02-01", "resource": MGMT})
    assert r.content == json.dumps(r.json(), separators=(",", ":")).encode()


def test_resource_is_echoed_exactly_with_trailing_slash(wire, vm):  # type: ignore[no-untyped-def]
    _, key = vm
    r = imds_get(wire, key, {"api-version": "2018-02-01", "resource": "https://vault.azure.net/"})
    assert r.json()["resource"] == "https://vault.azure.net/"
    assert claims(r.json()["access_token"])["aud"] == "https://vault.azure.net/"


def test_sdk_extra_headers_are_tolerated(wire, vm):  # type: ignore[no-untyped-def]
    _, key = vm
    r = imds_get(wire, key, {"api-version": "2018-02-01", "resource": MGMT},
                 headers={"Metadata": "true", "x-client-SKU": "MSAL.Python", "x-client-Ver": "1.39.0",
                          "x-ms-client-request-id": "0d4b1d1a-9b39-4d40-a0d3-2c8a2f5e7a11"})
    assert r.status_code == 200, r.text


# -- the check order ---------------------------------------------------------------------------------
def test_post_is_405_method_not_allowed(wire, vm):  # type: ignore[no-untyped-def]
    _, key = vm
    r = wire.imds.post(f"/{key}{IMDS_TOKEN}", params={"api-version": "2018-02-01", "resource": MGMT},
                       headers={"Metadata": "true"})
    assert r.status_code == 405
    assert r.json()["error"] == "method_not_allowed"


@pytest.mark.parametrize("headers", [{}, {"Metadata": "True"}, {"Metadata": "false"}, {"Metadata": "TRUE"},
                                     {"Metadata": ""}])
def test_metadata_header_must_be_lowercase_true(wire, vm, headers):  # type: ignore[no-untyped-def]
    _, key = vm
    r = imds_get(wire, key, {"api-version": "2018-02-01", "resource": MGMT}, headers=headers)
    assert r.status_code == 400
    assert r.content == b'{"error":"invalid_request","error_description":"Required metadata header not specified"}'
    assert r.headers["content-type"] == "application/json; charset=utf-8"


def test_metadata_check_comes_before_binding_check(wire):  # type: ignore[no-untyped-def]
    r = imds_get(wire, "no-such-binding", {"api-version": "2018-02-01", "resource": MGMT}, headers={})
    error(r, "Required metadata header not specified")


def test_x_forwarded_for_is_rejected(wire, vm):  # type: ignore[no-untyped-def]
    _, key = vm
    r = imds_get(wire, key, {"api-version": "2018-02-01", "resource": MGMT},
                 headers={"Metadata": "true", "X-Forwarded-For": "10.0.0.1"})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"
    assert "access_token" not in r.json()


def test_repeated_parameter_is_rejected(wire, vm):  # type: ignore[no-untyped-def]
    _, key = vm
    r = imds_get(wire, key, [("api-version", "2018-02-01"), ("resource", MGMT), ("resource", VAULT)])
    error(r, GENERIC)


def test_missing_api_version(wire, vm):  # type: ignore[no-untyped-def]
    _, key = vm
    r = imds_get(wire, key, {"resource": MGMT})
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "invalid_request"
    assert "api-version was not specified" in body["error_description"]
    assert "2023-07-01" in body["newest-versions"]


@pytest.mark.parametrize("version", ["2017-01-01", "2099-01-01", "latest", "2018-02-01 "])
def test_unknown_api_version(wire, vm, version):  # type: ignore[no-untyped-def]
    _, key = vm
    r = imds_get(wire, key, {"api-version": version, "resource": MGMT})
    assert r.status_code == 400
    assert r.json()["error_description"] == "Invalid 'api-version' requested"


def test_missing_resource(wire, vm):  # type: ignore[no-untyped-def]
    _, key = vm
    r = imds_get(wire, key, {"api-version": "2018-02-01"})
    assert r.content == (b'{"error":"invalid_request","error_description":'
                         b'"Required query variable \'resource\' is missing"}')
    assert r.status_code == 400


@pytest.mark.parametrize("pair", [("client_id", "object_id"), ("client_id", "msi_res_id"),
                                  ("object_id", "mi_res_id"), ("msi_res_id", "resource_id")])
def test_two_selectors_are_rejected(wire, vm_with_uamis, pair):  # type: ignore[no-untyped-def]
    vm, a, _ = vm_with_uamis
    values = {"client_id": a["properties"]["clientId"], "object_id": a["properties"]["principalId"]}
    params = {"api-version": "2018-02-01", "resource": MGMT}
    params.update({p: values.get(p, a["id"]) for p in pair})  # both name the same identity
    r = imds_get(wire, binding_key(wire, vm["id"]), params)
    error(r, "Only one of client_id, object_id or msi_res_id can be specified.")


@pytest.mark.parametrize("resource", ["vault.azure.net", "https://", "has space", "//vault.azure.net"])
def test_resource_that_is_no_uri_is_invalid_resource(wire, vm, resource):  # type: ignore[no-untyped-def]
    _, key = vm
    r = imds_get(wire, key, {"api-version": "2018-02-01", "resource": resource})
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "invalid_resource"
    assert body["error_description"].startswith("AADSTS500011: ")
    assert wire.settings.tenant_id in body["error_description"]


def test_guid_resource_is_accepted(wire, vm):  # type: ignore[no-untyped-def]
    _, key = vm
    app_id = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093"
    r = imds_get(wire, key, {"api-version": "2018-02-01", "resource": app_id})
    assert r.status_code == 200, r.text
    assert claims(r.json()["access_token"])["aud"] == app_id


@pytest.mark.parametrize("param", ["resource", "client_id", "authority"])
def test_oversize_values_are_rejected(wire, vm, param):  # type: ignore[no-untyped-def]
    _, key = vm
    params = {"api-version": "2018-02-01", "resource": MGMT}
    params[param] = "https://x.test/" + "a" * 3000
    error(imds_get(wire, key, params), GENERIC)


def test_huge_query_string_is_rejected(wire, vm):  # type: ignore[no-untyped-def]
    _, key = vm
    params = {"api-version": "2018-02-01", "resource": MGMT, **{f"p{i}": "v" * 100 for i in range(100)}}
    r = imds_get(wire, key, params)
    error(r, GENERIC)


# -- binding and identity ----------------------------------------------------------------------------
def test_no_binding_is_identity_not_found(wire, vm):  # type: ignore[no-untyped-def]
    r = imds_get(wire, None, {"api-version": "2018-02-01", "resource": MGMT})
    assert r.content == b'{"error":"invalid_request","error_description":"Identity not found"}'
    assert r.status_code == 400


def test_random_binding_is_identity_not_found(wire, vm):  # type: ignore[no-untyped-def]
    _, key = vm
    r = imds_get(wire, key[:-2] + "xx", {"api-version": "2018-02-01", "resource": MGMT})
    error(r, "Identity not found")


def test_vm_without_identity_is_identity_not_found(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    body = put(wire, "vm", group, unique("vm"), expect=201).json()
    error(imds_token(wire, body["id"]), "Identity not found")


def test_unknown_selector_is_identity_not_found(wire, vm):  # type: ignore[no-untyped-def]
    body, _ = vm
    r = imds_token(wire, body["id"], client_id="11111111-2222-3333-4444-555555555555")
    error(r, "Identity not found")


@pytest.fixture
def vm_with_uamis(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    a, b = new_uami(wire, group), new_uami(wire, group)
    vm = with_users(wire, "vm", group, [a["id"], b["id"]])
    return vm, a, b


@pytest.mark.parametrize("param", ["msi_res_id", "mi_res_id", "resource_id"])
def test_resource_id_aliases_select_a_uami(wire, vm_with_uamis, param):  # type: ignore[no-untyped-def]
    vm, a, b = vm_with_uamis
    r = imds_token(wire, vm["id"], **{param: b["id"]})
    assert r.status_code == 200, r.text
    assert r.json()["client_id"] == b["properties"]["clientId"]
    assert claims(r.json()["access_token"])["oid"] == b["properties"]["principalId"]


def test_client_id_and_object_id_select_case_insensitively(wire, vm_with_uamis):  # type: ignore[no-untyped-def]
    vm, a, b = vm_with_uamis
    by_client = imds_token(wire, vm["id"], client_id=a["properties"]["clientId"].upper())
    assert by_client.json()["client_id"] == a["properties"]["clientId"]
    by_object = imds_token(wire, vm["id"], object_id=b["properties"]["principalId"].upper())
    assert by_object.json()["client_id"] == b["properties"]["clientId"]


def test_resource_id_selector_with_upper_case_and_camel_resource_groups(wire, vm_with_uamis):  # type: ignore[no-untyped-def]
    vm, a, _ = vm_with_uamis
    camel = a["id"].replace("/resourcegroups/", "/resourceGroups/").upper()
    r = imds_token(wire, vm["id"], msi_res_id=camel)
    assert r.json()["client_id"] == a["properties"]["clientId"]


def test_two_uamis_without_selector_are_ambiguous(wire, vm_with_uamis):  # type: ignore[no-untyped-def]
    vm, _, _ = vm_with_uamis
    error(imds_token(wire, vm["id"]), "Multiple user assigned identities exist, please specify the clientId / "
                                      "resourceId of the identity in the token request")


def test_uami_token_has_xms_mirid_of_the_uami(wire, vm_with_uamis):  # type: ignore[no-untyped-def]
    vm, a, _ = vm_with_uamis
    r = imds_token(wire, vm["id"], MGMT, client_id=a["properties"]["clientId"])
    assert claims(r.json()["access_token"])["xms_mirid"] == a["id"]


def test_uami_not_attached_to_this_vm_is_not_found(wire, vm_with_uamis):  # type: ignore[no-untyped-def]
    vm, _, _ = vm_with_uamis
    other = new_uami(wire, new_group(wire))
    r = imds_token(wire, vm["id"], client_id=other["properties"]["clientId"])
    error(r, "Identity not found")


def test_system_identity_is_default_when_both_kinds(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    u = new_uami(wire, group)
    vm = with_system(wire, "vm", group, users=[u["id"]])
    r = imds_token(wire, vm["id"])
    assert claims(r.json()["access_token"])["oid"] == vm["identity"]["principalId"]


# -- caching -------------------------------------------------------------------------------------
def test_repeated_calls_get_the_same_token(wire, vm):  # type: ignore[no-untyped-def]
    body, _ = vm
    first = imds_token(wire, body["id"]).json()
    wire.clock.advance(60)
    second = imds_token(wire, body["id"]).json()
    assert second["access_token"] == first["access_token"]
    assert second["expires_on"] == first["expires_on"]
    assert int(second["expires_in"]) == int(first["expires_in"]) - 60


def test_different_audiences_get_different_tokens(wire, vm):  # type: ignore[no-untyped-def]
    body, _ = vm
    assert imds_token(wire, body["id"], MGMT).json()["access_token"] != \
        imds_token(wire, body["id"], VAULT).json()["access_token"]


def test_new_token_once_fewer_than_refresh_margin_remain(wire, vm):  # type: ignore[no-untyped-def]
    body, _ = vm
    lifetime, margin = wire.settings.token_lifetime, wire.settings.token_refresh_margin
    first = imds_token(wire, body["id"]).json()
    wire.clock.advance(lifetime - margin - 1)  # margin + 1 s remain: still cached
    assert imds_token(wire, body["id"]).json()["access_token"] == first["access_token"]
    wire.clock.advance(1)  # exactly margin remain: refreshed
    renewed = imds_token(wire, body["id"]).json()
    assert renewed["access_token"] != first["access_token"]
    assert int(renewed["expires_on"]) == int(wire.clock.now()) + lifetime
    assert renewed["expires_in"] == str(lifetime)


def test_bypass_cache_with_2023_07_01_gets_a_new_token(wire, vm):  # type: ignore[no-untyped-def]
    _, key = vm
    params = {"api-version": "2023-07-01", "resource": MGMT}
    first = imds_get(wire, key, params).json()["access_token"]
    assert imds_get(wire, key, params).json()["access_token"] == first
    fresh = imds_get(wire, key, {**params, "bypass_cache": "true"})
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["access_token"] != first
    # the fresh token replaces the cached one
    assert imds_get(wire, key, params).json()["access_token"] == fresh.json()["access_token"]


@pytest.mark.parametrize("params", [{"api-version": "2018-02-01", "bypass_cache": "true"},
                                    {"api-version": "2023-07-01", "bypass_cache": "false"},
                                    {"api-version": "2023-07-01", "bypass_cache": "1"}])
def test_bypass_cache_needs_2023_07_01_and_true(wire, vm, params):  # type: ignore[no-untyped-def]
    _, key = vm
    r = imds_get(wire, key, {**params, "resource": MGMT})
    error(r, GENERIC)


def test_disabling_identity_stops_tokens_at_once(wire):  # type: ignore[no-untyped-def]
    from tests.http.helpers import patch
    group = new_group(wire)
    vm = with_system(wire, "vm", group, name="vm1")
    assert imds_token(wire, vm["id"]).status_code == 200
    assert patch(wire, "vm", group, "vm1", {"identity": {"type": "None"}}).status_code == 200
    error(imds_token(wire, vm["id"]), "Identity not found")


# -- instance metadata -------------------------------------------------------------------------------
def test_instance_compute_fields(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    name = unique("vm")
    body = put(wire, "vm", group, name, {"identity": {"type": "SystemAssigned"}, "tags": {"env": "dev", "team": "a"},
                                         "properties": {"hardwareProfile": {"vmSize": "Standard_B2s"}}},
               expect=201).json()
    r = imds_get(wire, binding_key(wire, body["id"]), {"api-version": "2021-02-01"}, path="/metadata/instance")
    assert r.status_code == 200, r.text
    compute = r.json()["compute"]
    assert compute["name"] == name
    assert compute["resourceGroupName"] == group
    assert compute["subscriptionId"] == wire.sub
    assert compute["resourceId"] == body["id"]
    assert compute["location"] == "eastus"
    assert compute["vmId"] == body["properties"]["vmId"]
    assert compute["vmSize"] == "Standard_B2s"
    assert compute["tags"] == "env:dev;team:a"
    assert compute["tagsList"] == [{"name": "env", "value": "dev"}, {"name": "team", "value": "a"}]
    assert compute["azEnvironment"] == "AzurePublicCloud"


def test_instance_leaf_as_text(wire, vm):  # type: ignore[no-untyped-def]
    body, key = vm
    r = imds_get(wire, key, {"api-version": "2021-02-01", "format": "text"}, path="/metadata/instance/compute/name")
    assert r.status_code == 200
    assert r.text == body["name"]
    assert r.headers["content-type"].startswith("text/plain")


def test_instance_leaf_without_text_format_is_400(wire, vm):  # type: ignore[no-untyped-def]
    _, key = vm
    r = imds_get(wire, key, {"api-version": "2021-02-01"}, path="/metadata/instance/compute/name")
    assert r.status_code == 400


def test_instance_needs_metadata_header_and_binding(wire, vm):  # type: ignore[no-untyped-def]
    _, key = vm
    r = imds_get(wire, key, {"api-version": "2021-02-01"}, headers={}, path="/metadata/instance")
    error(r, "Required metadata header not specified")
    r = imds_get(wire, None, {"api-version": "2021-02-01"}, path="/metadata/instance")
    error(r, "Identity not found")


def test_instance_unknown_path_is_404(wire, vm):  # type: ignore[no-untyped-def]
    _, key = vm
    r = imds_get(wire, key, {"api-version": "2021-02-01", "format": "text"}, path="/metadata/instance/compute/nope")
    assert r.status_code == 404
