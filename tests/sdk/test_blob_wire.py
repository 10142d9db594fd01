"""The Blob listener on the raw wire (TLS socket, bytes as a client sends them): what an HTTP/1.1 client
relies on beyond the SDK's happy path — `Expect: 100-continue`, a refused upload whose body the
server never reads (the connection must stay usable), pipelined requests answered in order, a
client that vanishes mid-upload (nothing is stored), and a cached small blob that is overwritten.
"""

from __future__ import annotations

import socket
import ssl
import time
import uuid
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.conftest import Server
from tests.sdk.blob_helpers import CONTRIBUTOR, create_account, grant

VERSION = "2025-01-05"


def storage_token(server: Server) -> str:
    r = server.client.post(f"{server.info['login']}/{server.operator['tenant_id']}/oauth2/v2.0/token", data={
        "client_id": server.operator["client_id"], "client_secret": server.operator["client_secret"],
        "grant_type": "client_credentials", "scope": "https://storage.azure.com/.default"})
    r.raise_for_status()
    return str(r.json()["access_token"])


@pytest.fixture(scope="module")
def target(server: Server) -> dict[str, Any]:
    """A storage account with container `data`; a token of the operator, granted a data role on it."""
    account = create_account(server, server.new_group())
    token = storage_token(server)
    base = account["properties"]["primaryEndpoints"]["blob"]
    grant(server, account["id"], CONTRIBUTOR, server.operator["object_id"])
    conn = Conn(server, base)
    assert conn.call("PUT", "data?restype=container", token)[0] == 201
    conn.close()
    return {"base": base, "token": token, "account": account}


