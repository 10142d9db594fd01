"""Shared fixtures.

- `wire`: an in-process azmi (fixed clock, in-memory SQLite) with a TestClient per surface,
  for the wire tests under tests/http.
- `server`: a real `azmi up` subprocess on free ports, for the black-box SDK tests under
  tests/sdk. Its helpers speak ARM as the operator and run Python code "on" a resource
  with exactly the environment `azmi env` gives.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import textwrap
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from azmi.clock import FixedClock
from azmi.http.app import create_app
from azmi.http.endpoints import Endpoints
from azmi.settings import Settings
from azmi.store import Store

API = {"group": "2022-09-01", "vm": "2024-07-01", "site": "2023-12-01", "aci": "2023-05-01", "msi": "2023-01-31"}
TYPES = {"vm": "Microsoft.Compute/virtualMachines", "site": "Microsoft.Web/sites",
         "aci": "Microsoft.ContainerInstance/containerGroups", "msi": "Microsoft.ManagedIdentity/userAssignedIdentities"}


@dataclass
class Wire:
    """In-process azmi: the services plus a TestClient per surface, all on one FixedClock."""

    azmi: Any
    clock: FixedClock
    arm: TestClient
    login: TestClient
    imds: TestClient
    appservice: TestClient
    operator_token: str
    settings: Settings

    @property
    def sub(self) -> str:
        return self.settings.subscription_id

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.operator_token}"}


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server for the session (see tests/pg.py); its URL."""
    from tests.pg import PostgresServer
    server = PostgresServer()
    url = server.start()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def pg_database(pg_server: str) -> str:
    from tests.pg import new_database
    return new_database(pg_server)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str:
    """Every in-process wire test runs on both databases: the store is one implementation for both."""
    if request.param == "sqlite":
        return "sqlite://"
    from tests.pg import truncate_all
    url = request.getfixturevalue("pg_database")
    truncate_all(url)
    return url


def make_wire(tmp_path: Path, store_url: str = "sqlite://", **overrides: Any) -> Iterator[Wire]:
    """An in-process azmi on a FixedClock, with Settings overrides; use with `yield from`."""
    settings = Settings(data_dir=tmp_path, in_memory=True, **overrides)
    clock = FixedClock(1_800_000_000.0)
    endpoints = Endpoints("https://arm.test", "https://login.test", "http://imds.test", "http://appsvc.test")
    store = Store(store_url)
    azmi = create_app(settings, store, clock, endpoints, str(tmp_path / "ca-bundle.pem"))
    clients = {name: TestClient(azmi.apps[name], base_url=getattr(endpoints, name))
               for name in ("arm", "login", "imds", "appservice")}  # a vault's client needs its vaultUri
    op = azmi.services.operator
    token, _ = op.token(op_client_id(), op.secret, "https://management.azure.com/")
    yield Wire(azmi, clock, clients["arm"], clients["login"], clients["imds"], clients["appservice"], token, settings)
    store.close()


@pytest.fixture
def wire(tmp_path: Path, store_url: str) -> Iterator[Wire]:
    yield from make_wire(tmp_path, store_url)


def op_client_id() -> str:
    from azmi.tokens.claims import AZURE_CLI_APP_ID
    return AZURE_CLI_APP_ID


@dataclass
class Server:
    """A running `azmi up` subprocess and an operator's ARM client for it."""

    data_dir: Path
    proc: subprocess.Popen[bytes]
    info: dict[str, Any]
    operator: dict[str, Any]
    _token: str = ""
    _client: httpx.Client | None = field(default=None, repr=False)

    @property
    def sub(self) -> str:
        return str(self.info["subscription_id"])

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(verify=ssl.create_default_context(cafile=self.info["ca_bundle"]), timeout=30)
        return self._client

    def token(self) -> str:
        if not self._token:
            r = self.client.post(f"{self.info['login']}/{self.operator['tenant_id']}/oauth2/v2.0/token", data={
                "client_id": self.operator["client_id"], "client_secret": self.operator["client_secret"],
                "grant_type": "client_credentials", "scope": "https://management.azure.com/.default"})
            r.raise_for_status()
            self._token = r.json()["access_token"]
        return self._token

    def arm(self, method: str, path: str, api: str, body: Any = None, expect: int | None = None) -> httpx.Response:
        sep = "&" if "?" in path else "?"
        r = self.client.request(method, f"{self.info['arm']}{path}{sep}api-version={api}", json=body,
                                headers={"Authorization": f"Bearer {self.token()}"})
        if expect is not None:
            assert r.status_code == expect, r.text
        return r

    def new_group(self) -> str:
        name = f"rg-{uuid.uuid4().hex[:8]}"
        self.arm("PUT", f"/subscriptions/{self.sub}/resourcegroups/{name}", API["group"], {"location": "eastus"},
                 expect=201)
        return name

    def put(self, kind: str, group: str, name: str, body: dict[str, Any], expect: int | None = None) -> dict[str, Any]:
        r = self.arm("PUT", f"/subscriptions/{self.sub}/resourceGroups/{group}/providers/{TYPES[kind]}/{name}",
                     API[kind], {"location": "eastus", **body})
        if expect is not None:
            assert r.status_code == expect, r.text
        return r.json() if r.content else {}

    def patch(self, kind: str, group: str, name: str, body: dict[str, Any]) -> httpx.Response:
        return self.arm("PATCH", f"/subscriptions/{self.sub}/resourceGroups/{group}/providers/{TYPES[kind]}/{name}",
                        API[kind], body)

    def delete(self, kind: str, group: str, name: str) -> httpx.Response:
        return self.arm("DELETE", f"/subscriptions/{self.sub}/resourceGroups/{group}/providers/{TYPES[kind]}/{name}",
                        API[kind])

    def environment(self, resource_id: str) -> dict[str, Any]:
        r = self.client.get(f"{self.info['arm']}/azmi/environment", params={"resourceId": resource_id},
                            headers={"Authorization": f"Bearer {self.token()}"})
        r.raise_for_status()
        return r.json()

    def run_python(self, resource_id: str, code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run `code` in a fresh interpreter with the resource's environment (what `azmi run` does)."""
        env = dict(os.environ)
        spec = self.environment(resource_id)
        for name in spec["unset"]:
            env.pop(name, None)
        env.update(spec["set"])
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True,
                              text=True, timeout=timeout)

    def cli(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "AZMI_DATA_DIR": str(self.data_dir), **(env or {})}
        return subprocess.run([sys.executable, "-m", "azmi.cli.main", *args], env=full_env, capture_output=True,
                              text=True, timeout=timeout)


def start_server(data_dir: Path, *extra: str, env: dict[str, str] | None = None, port_base: bool = True) -> Server:
    """`port_base=False`: the ports come from AZMI_*_PORT in `env` instead of `--port-base 0`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    endpoints = data_dir / "endpoints.json"
    if endpoints.exists():
        endpoints.unlink()
    ports = ["--port-base", "0"] if port_base else []
    proc = subprocess.Popen([sys.executable, "-m", "azmi.cli.main", "up", "--data-dir", str(data_dir),
                             *ports, *extra], env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not endpoints.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"azmi up exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("azmi up did not become ready in 30 s")
        time.sleep(0.05)
    info = json.loads(endpoints.read_text())
    operator = json.loads((data_dir / "operator.json").read_text())
    return Server(data_dir, proc, info, operator)


def stop_server(server: Server) -> None:
    if server._client is not None:
        server._client.close()
    server.proc.terminate()
    try:
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()
    if server.proc.stderr:
        server.proc.stderr.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("azmi-server"))
    yield s
    stop_server(s)
