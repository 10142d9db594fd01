"""The azmi under test: start it, build the resources every figure needs, hand out URLs and tokens."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
BLOB_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
STORAGE_VERSION = "2025-01-05"


@dataclass
class Azmi:
    data_dir: Path
    proc: subprocess.Popen[bytes]
    info: dict[str, Any]
    operator: dict[str, Any]
    ready_seconds: float
    client: httpx.Client = field(init=False)
    token: str = ""

    def __post_init__(self) -> None:
        self.client = httpx.Client(verify=ssl.create_default_context(cafile=self.info["ca_bundle"]), timeout=60)
        r = self.client.post(f"{self.info['login']}/{self.operator['tenant_id']}/oauth2/v2.0/token", data={
            "client_id": self.operator["client_id"], "client_secret": self.operator["client_secret"],
            "grant_type": "client_credentials", "scope": "https://management.azure.com/.default"})
        r.raise_for_status()
        self.token = r.json()["access_token"]

    @property
    def sub(self) -> str:
        return str(self.info["subscription_id"])

    def arm(self, method: str, path: str, api: str, body: Any = None) -> dict[str, Any]:
        sep = "&" if "?" in path else "?"
        r = self.client.request(method, f"{self.info['arm']}{path}{sep}api-version={api}", json=body,
                                headers={"Authorization": f"Bearer {self.token}"})
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text}")
        return r.json() if r.content else {}

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        self.client.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def start(extra_env: dict[str, str] | None = None, *args: str) -> Azmi:
    return start_on(Path(tempfile.mkdtemp(prefix="azmi-bench-")), extra_env, *args)


def start_on(data_dir: Path, extra_env: dict[str, str] | None = None, *args: str) -> Azmi:
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "azmi.cli.main", "up", "--data-dir", str(data_dir),
                             "--port-base", "0", *args], env={**os.environ, **(extra_env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoints = data_dir / "endpoints.json"
    while not endpoints.exists():
        if proc.poll() is not None or time.monotonic() - started > 60:
            raise RuntimeError("azmi did not start")
        time.sleep(0.005)
    ready = time.monotonic() - started
    info = json.loads(endpoints.read_text())
    operator = json.loads((data_dir / "operator.json").read_text())
    return Azmi(data_dir, proc, info, operator, ready)


@dataclass
class Fixture:
    imds_url: str
    appservice_url: str
    appservice_header: str
    vault_url: str
    vault_token: str
    blob_url: str
    storage_token: str
    vm_id: str


def imds_token(az: Azmi, imds: str, resource: str) -> str:
    r = az.client.get(f"{imds}/metadata/identity/oauth2/token",
                      params={"api-version": "2018-02-01", "resource": resource}, headers={"Metadata": "true"})
    r.raise_for_status()
    return str(r.json()["access_token"])


def build(az: Azmi) -> Fixture:
    sub, rg = az.sub, "bench"
    az.arm("PUT", f"/subscriptions/{sub}/resourcegroups/{rg}", "2022-09-01", {"location": "eastus"})
    base = f"/subscriptions/{sub}/resourceGroups/{rg}/providers"
    vm = az.arm("PUT", f"{base}/Microsoft.Compute/virtualMachines/vm1", "2024-07-01",
                {"location": "eastus", "identity": {"type": "SystemAssigned"}})
    app = az.arm("PUT", f"{base}/Microsoft.Web/sites/app1", "2023-12-01",
                 {"location": "eastus", "kind": "app", "identity": {"type": "SystemAssigned"}})
    vm_env = az.client.get(f"{az.info['arm']}/azmi/environment", params={"resourceId": vm["id"]},
                           headers={"Authorization": f"Bearer {az.token}"}).json()["set"]
    app_env = az.client.get(f"{az.info['arm']}/azmi/environment", params={"resourceId": app["id"]},
                            headers={"Authorization": f"Bearer {az.token}"}).json()["set"]
    imds = vm_env["AZURE_POD_IDENTITY_AUTHORITY_HOST"]
    oid = vm["identity"]["principalId"]
    vault = az.arm("PUT", f"{base}/Microsoft.KeyVault/vaults/benchvault1", "2023-07-01",
                   {"location": "eastus", "properties": {}})
    account = az.arm("PUT", f"{base}/Microsoft.Storage/storageAccounts/benchstore1", "2023-05-01",
                     {"location": "eastus", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}})
    for scope, role in ((vault["id"], "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"), (account["id"], BLOB_CONTRIBUTOR)):
        az.arm("PUT", f"{scope}/providers/Microsoft.Authorization/roleAssignments/{_guid()}", "2022-04-01",
               {"properties": {"roleDefinitionId": f"/subscriptions/{sub}/providers/Microsoft.Authorization/"
                               f"roleDefinitions/{role}", "principalId": oid, "principalType": "ServicePrincipal"}})
    vault_url = vault["properties"]["vaultUri"]
    vault_token = imds_token(az, imds, "https://vault.azure.net")
    _wait_listening(az, vault_url)
    r = az.client.put(f"{vault_url}secrets/bench?api-version=7.5", json={"value": "x" * 32},
                      headers={"Authorization": f"Bearer {vault_token}"})
    r.raise_for_status()
    blob_base = account["properties"]["primaryEndpoints"]["blob"]
    storage_token = imds_token(az, imds, "https://storage.azure.com")
    headers = {"Authorization": f"Bearer {storage_token}", "x-ms-version": STORAGE_VERSION}
    az.client.put(f"{blob_base}bench?restype=container", headers=headers).raise_for_status()
    az.client.put(f"{blob_base}bench/kib.bin", content=b"b" * 1024,
                  headers={**headers, "x-ms-blob-type": "BlockBlob"}).raise_for_status()
    return Fixture(imds, app_env["IDENTITY_ENDPOINT"], app_env["IDENTITY_HEADER"], vault_url, vault_token,
                   f"{blob_base}bench/kib.bin", storage_token, vm["id"])


def _wait_listening(az: Azmi, url: str) -> None:
    for _ in range(200):
        try:
            az.client.get(url)
            return
        except httpx.TransportError:
            time.sleep(0.02)


def _guid() -> str:
    import uuid
    return str(uuid.uuid4())
