"""The Blob data plane in-process: authentication, authorization and bad input, each answered in
the service's XML error shape, and never leaving anything behind."""

from __future__ import annotations

import base64
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Iterator

import pytest
from starlette.testclient import TestClient

from azmi.domain.blobs import http_date
from tests.conftest import Wire, op_client_id

BLOB = "https://127.0.0.1:44320"
V = "2026-10-06"
CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"


@pytest.fixture
def acct(wire: Wire) -> dict[str, Any]:
    sub = wire.sub
    assert wire.arm.put(f"/subscriptions/{sub}/resourcegroups/rg?api-version=2022-09-01", json={"location": "eastus"},
                        headers=wire.auth()).status_code == 201
    r = wire.arm.put(f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct1"
                     "?api-version=2023-05-01", json={"location": "eastus"}, headers=wire.auth())
    assert r.status_code == 201, r.text
    op = wire.azmi.services.operator
    token, _ = op.token(op_client_id(), op.secret, "https://storage.azure.com/")
    return {**r.json(), "token": token}


@pytest.fixture
def blob(wire: Wire) -> Iterator[TestClient]:
    with TestClient(wire.azmi.apps["blob"], base_url=BLOB) as client:
        yield client


def hdr(acct: dict[str, Any], **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {acct['token']}", "x-ms-version": V, **extra}


def error(r: Any, status: int, code: str) -> ET.Element:
    assert r.status_code == status, r.text
    assert r.headers["x-ms-error-code"] == code
    body = ET.fromstring(r.content)
    assert body.findtext("Code") == code
    assert "\nRequestId:" in (body.findtext("Message") or "")
    return body


def stored_files(wire: Wire) -> list[Path]:
    return [p for p in wire.azmi.services.blobs.files.root.rglob("*") if p.is_file()]


def grant_contributor(wire: Wire, acct: dict[str, Any]) -> None:
    oid = wire.azmi.services.operator.principal.object_id
    r = wire.arm.put(f"{acct['id']}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
                     "?api-version=2022-04-01", headers=wire.auth(), json={"properties": {
                         "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}",
                         "principalId": oid, "principalType": "User"}})
    assert r.status_code == 201, r.text


def test_no_token_gets_the_bearer_challenge(blob: TestClient, acct: dict[str, Any]) -> None:
    r = blob.get("/acct1?comp=list", headers={"x-ms-version": V})
    error(r, 401, "NoAuthenticationInformation")
    challenge = r.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer authorization_uri=https://login.test/")
    assert challenge.endswith("/oauth2/authorize resource_id=https://storage.azure.com")


def test_token_for_another_audience_is_refused(wire: Wire, blob: TestClient, acct: dict[str, Any]) -> None:
    op = wire.azmi.services.operator
    vault_token, _ = op.token(op_client_id(), op.secret, "https://vault.azure.net")
    r = blob.get("/acct1?comp=list", headers={"Authorization": f"Bearer {vault_token}", "x-ms-version": V})
    body = error(r, 401, "InvalidAuthenticationInfo")
    assert body.findtext("AuthenticationErrorDetail") == "Audience validation failed. Audience did not match."


@pytest.mark.parametrize("version", ["banana", "2026-13-45", "2015-04-05", "2026-10-06x"])
def test_unknown_versions_are_refused(blob: TestClient, acct: dict[str, Any], version: str) -> None:
    body = error(blob.get("/acct1?comp=list", headers=hdr(acct, **{"x-ms-version": version})), 400,
                 "InvalidHeaderValue")
    assert body.findtext("HeaderName") == "x-ms-version"
    assert body.findtext("HeaderValue") == version


def test_bad_container_names_create_nothing(blob: TestClient, acct: dict[str, Any]) -> None:
    for name in ("Upper", "a--b", "-ab", "ab", "x" * 64, "under_score"):
        r = blob.put(f"/acct1/{name}?restype=container", headers=hdr(acct))
        assert r.status_code == 400 and r.headers["x-ms-error-code"] in ("InvalidResourceName", "OutOfRangeInput")
    listing = ET.fromstring(blob.get("/acct1?comp=list", headers=hdr(acct)).content)
    assert listing.find("Containers") is not None and len(listing.find("Containers")) == 0


def test_owner_is_no_data_role_and_a_refused_upload_leaves_nothing(wire: Wire, blob: TestClient,
                                                                    acct: dict[str, Any]) -> None:
    assert blob.put("/acct1/box?restype=container", headers=hdr(acct)).status_code == 201  # containers/write
    r = blob.put("/acct1/box/file.txt", content=b"data", headers=hdr(acct, **{"x-ms-blob-type": "BlockBlob"}))
    message = error(r, 403, "AuthorizationPermissionMismatch").findtext("Message") or ""
    assert message.startswith("This request is not authorized to perform this operation using this permission.\n")
    assert "Storage Blob Data Contributor" in message
    assert stored_files(wire) == []
    grant_contributor(wire, acct)
    r = blob.put("/acct1/box/file.txt", content=b"data", headers=hdr(acct, **{"x-ms-blob-type": "BlockBlob"}))
    assert r.status_code == 201 and r.headers["ETag"].startswith('"0x')
    assert len(stored_files(wire)) == 1


def test_bad_uploads_are_refused_and_leave_nothing(wire: Wire, blob: TestClient, acct: dict[str, Any]) -> None:
    grant_contributor(wire, acct)
    blob.put("/acct1/box?restype=container", headers=hdr(acct))
    error(blob.put("/acct1/box/a", content=b"x", headers=hdr(acct)), 400, "MissingRequiredHeader")
    error(blob.put("/acct1/box/a", content=b"x", headers=hdr(acct, **{"x-ms-blob-type": "PageBlobX"})), 400,
          "InvalidHeaderValue")
    error(blob.put("/acct1/nobox/a", content=b"x", headers=hdr(acct, **{"x-ms-blob-type": "BlockBlob"})), 404,
          "ContainerNotFound")
    error(blob.put("/acct1/box/a", content=iter([b"chunked"]), headers=hdr(acct, **{"x-ms-blob-type": "BlockBlob"})),
          411, "MissingContentLengthHeader")
    bad_md5 = base64.b64encode(b"0" * 16).decode()
    error(blob.put("/acct1/box/a", content=b"x", headers=hdr(acct, **{"x-ms-blob-type": "BlockBlob",
                                                                        "Content-MD5": bad_md5})), 400, "Md5Mismatch")
    error(blob.put("/acct1/box/a?comp=block&blockid=not*base64", content=b"x", headers=hdr(acct)), 400,
          "InvalidQueryParameterValue")
    error(blob.put("/acct1/box/a?comp=blocklist", content=b"<BlockList><Latest>", headers=hdr(acct)), 400,
          "InvalidXmlDocument")
    error(blob.put("/acct1/box/a?comp=blocklist", content=b"<BlockList><Latest>QUFB</Latest></BlockList>",
                   headers=hdr(acct)), 400, "InvalidBlockList")
    assert stored_files(wire) == []
    error(blob.get("/acct1/box/a", headers=hdr(acct)), 404, "BlobNotFound")


def test_blocks_ranges_and_conditions(wire: Wire, blob: TestClient, acct: dict[str, Any]) -> None:
    grant_contributor(wire, acct)
    blob.put("/acct1/box?restype=container", headers=hdr(acct))
    ids = [base64.b64encode(f"block-{i:03d}".encode()).decode() for i in range(3)]
    for i, block_id in enumerate(ids):
        assert blob.put(f"/acct1/box/big?comp=block&blockid={block_id}", content=bytes([65 + i]) * 10,
                        headers=hdr(acct)).status_code == 201
    body = "<?xml version='1.0' encoding='utf-8'?><BlockList>" + "".join(f"<Latest>{b}</Latest>" for b in ids) + \
        "</BlockList>"
    r = blob.put("/acct1/box/big?comp=blocklist", content=body.encode(), headers=hdr(acct))
    assert r.status_code == 201, r.text
    etag = r.headers["ETag"]
    r = blob.get("/acct1/box/big", headers=hdr(acct, **{"x-ms-range": "bytes=5-14"}))
    assert r.status_code == 206 and r.content == b"A" * 5 + b"B" * 5
    assert r.headers["Content-Range"] == "bytes 5-14/30"
    assert blob.get("/acct1/box/big", headers=hdr(acct, **{"If-None-Match": etag})).status_code == 304
    error(blob.put("/acct1/box/big", content=b"x", headers=hdr(acct, **{"x-ms-blob-type": "BlockBlob",
                                                                          "If-None-Match": "*"})),
          409, "BlobAlreadyExists")
    error(blob.put("/acct1/box/big", content=b"x", headers=hdr(acct, **{"x-ms-blob-type": "BlockBlob",
                                                                          "If-Match": '"0x1"'})),
          412, "ConditionNotMet")
    assert blob.get("/acct1/box/big", headers=hdr(acct)).content == b"A" * 10 + b"B" * 10 + b"C" * 10
    blob.put("/acct1/box/empty", content=b"", headers=hdr(acct, **{"x-ms-blob-type": "BlockBlob"}))
    error(blob.get("/acct1/box/empty", headers=hdr(acct, **{"x-ms-range": "bytes=0-99"})), 416, "InvalidRange")


def test_shared_key_with_a_wrong_signature_is_refused(wire: Wire, blob: TestClient, acct: dict[str, Any]) -> None:
    headers = {"Authorization": "SharedKey acct1:" + base64.b64encode(b"x" * 32).decode(), "x-ms-version": V,
               "x-ms-date": http_date(wire.clock.now())}
    body = error(blob.get("/acct1?comp=list", headers=headers), 403, "AuthenticationFailed")
    assert "is not the same as any computed signature" in (body.findtext("AuthenticationErrorDetail") or "")


def test_account_names_are_global_and_keys_are_listed(wire: Wire, acct: dict[str, Any]) -> None:
    sub = wire.sub
    wire.arm.put(f"/subscriptions/{sub}/resourcegroups/rg2?api-version=2022-09-01", json={"location": "eastus"},
                 headers=wire.auth())
    r = wire.arm.put(f"/subscriptions/{sub}/resourceGroups/rg2/providers/Microsoft.Storage/storageAccounts/acct1"
                     "?api-version=2023-05-01", json={"location": "eastus"}, headers=wire.auth())
    assert r.status_code == 409 and r.json()["error"]["code"] == "StorageAccountAlreadyTaken"
    assert r.json()["error"]["message"] == "The storage account named acct1 is already taken."
    r = wire.arm.put(f"/subscriptions/{sub}/resourceGroups/rg2/providers/Microsoft.Storage/storageAccounts/Bad_Name"
                     "?api-version=2023-05-01", json={"location": "eastus"}, headers=wire.auth())
    assert r.status_code == 400
    keys = wire.arm.post(f"{acct['id']}/listKeys?api-version=2023-05-01", headers=wire.auth()).json()["keys"]
    assert [k["keyName"] for k in keys] == ["key1", "key2"]
    assert all(len(base64.b64decode(k["value"])) == 64 and k["permissions"] == "FULL" for k in keys)
    assert acct["kind"] == "StorageV2" and acct["sku"] == {"name": "Standard_LRS", "tier": "Standard"}
    assert acct["properties"]["allowSharedKeyAccess"] is True
    assert acct["properties"]["primaryEndpoints"]["blob"] == "https://127.0.0.1:44320/acct1/"
