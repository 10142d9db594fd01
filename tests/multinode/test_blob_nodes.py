"""Two nodes share the Blob listener (SO_REUSEPORT): each new connection may reach either node, and
each node keeps small blobs in memory. An overwrite or delete through one node must reach every
connection, whichever node serves it, within the change feed's latency."""

from __future__ import annotations

from typing import Callable

from tests.multinode.conftest import Cluster, on_every_connection
from tests.multinode.test_two_nodes import eventually
from tests.sdk.blob_helpers import CONTRIBUTOR, create_account, grant
from tests.sdk.test_blob_wire import Conn, storage_token

def fresh_read(cluster: Cluster, base: str, token: str) -> Callable[[], tuple[int, object]]:
    def read() -> tuple[int, object]:
        conn = Conn(cluster.a, base)
        status, _, body = conn.call("GET", "data/shared.txt", token)
        conn.close()
        return status, body
    return read


def test_an_overwrite_on_one_node_is_read_through_every_node(cluster: Cluster) -> None:
    a = cluster.a
    account = create_account(a, a.new_group())
    grant(a, account["id"], CONTRIBUTOR, a.operator["object_id"])
    token, base = storage_token(a), account["properties"]["primaryEndpoints"]["blob"]
    writer, read = Conn(a, base), fresh_read(cluster, base, token)
    assert writer.call("PUT", "data?restype=container", token)[0] == 201
    for version in (b"one", b"two, longer", b"3"):
        assert writer.call("PUT", "data/shared.txt", token, version)[0] == 201
        eventually(on_every_connection(read, 200, version), f"every node reads {version!r}")
        assert on_every_connection(read, 200, version)()  # and keeps reading it (cached)
    assert writer.call("DELETE", "data/shared.txt", token)[0] == 202
    eventually(on_every_connection(read, 404), "every node sees the delete")
    writer.close()
