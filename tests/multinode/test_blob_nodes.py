"""Two nodes share the Blob listener (SO_REUSEPORT): each new connection may reach either node, and
each node keeps small blobs in memory. An overwrite or delete through one node must reach every
connection, whichever node serves it, within the change feed's latency."""

from __future__ import annotations

from typing import Callable

from tests.multinode.conftest import Cluster
from tests.multinode.test_two_nodes import eventually
from tests.sdk.blob_helpers import CONTRIBUTOR, create_account, grant
from tests.sdk.test_blob_wire import Conn, storage_token

CONNECTIONS = 16  # fresh connections per round: all on one node has probability 2**-15


def every_connection_reads(cluster: Cluster, base: str, token: str, expected: int, body: bytes = b"") -> Callable[[], bool]:
    def check() -> bool:
        for _ in range(CONNECTIONS):
            conn = Conn(cluster.a, base)
            status, _, got = conn.call("GET", "data/shared.txt", token)
            conn.close()
            if status != expected or (expected == 200 and got != body):
                return False
        return True
    return check


def test_an_overwrite_on_one_node_is_read_through_every_node(cluster: Cluster) -> None:
    a = cluster.a
    account = create_account(a, a.new_group())
    grant(a, account["id"], CONTRIBUTOR, a.operator["object_id"])
    token, base = storage_token(a), account["properties"]["primaryEndpoints"]["blob"]
    writer = Conn(a, base)
    assert writer.call("PUT", "data?restype=container", token)[0] == 201
    for version in (b"one", b"two, longer", b"3"):
        assert writer.call("PUT", "data/shared.txt", token, version)[0] == 201
        eventually(every_connection_reads(cluster, base, token, 200, version), f"every node reads {version!r}")
        assert every_connection_reads(cluster, base, token, 200, version)()  # and keeps reading it (cached)
    assert writer.call("DELETE", "data/shared.txt", token)[0] == 202
    eventually(every_connection_reads(cluster, base, token, 404), "every node sees the delete")
    writer.close()
