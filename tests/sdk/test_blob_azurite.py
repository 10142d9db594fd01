"""Interoperability: the real Azurite (`--oauth basic`, over HTTPS) accepts the tokens azmi issues.

Azurite checks a bearer token's issuer, audience and lifetime; it accepting azmi's managed-identity
token for `https://storage.azure.com`, through the unmodified `azure-storage-blob` SDK, shows the token
is Azure-shaped. Azurite comes from the npm registry into `.cache/azurite` on first use.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import Server

ROOT = Path(__file__).resolve().parents[2]
AZURITE_VERSION = "3.35.0"
CACHE = ROOT / ".cache" / "azurite"


def azurite_binary() -> Path | None:
    binary = CACHE / "node_modules" / ".bin" / "azurite-blob"
    if binary.exists():
        return binary
    if shutil.which("npm") is None:
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["npm", "install", "--prefix", str(CACHE), "--no-audit", "--no-fund",
                           f"azurite@{AZURITE_VERSION}"], capture_output=True, text=True, timeout=600)
    return binary if done.returncode == 0 and binary.exists() else None


@pytest.fixture(scope="module")
def azurite(server: Server) -> Iterator[str]:
    binary = azurite_binary()
    if binary is None:
        pytest.skip("Azurite could not be installed (npm is needed)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = Path(tempfile.mkdtemp(prefix="azmi-azurite-"))
    proc = subprocess.Popen([str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--oauth", "basic",
                             "--cert", str(server.data_dir / "tls.pem"), "--key", str(server.data_dir / "tls-key.pem"),
                             "--skipApiVersionCheck", "--location", str(workdir), "--silent"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("Azurite did not start")
            time.sleep(0.2)
    yield f"https://127.0.0.1:{port}/devstoreaccount1"
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(workdir, ignore_errors=True)


def test_azurite_accepts_the_managed_identity_token_azmi_issues(server: Server, azurite: str) -> None:
    group = server.new_group()
    vm = server.put("vm", group, "vm-azurite", {"identity": {"type": "SystemAssigned"}}, expect=201)
    done = server.run_python(vm["id"], f"""
        from azure.identity import ManagedIdentityCredential
        from azure.storage.blob import BlobServiceClient
        client = BlobServiceClient("{azurite}", credential=ManagedIdentityCredential())
        container = client.create_container("fromazmi")
        container.upload_blob("hello.txt", b"issued by azmi, accepted by Azurite")
        print(container.download_blob("hello.txt").readall().decode())
        print(sorted(b.name for b in container.list_blobs()))
    """)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert lines == ["issued by azmi, accepted by Azurite", "['hello.txt']"]


def test_azurite_refuses_an_azmi_token_for_another_audience(server: Server, azurite: str) -> None:
    """The control: Azurite does check, so the acceptance above means something."""
    group = server.new_group()
    vm = server.put("vm", group, "vm-azurite-aud", {"identity": {"type": "SystemAssigned"}}, expect=201)
    done = server.run_python(vm["id"], f"""
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
        from azure.identity import ManagedIdentityCredential
        from azure.storage.blob import BlobServiceClient
        client = BlobServiceClient("{azurite}", credential=ManagedIdentityCredential(),
                                   audience="https://vault.azure.net")
        try:
            client.create_container("wrongaudience")
            print("accepted")
        except (ClientAuthenticationError, HttpResponseError) as e:
            print("refused", e.status_code)
    """)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().startswith("refused"), done.stdout
