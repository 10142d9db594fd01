"""Two nodes serve each vault on the same port (SO_REUSEPORT), and each keeps secrets, with their rendered
bodies, in memory. A write through one node must reach every connection, whichever node serves it,
within the change feed's latency: new versions, disabled versions and deletions alike."""

from __future__ import annotations

from typing import Callable

import ssl

import httpx

from tests.multinode.conftest import Cluster, on_every_connection
from tests.multinode.test_two_nodes import eventually
from tests.sdk.keyvault_helpers import create_vault, grant, operator_token

def tls(cluster: Cluster) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cluster.a.info["ca_bundle"])


def fresh_read(cluster: Cluster, url: str, token: str) -> Callable[[], tuple[int, object]]:
    def read() -> tuple[int, object]:
        r = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, verify=tls(cluster))
        return r.status_code, r.json().get("value")
    return read


def test_a_secret_written_on_one_node_is_read_through_every_node(cluster: Cluster) -> None:
    a = cluster.a
    vault = create_vault(a, a.new_group())
    grant(a, vault["id"], "Key Vault Secrets Officer", a.operator["object_id"])
    token = operator_token(a)
    uri = vault["properties"]["vaultUri"]
    url = f"{uri}secrets/shared?api-version=7.5"
    read = fresh_read(cluster, url, token)
    with httpx.Client(verify=tls(cluster), headers={"Authorization": f"Bearer {token}"}) as writer:
        eventually(lambda: writer.put(url, json={"value": "one"}).status_code == 200, "the grant on both nodes")
        for value in ("one", "two", "three"):
            assert writer.put(url, json={"value": value}).status_code == 200
            eventually(on_every_connection(read, 200, value), f"every node reads {value!r}")
            assert on_every_connection(read, 200, value)()  # and keeps reading it (cached)
        assert writer.delete(f"{uri}secrets/shared?api-version=7.5").status_code == 200
        eventually(on_every_connection(read, 404), "every node sees the delete")
