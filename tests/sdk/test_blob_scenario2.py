"""Scenario 2: a batch job on VMs reads images from Blob Storage with its managed identity.

The "before" code uses a connection string with the account key; the "after" code uses
`DefaultAzureCredential` on the VM (through `azmi run`'s environment) and Storage RBAC.
Everything goes through the unmodified `azure-storage-blob`, sync and async.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Server
from tests.sdk.blob_helpers import CONTRIBUTOR, READER, connection_string, create_account, grant, run_job

IMAGE = "scans/2024/patient-17.dcm"
DENIED = "This request is not authorized to perform this operation using this permission."


@pytest.fixture(scope="module")
def images(server: Server) -> dict[str, Any]:
    """An account with one container holding one image, written the "before" way (account key)."""
    from azure.storage.blob import BlobServiceClient

    group = server.new_group()
    account = create_account(server, group)
    with BlobServiceClient.from_connection_string(connection_string(server, account),
                                                  connection_verify=server.info["ca_bundle"]) as svc:
        svc.create_container("images").upload_blob(IMAGE, b"DICM-image-bytes")
    return {"group": group, "account": account, "url": account["properties"]["primaryEndpoints"]["blob"]}


def vm(server: Server, group: str, name: str) -> dict[str, Any]:
    return server.put("vm", group, name, {"identity": {"type": "SystemAssigned"}}, expect=201)


def assert_denied(result: dict[str, Any]) -> None:
    assert result["type"] == "HttpResponseError", result
    assert result["status"] == 403
    assert result["code"] == "AuthorizationPermissionMismatch"
    assert DENIED in result["message"]


def test_reader_reads_contributor_writes_no_role_refused(server: Server, images: dict[str, Any]) -> None:
    machine = vm(server, images["group"], "batch-1")
    oid = machine["identity"]["principalId"]

    refused = run_job(server, machine["id"], images["url"], "images", IMAGE, "results/out-1.txt")
    for mode in ("sync", "async"):
        for step in ("list", "download", "upload"):
            assert_denied(refused[(mode, step)])

    grant(server, images["account"]["id"], READER, oid)
    reader = run_job(server, machine["id"], images["url"], "images", IMAGE, "results/out-1.txt")
    for mode in ("sync", "async"):
        assert reader[(mode, "list")]["value"] == [IMAGE], reader
        assert reader[(mode, "download")]["value"] == "DICM-image-bytes"
        assert_denied(reader[(mode, "upload")])

    grant(server, images["account"]["id"], CONTRIBUTOR, oid)
    writer = run_job(server, machine["id"], images["url"], "images", IMAGE, "results/out-1.txt")
    for mode in ("sync", "async"):
        assert writer[(mode, "upload")]["value"] == "results/out-1.txt", writer
        assert IMAGE in writer[(mode, "list")]["value"]


def test_cloned_vm_has_its_own_identity_and_is_refused_until_granted(server: Server, images: dict[str, Any]) -> None:
    first = vm(server, images["group"], "batch-a")
    grant(server, images["account"]["id"], READER, first["identity"]["principalId"])
    clone = vm(server, images["group"], "batch-b")  # the same definition, another VM
    assert clone["identity"]["principalId"] != first["identity"]["principalId"]

    assert run_job(server, first["id"], images["url"], "images", IMAGE, "x",
                   modes=("sync",))[("sync", "download")]["value"] == "DICM-image-bytes"
    refused = run_job(server, clone["id"], images["url"], "images", IMAGE, "x", modes=("async",))
    assert_denied(refused[("async", "download")])

    # a container-scope grant is inherited by the blobs in it
    grant(server, images["account"]["id"] + "/blobServices/default/containers/images", READER,
          clone["identity"]["principalId"])
    allowed = run_job(server, clone["id"], images["url"], "images", IMAGE, "x", modes=("async",))
    assert allowed[("async", "download")]["value"] == "DICM-image-bytes"


def test_control_plane_owner_is_not_a_data_role(server: Server, images: dict[str, Any]) -> None:
    """The operator is Owner on the subscription, yet cannot read blobs with a token; the message says why."""
    from azure.core.exceptions import HttpResponseError
    from azure.identity import ClientSecretCredential
    from azure.storage.blob import BlobServiceClient

    op = server.operator
    cred = ClientSecretCredential(op["tenant_id"], op["client_id"], op["client_secret"], authority=server.info["login"],
                                  disable_instance_discovery=True, connection_verify=server.info["ca_bundle"])
    with cred, BlobServiceClient(images["url"], credential=cred, connection_verify=server.info["ca_bundle"]) as svc:
        with pytest.raises(HttpResponseError) as denied:
            svc.get_blob_client("images", IMAGE).download_blob().readall()
    assert denied.value.status_code == 403
    assert denied.value.error_code == "AuthorizationPermissionMismatch"
    assert "Storage Blob Data Reader" in str(denied.value)


def test_account_key_works_until_shared_key_access_is_disabled(server: Server) -> None:
    from azure.core.exceptions import HttpResponseError
    from azure.storage.blob import BlobServiceClient

    group = server.new_group()
    account = create_account(server, group)
    conn = connection_string(server, account)
    with BlobServiceClient.from_connection_string(conn, connection_verify=server.info["ca_bundle"]) as svc:
        c = svc.create_container("before")
        c.upload_blob("a.txt", b"with a key")
        assert c.download_blob("a.txt").readall() == b"with a key"

    r = server.arm("PATCH", account["id"], "2023-05-01", {"properties": {"allowSharedKeyAccess": False}}, expect=200)
    assert r.json()["properties"]["allowSharedKeyAccess"] is False
    with BlobServiceClient.from_connection_string(conn, connection_verify=server.info["ca_bundle"]) as svc:
        with pytest.raises(HttpResponseError) as refused:
            svc.get_blob_client("before", "a.txt").download_blob().readall()
    assert refused.value.status_code == 403
    assert refused.value.error_code == "KeyBasedAuthenticationNotPermitted"
    assert "Key based authentication is not permitted on this storage account." in str(refused.value)