class Conn:
    """One TLS connection to the blob listener, speaking HTTP/1.1 by hand."""

    def __init__(self, server: Server, base: str) -> None:
        url = urlparse(base)
        self.host, self.port, self.prefix = url.hostname or "", url.port or 443, url.path
        ctx = ssl.create_default_context(cafile=server.info["ca_bundle"])
        self.sock = ctx.wrap_socket(socket.create_connection((self.host, self.port), timeout=10),
                                    server_hostname=self.host)
        self.buf = b""

    def head(self, method: str, path: str, token: str, length: int | None = None, **extra: str) -> bytes:
        lines = [f"{method} {self.prefix}{path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 f"Authorization: Bearer {token}", f"x-ms-version: {VERSION}", "x-ms-blob-type: BlockBlob"]
        if length is not None:
            lines.append(f"Content-Length: {length}")
        lines += [f"{k.replace('_', '-')}: {v}" for k, v in extra.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        length = int(headers.get("content-length", "0")) if status not in (100, 204, 304) else 0
        while len(self.buf) < length:
            self._more()
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, headers, body

    def call(self, method: str, path: str, token: str, body: bytes | None = None,
             **extra: str) -> tuple[int, dict[str, str], bytes]:
        self.send(self.head(method, path, token, None if body is None else len(body), **extra) + (body or b""))
        return self.response()

    def _more(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buf += chunk

    def close(self) -> None:
        self.sock.close()


def test_expect_100_continue_then_the_upload(server: Server, target: dict[str, Any]) -> None:
    conn = Conn(server, target["base"])
    data = b"continued" * 1000
    conn.send(conn.head("PUT", "data/continued.bin", target["token"], len(data), Expect="100-continue"))
    status, _, _ = conn.response()
    assert status == 100
    conn.send(data)
    assert conn.response()[0] == 201
    status, headers, body = conn.call("GET", "data/continued.bin", target["token"])
    assert (status, body, headers["content-length"]) == (200, data, str(len(data)))
    conn.close()


def test_a_refused_upload_leaves_the_connection_usable(server: Server, target: dict[str, Any]) -> None:
    """Refused before the body is read (a bad x-ms-version); the 3 MiB body is discarded, not misread."""
    conn = Conn(server, target["base"])
    big = b"x" * (3 * 1024 * 1024)
    status, headers, body = conn.call("PUT", "data/refused.bin", target["token"], big, x_ms_version="2001-01-01")
    assert status == 400 and headers["x-ms-error-code"] == "InvalidHeaderValue", body
    status, headers, _ = conn.call("GET", "data/refused.bin", target["token"])
    assert status == 404 and headers["x-ms-error-code"] == "BlobNotFound"
    conn.close()


def test_pipelined_requests_are_answered_in_order(server: Server, target: dict[str, Any]) -> None:
    conn = Conn(server, target["base"])
    token = target["token"]
    for i in range(3):
        assert conn.call("PUT", f"data/p{i}.txt", token, f"blob {i}".encode())[0] == 201
    conn.send(b"".join(conn.head("GET", f"data/p{i}.txt", token) for i in (2, 0, 1)))
    assert [conn.response()[2] for _ in range(3)] == [b"blob 2", b"blob 0", b"blob 1"]
    conn.close()


def test_a_client_gone_mid_upload_stores_nothing(server: Server, target: dict[str, Any]) -> None:
    conn = Conn(server, target["base"])
    name = f"data/gone-{uuid.uuid4().hex[:6]}.bin"
    conn.send(conn.head("PUT", name, target["token"], 2 * 1024 * 1024) + b"y" * 100_000)
    conn.close()
    time.sleep(0.3)
    check = Conn(server, target["base"])
    status, headers, _ = check.call("GET", name, target["token"])
    assert status == 404 and headers["x-ms-error-code"] == "BlobNotFound"
    uid_dirs = [p for p in (server.data_dir / "blobs").iterdir() if p.is_dir()]
    assert not [f for d in uid_dirs for f in (d / "tmp").glob("*")] if uid_dirs else True
    check.close()


def test_a_cached_small_blob_is_never_served_stale(server: Server, target: dict[str, Any]) -> None:
    conn = Conn(server, target["base"])
    token = target["token"]
    for version in (b"first", b"second version", b""):
        assert conn.call("PUT", "data/hot.txt", token, version)[0] == 201
        for _ in range(3):  # the first read fills the cache, the next are served from it
            status, headers, body = conn.call("GET", "data/hot.txt", token)
            assert (status, body) == (200, version)
        status, _, body = conn.call("GET", "data/hot.txt", token, Range="bytes=1-3") if version else (206, {}, b"")
        assert (status, body) == (206, version[1:4])
    etag = conn.call("GET", "data/hot.txt", token)[1]["etag"]
    assert conn.call("GET", "data/hot.txt", token, If_None_Match=etag)[0] == 304
    assert conn.call("DELETE", "data/hot.txt", token)[0] == 202
    assert conn.call("GET", "data/hot.txt", token)[0] == 404
    conn.close()


def test_a_repeated_request_is_answered_afresh(server: Server, target: dict[str, Any]) -> None:
    """A reader repeating the very same request bytes on one connection sees a write made elsewhere."""
    reader, writer = Conn(server, target["base"]), Conn(server, target["base"])
    token = target["token"]
    assert writer.call("PUT", "data/polled.txt", token, b"before")[0] == 201
    assert [reader.call("GET", "data/polled.txt", token)[2] for _ in range(3)] == [b"before"] * 3
    assert writer.call("PUT", "data/polled.txt", token, b"after")[0] == 201
    assert reader.call("GET", "data/polled.txt", token)[2] == b"after"
    assert writer.call("DELETE", "data/polled.txt", token)[0] == 202
    assert reader.call("GET", "data/polled.txt", token)[0] == 404
    reader.close()
    writer.close()


def test_a_refused_expect_continue_upload_closes_the_connection(server: Server, target: dict[str, Any]) -> None:
    """Refused before the 100 Continue: the client may never send the body, so the connection is not reused."""
    conn = Conn(server, target["base"])
    conn.send(conn.head("PUT", "data/never.bin", target["token"], 4096, Expect="100-continue",
                        x_ms_version="2001-01-01"))
    status, headers, _ = conn.response()
    assert status == 400 and headers["x-ms-error-code"] == "InvalidHeaderValue"
    assert headers["connection"] == "close"
    with pytest.raises(OSError):  # closed by the server (EOF, or TLS's own end-of-stream error)
        conn.response()
    conn.close()
