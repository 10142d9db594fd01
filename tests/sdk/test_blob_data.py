"""Blob data-plane behaviour through the unmodified `azure-storage-blob` (account key), sync and async:
block uploads past the single-shot size, ranged downloads, listings, conditional writes, and a
restart that keeps every acknowledged blob."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, start_server, stop_server
from tests.sdk.blob_helpers import connection_string, create_account

SMALL = dict(max_single_put_size=1024 * 1024, max_block_size=256 * 1024, max_single_get_size=512 * 1024,
             max_chunk_get_size=512 * 1024)


@pytest.fixture(scope="module")
def conn(server: Server) -> str:
    return connection_string(server, create_account(server, server.new_group()))


def test_multi_megabyte_upload_uses_blocks_and_round_trips(server: Server, conn: str) -> None:
    from azure.storage.blob import BlobServiceClient

    data = os.urandom(5 * 1024 * 1024 + 123)
    with BlobServiceClient.from_connection_string(conn, connection_verify=server.info["ca_bundle"], **SMALL) as svc:
        c = svc.create_container("big")
        b = c.get_blob_client("scan.bin")
        b.upload_blob(data, max_concurrency=4)
        committed, uncommitted = b.get_block_list("all")
        assert len(committed) == 21 and not uncommitted  # put block x21 + put block list
        assert b.download_blob(max_concurrency=3).readall() == data
        assert b.download_blob(offset=1000, length=70_000).readall() == data[1000:71_000]
        assert b.get_blob_properties().size == len(data)


def test_async_client_round_trip_and_listing(server: Server, conn: str) -> None:
    from azure.storage.blob.aio import BlobServiceClient

    data = os.urandom(3 * 1024 * 1024)

    async def main() -> dict[str, Any]:
        async with BlobServiceClient.from_connection_string(conn, connection_verify=server.info["ca_bundle"],
                                                            **SMALL) as svc:
            c = await svc.create_container("async")
            await c.upload_blob("dir/one.bin", data)
            await c.upload_blob("dir/sub/two.txt", b"two", metadata={"kind": "note"})
            await c.upload_blob("top.txt", b"top")
            got = await (await c.download_blob("dir/one.bin")).readall()
            walked = [b.name async for b in c.walk_blobs()]
            listed = [b.name async for b in c.list_blobs(name_starts_with="dir/")]
            props = await c.get_blob_client("dir/sub/two.txt").get_blob_properties()
            return {"same": got == data, "walked": walked, "listed": listed, "meta": props.metadata}

    out = asyncio.run(main())
    assert out["same"]
    assert out["walked"] == ["dir/", "top.txt"]
    assert out["listed"] == ["dir/one.bin", "dir/sub/two.txt"]
    assert out["meta"] == {"kind": "note"}


def test_paging_conditional_writes_and_deletes(server: Server, conn: str) -> None:
    from azure.core import MatchConditions
    from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
    from azure.storage.blob import BlobServiceClient

    with BlobServiceClient.from_connection_string(conn, connection_verify=server.info["ca_bundle"]) as svc:
        c = svc.create_container("paging")
        for i in range(7):
            c.upload_blob(f"b{i}", b"x")
        pages = list(c.list_blobs(results_per_page=3).by_page())
        assert [len(list(p)) for p in pages] == [3, 3, 1]
        with pytest.raises(ResourceExistsError) as exists:
            c.upload_blob("b0", b"again")
        assert exists.value.error_code == "BlobAlreadyExists"
        etag = c.get_blob_client("b0").get_blob_properties().etag
        c.upload_blob("b0", b"new", overwrite=True)
        with pytest.raises(ResourceModifiedError):
            c.get_blob_client("b0").upload_blob(b"stale", overwrite=True, etag=etag,
                                                match_condition=MatchConditions.IfNotModified)
        assert c.download_blob("b0").readall() == b"new"
        c.delete_blob("b0")
        with pytest.raises(ResourceNotFoundError) as gone:
            c.download_blob("b0").readall()
        assert gone.value.error_code == "BlobNotFound"
        with pytest.raises(ResourceExistsError):
            svc.create_container("paging")
        assert "paging" in [x.name for x in svc.list_containers(name_starts_with="pag")]
        svc.delete_container("paging")
        with pytest.raises(ResourceNotFoundError):
            list(c.list_blobs())


def test_restart_keeps_blobs_and_deleting_the_account_removes_them(tmp_path: Path) -> None:
    from azure.storage.blob import BlobServiceClient

    data_dir = tmp_path / "azmi"
    data = os.urandom(2 * 1024 * 1024 + 7)
    first = start_server(data_dir)
    try:
        account = create_account(first, first.new_group())
        with BlobServiceClient.from_connection_string(connection_string(first, account),
                                                      connection_verify=first.info["ca_bundle"], **SMALL) as svc:
            svc.create_container("keep").upload_blob("blob.bin", data)
    finally:
        stop_server(first)

    second = start_server(data_dir)
    try:
        account = second.arm("GET", account["id"], "2023-05-01", expect=200).json()
        assert account["properties"]["primaryEndpoints"]["blob"] == f"{second.info['blob']}/{account['name']}/"
        with BlobServiceClient.from_connection_string(connection_string(second, account),
                                                      connection_verify=second.info["ca_bundle"]) as svc:
            assert svc.get_blob_client("keep", "blob.bin").download_blob().readall() == data
        assert any((data_dir / "blobs").iterdir())
        second.arm("DELETE", account["id"], "2023-05-01", expect=200)
        assert not any((data_dir / "blobs").iterdir())
    finally:
        stop_server(second)
