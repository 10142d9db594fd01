"""Helpers for the Blob Storage black-box tests (tests/sdk/test_blob_*.py).

- ARM as the operator: create a storage account, list its keys, build its connection string.
- A child-process snippet that runs the unmodified `azure-storage-blob` (sync and/or async) on a
  resource with `DefaultAzureCredential` and prints one `RESULT <json>` line per step.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.conftest import Server

STORAGE_API = "2023-05-01"
READER = "Storage Blob Data Reader"
CONTRIBUTOR = "Storage Blob Data Contributor"
ROLE_IDS = {READER: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", CONTRIBUTOR: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
            "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c"}


def account_name() -> str:
    return f"st{uuid.uuid4().hex[:12]}"


def create_account(server: Server, group: str, name: str | None = None, **props: Any) -> dict[str, Any]:
    r = server.arm("PUT", f"/subscriptions/{server.sub}/resourceGroups/{group}/providers/Microsoft.Storage/"
                   f"storageAccounts/{name or account_name()}", STORAGE_API,
                   {"location": "eastus", "properties": props}, expect=201)
    return dict(r.json())


def keys(server: Server, account_id: str) -> list[dict[str, Any]]:
    return list(server.arm("POST", f"{account_id}/listKeys", STORAGE_API, expect=200).json()["keys"])


def connection_string(server: Server, account: dict[str, Any]) -> str:
    key = keys(server, account["id"])[0]["value"]
    endpoint = account["properties"]["primaryEndpoints"]["blob"].rstrip("/")
    return (f"DefaultEndpointsProtocol=https;AccountName={account['name']};AccountKey={key};"
            f"BlobEndpoint={endpoint};")


def grant(server: Server, scope: str, role: str, principal_id: str) -> None:
    server.arm("PUT", f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}", "2022-04-01",
               {"properties": {"roleDefinitionId": f"/subscriptions/{server.sub}/providers/Microsoft.Authorization/"
                                                   f"roleDefinitions/{ROLE_IDS[role]}",
                               "principalId": principal_id, "principalType": "ServicePrincipal"}}, expect=201)


JOB = '''
import asyncio, json, os
os.environ["AZURE_TOKEN_CREDENTIALS"] = "prod"
from azure.core.exceptions import HttpResponseError

URL, CONTAINER, READ, WRITE = {url!r}, {container!r}, {read!r}, {write!r}

def report(mode, step, exc):
    print("RESULT", json.dumps({{"mode": mode, "step": step, "type": type(exc).__name__,
                                "status": getattr(exc, "status_code", None),
                                "code": getattr(exc, "error_code", None), "message": str(exc)}}))

def ok(mode, step, value):
    print("RESULT", json.dumps({{"mode": mode, "step": step, "value": value}}))

def sync_job():
    from azure.identity import DefaultAzureCredential
    from azure.storage.blob import BlobServiceClient
    with DefaultAzureCredential() as cred, BlobServiceClient(URL, credential=cred) as svc:
        c = svc.get_container_client(CONTAINER)
        for step, fn in (("list", lambda: sorted(b.name for b in c.list_blobs())),
                         ("download", lambda: c.download_blob(READ).readall().decode()),
                         ("upload", lambda: c.upload_blob(WRITE, b"result-sync", overwrite=True) and WRITE)):
            try:
                ok("sync", step, fn())
            except HttpResponseError as exc:
                report("sync", step, exc)

async def async_job():
    from azure.identity.aio import DefaultAzureCredential
    from azure.storage.blob.aio import BlobServiceClient
    async with DefaultAzureCredential() as cred, BlobServiceClient(URL, credential=cred) as svc:
        c = svc.get_container_client(CONTAINER)
        async def listing():
            return sorted([b.name async for b in c.list_blobs()])
        async def download():
            return (await (await c.download_blob(READ)).readall()).decode()
        async def upload():
            await c.upload_blob(WRITE, b"result-async", overwrite=True)
            return WRITE
        for step, fn in (("list", listing), ("download", download), ("upload", upload)):
            try:
                ok("async", step, await fn())
            except HttpResponseError as exc:
                report("async", step, exc)

for mode in {modes!r}:
    sync_job() if mode == "sync" else asyncio.run(async_job())
'''


def run_job(server: Server, resource_id: str, url: str, container: str, read: str, write: str,
            modes: tuple[str, ...] = ("sync", "async")) -> dict[tuple[str, str], dict[str, Any]]:
    """Run the batch job on `resource_id`; {(mode, step): result}."""
    code = JOB.format(url=url, container=container, read=read, write=write, modes=list(modes))
    p = server.run_python(resource_id, code)
    assert p.returncode == 0, p.stderr[-3000:]
    results = [json.loads(ln[7:]) for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
    assert len(results) == 3 * len(modes), f"stdout={p.stdout!r} stderr={p.stderr[-3000:]!r}"
    return {(r["mode"], r["step"]): r for r in results}
