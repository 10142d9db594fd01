"""Two azmi nodes on one PostgreSQL database (the `cluster` fixture), for the multi-node tests."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.conftest import Server, start_server, stop_server
from tests.pg import new_database

QUOTA = 40
CONNECTIONS = 16  # fresh connections per round to a shared (SO_REUSEPORT) port: all on one node has p = 2**-15


def on_every_connection(read: Callable[[], tuple[int, object]], status: int, value: object = None) -> Callable[[], bool]:
    """A check that `read` (one request on a fresh connection) answers `status` (and, for 200, `value`)
    CONNECTIONS times in a row: whichever node each connection reached."""
    def check() -> bool:
        for _ in range(CONNECTIONS):
            got_status, got = read()
            if got_status != status or (status == 200 and got != value):
                return False
        return True
    return check


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    a: Server
    b: Server
    db_url: str

    @property
    def nodes(self) -> tuple[Server, Server]:
        return (self.a, self.b)


def node_env(shared: dict[str, str]) -> dict[str, str]:
    return {**shared, **{f"AZMI_{n}_PORT": str(free_port()) for n in ("ARM", "LOGIN", "IMDS", "APPSERVICE")}}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, pg_server: str) -> Iterator[Cluster]:
    db = new_database(pg_server)
    root = tmp_path_factory.mktemp("cluster")
    shared = {"AZMI_KEYVAULT_PORT": "0", "AZMI_BLOB_PORT": str(free_port()), "AZMI_BLOB_DIR": str(root / "blobs"),
              "AZMI_UAMI_PER_SUBSCRIPTION": str(QUOTA)}
    a = start_server(root / "a", "--db", db, env=node_env(shared), port_base=False)
    try:
        b = start_server(root / "b", "--db", db, env=node_env(shared), port_base=False)
    except BaseException:
        stop_server(a)
        raise
    yield Cluster(a, b, db)
    stop_server(a)
    stop_server(b)


def data_dir(server: Server) -> Path:
    return server.data_dir
