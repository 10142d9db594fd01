"""The real `azmi storage` commands, black-box, against a running azmi: accounts and keys, containers and
blobs with `--auth-mode key` and `--auth-mode login`, and `allowSharedKeyAccess: false`."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server


def az(server: Server, *args: str, expect: int = 0) -> Any:
    done = server.cli(*args)
    assert done.returncode == expect, f"{args}: rc={done.returncode}\n{done.stdout}\n{done.stderr}"
    if expect != 0:
        return done
    return json.loads(done.stdout) if done.stdout.strip() else None


@pytest.fixture
def account(server: Server) -> tuple[str, str]:
    """(resource group, account name) of a fresh account made with `storage account create`."""
    group = f"rg-st-{uuid.uuid4().hex[:8]}"
    name = f"st{uuid.uuid4().hex[:12]}"
    az(server, "group", "create", "-n", group, "-l", "eastus", "-o", "none")
    created = az(server, "storage", "account", "create", "-g", group, "-n", name, "--sku", "Standard_LRS")
    assert created["name"] == name and created["kind"] == "StorageV2" and created["resourceGroup"] == group
    assert created["sku"]["name"] == "Standard_LRS" and created["allowSharedKeyAccess"] is True
    assert created["primaryEndpoints"]["blob"].endswith(f"/{name}/")
    return group, name


def test_account_show_list_keys_and_connection_string(server: Server, account: tuple[str, str]) -> None:
    group, name = account
    shown = az(server, "storage", "account", "show", "-n", name)  # found by name without -g
    assert shown["id"].endswith(f"/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts/{name}")
    assert name in [a["name"] for a in az(server, "storage", "account", "list", "-g", group)]
    keys = az(server, "storage", "account", "keys", "list", "-n", name, "-g", group)
    assert [k["keyName"] for k in keys] == ["key1", "key2"]
    assert {k["permissions"] for k in keys} == {"FULL"} and all(k["value"] and k["creationTime"] for k in keys)
    conn = az(server, "storage", "account", "show-connection-string", "-n", name)["connectionString"]
    blob = shown["primaryEndpoints"]["blob"].rstrip("/")
    assert conn == (f"DefaultEndpointsProtocol=https;AccountName={name};AccountKey={keys[0]['value']};"
                    f"BlobEndpoint={blob};")


def blob_args(name: str, *rest: str) -> list[str]:
    return ["--account-name", name, *rest]


def test_key_mode_round_trips_bytes(server: Server, account: tuple[str, str], tmp_path: Path) -> None:
    _, name = account
    key = ["--auth-mode", "key"]
    assert az(server, "storage", "container", "create", *blob_args(name, "-n", "data", *key)) == {"created": True}
    assert az(server, "storage", "container", "create", *blob_args(name, "-n", "data", *key)) == {"created": False}
    small, big = tmp_path / "small.txt", tmp_path / "big.bin"
    small.write_bytes(b"hello blob\n")
    big.write_bytes(os.urandom(9 * 1024 * 1024 + 123))  # 3 blocks
    for path, blob in ((small, "dir/small.txt"), (big, "big.bin")):
        done = az(server, "storage", "blob", "upload",
                  *blob_args(name, "-c", "data", "-n", blob, "-f", str(path), *key))
        assert done["etag"] and done["lastModified"]
    again = az(server, "storage", "blob", "upload", *blob_args(name, "-c", "data", "-n", "big.bin", "-f", str(small),
                                                                 *key), expect=1)
    assert "BlobAlreadyExists" in again.stderr and "--overwrite" in again.stderr
    listed = az(server, "storage", "blob", "list", *blob_args(name, "-c", "data", *key))
    sizes = {b["name"]: b["properties"]["contentLength"] for b in listed}
    assert sizes == {"big.bin": big.stat().st_size, "dir/small.txt": small.stat().st_size}
    assert next(b for b in listed if b["name"] == "dir/small.txt")["properties"]["contentSettings"][
        "contentType"] == "text/plain"
    assert all(b["properties"]["blobType"] == "BlockBlob" and b["properties"]["etag"] for b in listed)
    top = az(server, "storage", "blob", "list", *blob_args(name, "-c", "data", "--delimiter", "/", *key))
    assert sorted(b["name"] for b in top) == ["big.bin", "dir/"]
    assert [b["name"] for b in az(server, "storage", "blob", "list",
                                  *blob_args(name, "-c", "data", "--prefix", "dir/", *key))] == ["dir/small.txt"]
    for path, blob in ((small, "dir/small.txt"), (big, "big.bin")):
        out = tmp_path / f"out-{path.name}"
        az(server, "storage", "blob", "download", *blob_args(name, "-c", "data", "-n", blob, "-f", str(out), *key))
        assert out.read_bytes() == path.read_bytes()
    shown = az(server, "storage", "blob", "show", *blob_args(name, "-c", "data", "-n", "big.bin", *key))
    assert shown["properties"]["contentLength"] == big.stat().st_size
    az(server, "storage", "blob", "upload", *blob_args(name, "-c", "data", "-n", "big.bin", "-f", str(small),
                                                        "--overwrite", *key))
    assert az(server, "storage", "blob", "delete", *blob_args(name, "-c", "data", "-n", "big.bin", *key)) is None
    missing = az(server, "storage", "blob", "show", *blob_args(name, "-c", "data", "-n", "big.bin", *key), expect=3)
    assert "BlobNotFound" in missing.stderr
    # no --auth-mode: the key is queried, with az's warning
    done = server.cli("storage", "blob", "list", *blob_args(name, "-c", "data"))
    assert done.returncode == 0 and "we will query for account key" in done.stderr
    assert [b["name"] for b in json.loads(done.stdout)] == ["dir/small.txt"]
    # a connection string alone is enough
    conn = az(server, "storage", "account", "show-connection-string", "-n", name)["connectionString"]
    listed = az(server, "storage", "blob", "list", "-c", "data", "--connection-string", conn)
    assert [b["name"] for b in listed] == ["dir/small.txt"]
    assert az(server, "storage", "container", "delete", *blob_args(name, "-n", "data", *key)) == {"deleted": True}


def test_login_mode_needs_a_blob_data_role(server: Server, account: tuple[str, str], tmp_path: Path) -> None:
    group, name = account
    login = ["--auth-mode", "login"]
    az(server, "storage", "container", "create", *blob_args(name, "-n", "docs", "--auth-mode", "key"))
    src = tmp_path / "note.txt"
    src.write_bytes(b"via token")
    upload = ["storage", "blob", "upload", *blob_args(name, "-c", "docs", "-n", "note.txt", "-f", str(src), *login)]
    refused = az(server, *upload, expect=1)
    assert "AuthorizationPermissionMismatch" in refused.stderr
    assert "Storage Blob Data Contributor" in refused.stderr and '"--auth-mode" parameter and "key"' in refused.stderr
    oid = az(server, "ad", "signed-in-user", "show")["id"]
    scope = az(server, "storage", "account", "show", "-n", name, "-g", group)["id"]
    az(server, "role", "assignment", "create", "--role", "Storage Blob Data Contributor", "--assignee-object-id", oid,
       "--assignee-principal-type", "ServicePrincipal", "--scope", scope, "-o", "none")
    assert az(server, *upload)["etag"]
    out = tmp_path / "back.txt"
    az(server, "storage", "blob", "download", *blob_args(name, "-c", "docs", "-n", "note.txt", "-f", str(out), *login))
    assert out.read_bytes() == b"via token"
    assert [b["name"] for b in az(server, "storage", "blob", "list", *blob_args(name, "-c", "docs", *login))] == [
        "note.txt"]


def test_shared_key_access_disabled(server: Server, account: tuple[str, str]) -> None:
    group, name = account
    key = ["--auth-mode", "key"]
    az(server, "storage", "container", "create", *blob_args(name, "-n", "cone", *key))
    updated = az(server, "storage", "account", "update", "-n", name, "-g", group, "--allow-shared-key-access", "false")
    assert updated["allowSharedKeyAccess"] is False
    done = az(server, "storage", "blob", "list", *blob_args(name, "-c", "cone", *key), expect=1)
    assert "KeyBasedAuthenticationNotPermitted" in done.stderr and "ERROR: " in done.stderr
    az(server, "storage", "account", "update", "-n", name, "--allow-shared-key-access", "true", "-o", "none")
    assert az(server, "storage", "blob", "list", *blob_args(name, "-c", "cone", *key)) == []


def test_account_delete(server: Server, account: tuple[str, str]) -> None:
    group, name = account
    az(server, "storage", "account", "delete", "-n", name, "-g", group, "--yes")
    gone = az(server, "storage", "account", "show", "-n", name, expect=3)
    assert gone.stderr.startswith("ERROR: ")
