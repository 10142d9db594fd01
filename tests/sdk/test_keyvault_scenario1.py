"""Scenario 1: a Function App reads a Key Vault secret with its system-assigned identity.

Everything a user sees goes through the unmodified SDKs: the operator writes the secret with
`SecretClient` + `ClientSecretCredential`; the function app's code runs in a fresh interpreter
with exactly the app's environment (`azmi run`) and uses `DefaultAzureCredential` (prod chain)
with `SecretClient(..., verify_challenge_resource=False)`, sync and async.

- RBAC vault: no grant -> 403 Forbidden / ForbiddenByRbac naming the caller; Key Vault Secrets
  User at the vault -> the value; delete and recreate the app -> a new principal, 403 again,
  and the old assignment is left behind as an orphan whose principal no longer resolves.
- Access-policy vault: get+list -> the value; list only -> 403 AccessDenied on get.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Server
from tests.sdk.keyvault_helpers import (add_policy, assignments_at, create_vault, grant, operator_secrets,
                                        read_secret)

SECRET_NAME = "db-password"
SECRET_VALUE = "s3cr3t-from-the-vault"


def function_app(server: Server, group: str, name: str) -> dict[str, Any]:
    return server.put("site", group, name, {"kind": "functionapp", "identity": {"type": "SystemAssigned"}},
                      expect=201)


def assert_forbidden_by_rbac(result: dict[str, Any], oid: str, vault_name: str) -> None:
    assert result["type"] == "HttpResponseError", result
    assert result["status"] == 403
    assert result["code"] == "Forbidden"
    assert "Inner error" in result["message"] and "ForbiddenByRbac" in result["message"]  # what str(exc) shows
    error = result["body"]["error"]
    assert error["code"] == "Forbidden"
    assert error["innererror"]["code"] == "ForbiddenByRbac"
    message = error["message"]
    assert message.startswith("Caller is not authorized to perform action on resource.\r\n")
    assert f"oid={oid};" in message
    assert "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'" in message
    assert f"/providers/microsoft.keyvault/vaults/{vault_name}/secrets/{SECRET_NAME}'" in message
    assert "DecisionReason: 'DeniedWithNoValidRBAC'" in message


@pytest.fixture(scope="module")
def rbac_vault(server: Server) -> dict[str, Any]:
    group = server.new_group()
    vault = create_vault(server, group, rbac=True)
    # The operator is Owner on the subscription, yet has no data access until it holds a data role.
    with operator_secrets(server, vault["properties"]["vaultUri"]) as client:
        from azure.core.exceptions import HttpResponseError
        with pytest.raises(HttpResponseError) as denied:
            client.set_secret(SECRET_NAME, SECRET_VALUE)
        assert denied.value.status_code == 403
        assert denied.value.error is not None and denied.value.error.code == "Forbidden"
        grant(server, vault["id"], "Key Vault Secrets Officer", server.operator["object_id"])
        stored = client.set_secret(SECRET_NAME, SECRET_VALUE, content_type="text/plain")
        assert stored.value == SECRET_VALUE
        assert client.get_secret(SECRET_NAME).value == SECRET_VALUE
    return {"group": group, **vault}


def test_function_app_reads_secret_only_after_grant_and_loses_it_when_recreated(
        server: Server, rbac_vault: dict[str, Any]) -> None:
    group, uri, vault_id = rbac_vault["group"], rbac_vault["properties"]["vaultUri"], rbac_vault["id"]
    app = function_app(server, group, "func-orders")
    oid = app["identity"]["principalId"]

    denied = read_secret(server, app["id"], uri, SECRET_NAME)
    for mode in ("sync", "async"):
        assert_forbidden_by_rbac(denied[mode], oid, rbac_vault["name"])

    old_assignment = grant(server, vault_id, "Key Vault Secrets User", oid)
    allowed = read_secret(server, app["id"], uri, SECRET_NAME)
    for mode in ("sync", "async"):
        assert allowed[mode]["value"] == SECRET_VALUE, allowed[mode]
        assert allowed[mode]["id"].startswith(f"{uri}secrets/{SECRET_NAME}/")

    # Delete and recreate the app under the same name: a new identity, and no access.
    assert server.delete("site", group, "func-orders").status_code == 200
    again = function_app(server, group, "func-orders")
    new_oid = again["identity"]["principalId"]
    assert new_oid != oid
    denied = read_secret(server, again["id"], uri, SECRET_NAME, modes=("sync",))
    assert_forbidden_by_rbac(denied["sync"], new_oid, rbac_vault["name"])

    # The old assignment is still listed at the vault, for a principal that no longer exists.
    listed = {a["name"]: a for a in assignments_at(server, vault_id)}
    assert old_assignment["name"] in listed
    orphan = listed[old_assignment["name"]]["properties"]
    assert orphan["principalId"] == oid
    assert orphan["roleDefinitionId"].endswith("/4633458b-17de-408a-b874-0445c86b69e6")
    assert not any(a["properties"]["principalId"] == new_oid for a in listed.values())
    gone = server.client.get(f"{server.info['arm']}/azmi/principals/{oid}",
                             headers={"Authorization": f"Bearer {server.token()}"})
    assert gone.status_code == 404, gone.text
    present = server.client.get(f"{server.info['arm']}/azmi/principals/{new_oid}",
                                headers={"Authorization": f"Bearer {server.token()}"})
    assert present.status_code == 200, present.text

    grant(server, vault_id, "Key Vault Secrets User", new_oid)
    allowed = read_secret(server, again["id"], uri, SECRET_NAME, modes=("async",))
    assert allowed["async"]["value"] == SECRET_VALUE


def test_access_policy_vault(server: Server) -> None:
    group = server.new_group()
    vault = create_vault(server, group, rbac=False)
    uri = vault["properties"]["vaultUri"]
    add_policy(server, vault["id"], server.operator["object_id"], ["get", "list", "set"])
    with operator_secrets(server, uri) as client:
        client.set_secret(SECRET_NAME, SECRET_VALUE)

    reader = function_app(server, group, "func-reader")
    lister = function_app(server, group, "func-lister")
    add_policy(server, vault["id"], reader["identity"]["principalId"], ["get", "list"])
    add_policy(server, vault["id"], lister["identity"]["principalId"], ["list"])

    allowed = read_secret(server, reader["id"], uri, SECRET_NAME)
    for mode in ("sync", "async"):
        assert allowed[mode]["value"] == SECRET_VALUE, allowed[mode]

    denied = read_secret(server, lister["id"], uri, SECRET_NAME)
    lister_oid = lister["identity"]["principalId"]
    for mode in ("sync", "async"):
        result = denied[mode]
        assert result["status"] == 403, result
        assert result["code"] == "Forbidden"
        error = result["body"]["error"]
        assert error["innererror"]["code"] == "AccessDenied"
        assert f"oid={lister_oid};" in error["message"]
        assert "does not have secrets get permission" in error["message"]
        assert f"on key vault '{vault['name']};location=eastus'" in error["message"]

    # A role assignment means nothing in an access-policy vault.
    grant(server, vault["id"], "Key Vault Secrets User", lister_oid)
    still = read_secret(server, lister["id"], uri, SECRET_NAME, modes=("sync",))
    assert still["sync"]["status"] == 403
    assert still["sync"]["body"]["error"]["innererror"]["code"] == "AccessDenied"
