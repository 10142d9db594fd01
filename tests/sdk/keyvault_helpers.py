"""Helpers for the Key Vault and RBAC black-box tests (tests/sdk/test_keyvault_*.py, test_arm_rbac*.py).

- ARM as the operator: create a vault and wait for its own listener, add access policies,
  create and list role assignments.
- The operator's own `SecretClient` (ClientSecretCredential against azmi's login, as in the README).
- A child-process snippet that reads one secret through the unmodified `azure-keyvault-secrets`
  (sync and/or async) and prints one `RESULT <json>` line per client; `read_results` parses them.
"""

from __future__ import annotations

import json
import time
import uuid
from contextlib import contextmanager
from typing import Any, Iterator

import httpx

from tests.conftest import Server

VAULT_API = "2023-07-01"
AUTHZ_API = "2022-04-01"
ROLES = {
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "Managed Identity Operator": "f1a07417-d97a-45cb-824c-7a7467783830",
}


def vault_name() -> str:
    return f"kv{uuid.uuid4().hex[:12]}"


def create_vault(server: Server, group: str, *, rbac: bool = True, policies: list[dict[str, Any]] | None = None,
                 name: str | None = None) -> dict[str, Any]:
    """PUT a vault, then wait until its own HTTPS listener accepts connections."""
    props: dict[str, Any] = {"enableRbacAuthorization": rbac}
    if policies is not None:
        props["accessPolicies"] = policies
    r = server.arm("PUT", f"/subscriptions/{server.sub}/resourceGroups/{group}/providers/Microsoft.KeyVault/vaults/"
                   f"{name or vault_name()}", VAULT_API, {"location": "eastus", "properties": props}, expect=201)
    body = dict(r.json())
    uri = body["properties"]["vaultUri"]
    deadline = time.monotonic() + 10
    while True:
        try:
            server.client.get(uri + "secrets?api-version=7.5")
            return body
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def add_policy(server: Server, vault_id: str, object_id: str, secrets: list[str], kind: str = "add") -> None:
    server.arm("PUT", f"{vault_id}/accessPolicies/{kind}", VAULT_API, {"properties": {"accessPolicies": [
        {"tenantId": server.info["tenant_id"], "objectId": object_id, "permissions": {"secrets": secrets}}]}},
        expect=200)


def role_definition_id(server: Server, role: str) -> str:
    return f"/subscriptions/{server.sub}/providers/Microsoft.Authorization/roleDefinitions/{ROLES[role]}"


def grant(server: Server, scope: str, role: str, principal_id: str) -> dict[str, Any]:
    """Create a role assignment (201) and return its ARM body."""
    r = server.arm("PUT", f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}", AUTHZ_API,
                   {"properties": {"roleDefinitionId": role_definition_id(server, role), "principalId": principal_id,
                                   "principalType": "ServicePrincipal"}}, expect=201)
    return dict(r.json())


def assignments_at(server: Server, scope: str) -> list[dict[str, Any]]:
    r = server.arm("GET", f"{scope}/providers/Microsoft.Authorization/roleAssignments", AUTHZ_API, expect=200)
    return list(r.json()["value"])


@contextmanager
def operator_secrets(server: Server, vault_uri: str) -> Iterator[Any]:
    """The operator's SecretClient, signed in with ClientSecretCredential as the README shows."""
    from azure.identity import ClientSecretCredential
    from azure.keyvault.secrets import SecretClient

    op = server.operator
    cred = ClientSecretCredential(op["tenant_id"], op["client_id"], op["client_secret"],
                                  authority=server.info["login"], disable_instance_discovery=True,
                                  connection_verify=server.info["ca_bundle"])
    with cred, SecretClient(vault_uri, cred, verify_challenge_resource=False,
                            connection_verify=server.info["ca_bundle"]) as client:
        yield client


def operator_token(server: Server, scope: str = "https://vault.azure.net/.default") -> str:
    """A token for the operator straight from azmi's login endpoint (client credentials)."""
    op = server.operator
    r = server.client.post(f"{server.info['login']}/{op['tenant_id']}/oauth2/v2.0/token", data={
        "client_id": op["client_id"], "client_secret": op["client_secret"], "grant_type": "client_credentials",
        "scope": scope})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


# --- code run "on" a resource -----------------------------------------------------------------------

READ_SECRET = '''
import asyncio, json, os
os.environ["AZURE_TOKEN_CREDENTIALS"] = "prod"
from azure.core.exceptions import HttpResponseError

VAULT, NAME, CRED, KWARGS = {vault!r}, {name!r}, {cred!r}, {kwargs!r}

def report(mode, exc):
    try:
        body = json.loads(exc.response.text())
    except Exception:
        body = None
    print("RESULT", json.dumps({{"mode": mode, "type": type(exc).__name__, "status": exc.status_code,
                                "code": exc.error.code if exc.error else None, "message": str(exc),
                                "body": body}}))

def sync_read():
    import azure.identity
    from azure.keyvault.secrets import SecretClient
    try:
        with getattr(azure.identity, CRED)(**KWARGS) as cred, \\
                SecretClient(VAULT, cred, verify_challenge_resource=False) as client:
            s = client.get_secret(NAME)
            print("RESULT", json.dumps({{"mode": "sync", "value": s.value, "id": s.id}}))
    except HttpResponseError as exc:
        report("sync", exc)

async def async_read():
    import azure.identity.aio
    from azure.keyvault.secrets.aio import SecretClient
    try:
        async with getattr(azure.identity.aio, CRED)(**KWARGS) as cred, \\
                SecretClient(VAULT, cred, verify_challenge_resource=False) as client:
            s = await client.get_secret(NAME)
            print("RESULT", json.dumps({{"mode": "async", "value": s.value, "id": s.id}}))
    except HttpResponseError as exc:
        report("async", exc)

for mode in {modes!r}:
    sync_read() if mode == "sync" else asyncio.run(async_read())
'''


def read_secret(server: Server, resource_id: str, vault_uri: str, name: str, *,
                cred: str = "DefaultAzureCredential", kwargs: dict[str, Any] | None = None,
                modes: tuple[str, ...] = ("sync", "async")) -> dict[str, dict[str, Any]]:
    """Run the unmodified SDK on `resource_id` to read one secret; {mode: result} per client."""
    code = READ_SECRET.format(vault=vault_uri, name=name, cred=cred, kwargs=kwargs or {}, modes=list(modes))
    p = server.run_python(resource_id, code)
    assert p.returncode == 0, p.stderr[-3000:]
    results = [json.loads(ln[7:]) for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
    assert [r["mode"] for r in results] == list(modes), f"stdout={p.stdout!r} stderr={p.stderr[-3000:]!r}"
    return {r["mode"]: r for r in results}
