"""IMDS on one raw keep-alive connection: a workload that repeats the very same request bytes is answered
afresh each time (the server may reuse its parse, never its answer)."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlparse

from tests.conftest import Server


def test_the_same_request_bytes_follow_the_identity(server: Server) -> None:
    group = server.new_group()
    vm = server.put("vm", group, "vm-raw", {"identity": {"type": "SystemAssigned"}}, expect=201)
    base = urlparse(server.environment(vm["id"])["set"]["AZURE_POD_IDENTITY_AUTHORITY_HOST"])
    request = (f"GET {base.path}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net"
               f" HTTP/1.1\r\nHost: {base.netloc}\r\nMetadata: true\r\n\r\n").encode()
    sock = socket.create_connection((base.hostname, base.port), timeout=10)
    buf = b""

    def ask() -> tuple[int, dict[str, str]]:
        nonlocal buf
        sock.sendall(request)
        while b"\r\n\r\n" not in buf:
            buf += sock.recv(65536)
        head, buf = buf.split(b"\r\n\r\n", 1)
        length = int(next(ln.split(b":")[1] for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length")))
        while len(buf) < length:
            buf += sock.recv(65536)
        body, buf = buf[:length], buf[length:]
        return int(head.split()[1]), json.loads(body)

    first, second = ask(), ask()
    assert first[0] == second[0] == 200
    assert first[1]["access_token"] == second[1]["access_token"]  # the cached token, as IMDS
    server.put("vm", group, "vm-raw", {"identity": {"type": "None"}}, expect=200)
    status, body = ask()
    assert status == 400 and body["error_description"] == "Identity not found", body
    server.put("vm", group, "vm-raw", {"identity": {"type": "SystemAssigned"}}, expect=200)
    status, body = ask()
    assert status == 200 and body["access_token"] != first[1]["access_token"]  # a new identity, a new token
    sock.close()
