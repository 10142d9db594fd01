"""`azmi keyvault`: vault body, access-policy edits, secret output and Key Vault error text."""

from __future__ import annotations

import pytest

from azmi.cli.argv import expand_multi_values
from azmi.cli.errors import CliError, arm_error_message
from azmi.cli.keyvault_ops import (CREATOR_PERMISSIONS, find_vault, policy_of, secret_name, secret_view, set_policy,
                                   vault_body)

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OP = "9923f288-774a-4d1f-9e67-8fd4134c51c6"
OID = "d0fa9a27-eabb-4d31-b1eb-3f48fbb85b87"


def test_rbac_vault_has_no_policies() -> None:
    body = vault_body("eastus", TENANT, "standard", True, OP, None, {})
    assert body == {"location": "eastus", "tags": {}, "properties": {
        "tenantId": TENANT, "sku": {"family": "A", "name": "standard"}, "enableRbacAuthorization": True,
        "accessPolicies": []}}


def test_access_policy_vault_grants_the_creator() -> None:
    props = vault_body("eastus", TENANT, "premium", False, OP, 7, {"a": "b"})["properties"]
    assert props["sku"]["name"] == "premium" and props["softDeleteRetentionInDays"] == 7
    assert props["accessPolicies"] == [{"tenantId": TENANT, "objectId": OP, "permissions": CREATOR_PERMISSIONS}]
    assert props["accessPolicies"][0]["permissions"]["secrets"] == [
        "get", "list", "set", "delete", "backup", "restore", "recover", "purge"]


def test_set_policy_adds_an_entry_then_replaces_only_given_kinds() -> None:
    first = set_policy([], TENANT, OID, {"secrets": ["get", "list"], "keys": []})
    assert first == [{"tenantId": TENANT, "objectId": OID, "permissions": {"secrets": ["get", "list"]}}]
    second = set_policy(first, TENANT, OID.upper(), {"keys": ["get"], "secrets": []})
    assert second[0]["permissions"] == {"secrets": ["get", "list"], "keys": ["get"]}
    assert first[0]["permissions"] == {"secrets": ["get", "list"]}  # input untouched


def test_policy_of_finds_the_object_or_fails() -> None:
    entry = {"tenantId": TENANT, "objectId": OID, "permissions": {"secrets": ["get"]}}
    assert policy_of([entry], TENANT, OID.upper()) is entry
    with pytest.raises(CliError, match="No matching policies found"):
        policy_of([entry], TENANT, OP)


def test_find_vault_by_name_case_insensitively() -> None:
    assert find_vault([{"name": "KV1"}], "kv1") == {"name": "KV1"}
    with pytest.raises(CliError) as err:
        find_vault([], "kv1")
    assert err.value.exit_code == 3
    assert err.value.message == "The Resource 'Microsoft.KeyVault/vaults/kv1' not found within subscription."


def test_permission_lists_are_space_separated_like_az() -> None:
    argv = ["keyvault", "set-policy", "-n", "v", "--secret-permissions", "get", "list", "--object-id", OID]
    assert expand_multi_values(argv) == ["keyvault", "set-policy", "-n", "v", "--secret-permissions=get",
                                         "--secret-permissions=list", "--object-id", OID]


def test_secret_bundle_as_az_prints_it() -> None:
    bundle = {"value": "v", "id": "https://127.0.0.1:4431/secrets/db-pass/0123abcd", "tags": {"a": "b"},
              "attributes": {"enabled": True, "created": 0, "updated": 60, "recoveryLevel": "Recoverable+Purgeable",
                             "recoverableDays": 90}}
    assert secret_view(bundle) == {
        "attributes": {"created": "1970-01-01T00:00:00+00:00", "enabled": True, "expires": None, "notBefore": None,
                       "recoverableDays": 90, "recoveryLevel": "Recoverable+Purgeable",
                       "updated": "1970-01-01T00:01:00+00:00"},
        "contentType": None, "id": bundle["id"], "kid": None, "managed": None, "name": "db-pass",
        "tags": {"a": "b"}, "value": "v"}
    item = secret_view({"id": "https://h/secrets/x", "attributes": {}}, with_value=False)
    assert item["name"] == "x" and "value" not in item


def test_deleted_secret_has_recovery_fields() -> None:
    view = secret_view({"id": "https://h/secrets/x/1", "recoveryId": "https://h/deletedsecrets/x", "deletedDate": 0,
                        "scheduledPurgeDate": 86400})
    assert view["recoveryId"] == "https://h/deletedsecrets/x"
    assert view["scheduledPurgeDate"] == "1970-01-02T00:00:00+00:00"
    assert secret_name("https://h:443/deletedsecrets/y") == "y"


def test_key_vault_error_prints_inner_error_like_azure_core() -> None:
    body = {"error": {"code": "Forbidden", "message": "Caller is not authorized.",
                      "innererror": {"code": "ForbiddenByRbac"}}}
    assert arm_error_message(body, 403) == ('(Forbidden) Caller is not authorized.\nCode: Forbidden\n'
                                            'Message: Caller is not authorized.\n'
                                            'Inner error: {\n    "code": "ForbiddenByRbac"\n}')
