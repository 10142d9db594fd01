"""Scenario 3: one user-assigned identity shared by a web app, a function app and a container group.

A single `Key Vault Secrets User` grant to the UAMI lets all three read the secret with
`ManagedIdentityCredential(client_id=<uami client id>)`; the web and function apps reach the
App Service endpoint, the container group reaches IMDS, and the SDK picks the source itself.
"""

from __future__ import annotations

from tests.conftest import Server
from tests.sdk.helpers import uami, user_assigned
from tests.sdk.keyvault_helpers import create_vault, grant, operator_secrets, read_secret

SECRET_NAME = "shared-api-key"
SECRET_VALUE = "one-identity-three-workloads"


def test_one_uami_one_grant_three_workloads(server: Server) -> None:
    group = server.new_group()
    vault = create_vault(server, group, rbac=True)
    uri = vault["properties"]["vaultUri"]
    grant(server, vault["id"], "Key Vault Secrets Officer", server.operator["object_id"])
    with operator_secrets(server, uri) as client:
        client.set_secret(SECRET_NAME, SECRET_VALUE)

    identity = uami(server, group, "id-shared")
    client_id, principal_id = identity["properties"]["clientId"], identity["properties"]["principalId"]
    ua = {"type": "UserAssigned", "userAssignedIdentities": user_assigned(identity)}
    web = server.put("site", group, "web-shop", {"kind": "app", "identity": ua}, expect=201)
    func = server.put("site", group, "func-shop", {"kind": "functionapp", "identity": ua}, expect=201)
    aci = server.put("aci", group, "aci-shop", {"identity": ua}, expect=201)
    for r in (web, func, aci):
        assert list(r["identity"]["userAssignedIdentities"].values())[0]["principalId"] == principal_id

    # Two different token sources: App Service's IDENTITY_ENDPOINT for the apps, IMDS for the container group.
    assert "IDENTITY_ENDPOINT" in server.environment(func["id"])["set"]
    aci_env = server.environment(aci["id"])["set"]
    assert "IDENTITY_ENDPOINT" not in aci_env and "AZURE_POD_IDENTITY_AUTHORITY_HOST" in aci_env

    kwargs = {"client_id": client_id}
    before = read_secret(server, web["id"], uri, SECRET_NAME, cred="ManagedIdentityCredential", kwargs=kwargs,
                         modes=("sync",))["sync"]
    assert before["status"] == 403, before
    assert before["body"]["error"]["innererror"]["code"] == "ForbiddenByRbac"
    assert f"oid={principal_id};" in before["body"]["error"]["message"]

    grant(server, vault["id"], "Key Vault Secrets User", principal_id)

    for resource, modes in ((web, ("sync", "async")), (func, ("sync",)), (aci, ("sync", "async"))):
        got = read_secret(server, resource["id"], uri, SECRET_NAME, cred="ManagedIdentityCredential",
                          kwargs=kwargs, modes=modes)
        for mode in modes:
            assert got[mode].get("value") == SECRET_VALUE, (resource["name"], got[mode])

