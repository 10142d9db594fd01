"""The README's nginx example (docs/nginx-two-nodes.conf), run for real in front of two nodes.

Requests through it alternate between the nodes, and the real SDKs work through it: the
management SDK against ARM, and managed-identity credentials against IMDS.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import Server
from tests.multinode.conftest import Cluster, free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def balancer(cluster: Cluster) -> Iterator[dict[str, str]]:
    if shutil.which("nginx") is None:
        pytest.skip("nginx is not installed (scripts/test installs it when run as root)")
    a, b = cluster.nodes
    run_dir = Path(tempfile.mkdtemp(prefix="azmi-lb-"))
    ports = {"lb_arm": free_port(), "lb_login": free_port(), "lb_imds": free_port()}
    values = {"run_dir": str(run_dir), "tls_cert": str(a.data_dir / "tls.pem"),
              "tls_key": str(a.data_dir / "tls-key.pem"), "ca_cert": str(a.data_dir / "ca.pem"), **ports}
    for tag, node in (("a", a), ("b", b)):
        for surface in ("arm", "login", "imds"):
            values[f"node_{tag}_{surface}"] = node.info[surface].rsplit(":", 1)[1]
    conf = (ROOT / "docs" / "nginx-two-nodes.conf").read_text()
    for key, value in values.items():
        conf = conf.replace("{" + key + "}", str(value))
    (run_dir / "nginx.conf").write_text(conf)
    subprocess.run(["nginx", "-c", str(run_dir / "nginx.conf")], check=True)
    time.sleep(0.3)
    yield {k: f"{'http' if k == 'lb_imds' else 'https'}://127.0.0.1:{v}" for k, v in ports.items()}
    subprocess.run(["nginx", "-c", str(run_dir / "nginx.conf"), "-s", "stop"], capture_output=True)
    shutil.rmtree(run_dir, ignore_errors=True)


def test_requests_alternate_between_the_nodes(cluster: Cluster, balancer: dict[str, str]) -> None:
    a = cluster.a
    seen = set()
    for _ in range(6):
        r = a.client.get(f"{balancer['lb_arm']}/subscriptions?api-version=2022-12-01",
                         headers={"Authorization": f"Bearer {a.token()}"})
        assert r.status_code == 200, r.text
        seen.add(r.headers["x-azmi-node"])
    assert len(seen) == 2, seen


def test_the_management_sdk_works_through_the_balancer(cluster: Cluster, balancer: dict[str, str]) -> None:
    a = cluster.a
    group = a.new_group()
    code = textwrap.dedent(f"""
        import json
        from azure.identity import ClientSecretCredential
        from azure.mgmt.msi import ManagedServiceIdentityClient
        from azure.mgmt.msi.models import Identity
        op = json.loads({json.dumps(json.dumps(a.operator))})
        cred = ClientSecretCredential(op["tenant_id"], op["client_id"], op["client_secret"],
                                      authority="{balancer['lb_login']}", disable_instance_discovery=True,
                                      connection_verify="{a.info['ca_bundle']}")
        client = ManagedServiceIdentityClient(cred, "{a.sub}", base_url="{balancer['lb_arm']}",
                                              credential_scopes=["https://management.azure.com/.default"],
                                              connection_verify="{a.info['ca_bundle']}")
        for i in range(4):
            client.user_assigned_identities.create_or_update("{group}", f"lb-{{i}}", Identity(location="eastus"))
        names = sorted(x.name for x in client.user_assigned_identities.list_by_resource_group("{group}"))
        print(json.dumps(names))
        """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if not k.startswith("AZURE_")})
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == ["lb-0", "lb-1", "lb-2", "lb-3"]


def test_managed_identity_tokens_come_through_the_balancer(cluster: Cluster, balancer: dict[str, str]) -> None:
    a: Server = cluster.a
    group = a.new_group()
    vm = a.put("vm", group, "vm-lb", {"identity": {"type": "SystemAssigned"}}, expect=201)
    key = a.environment(vm["id"])["set"]["AZURE_POD_IDENTITY_AUTHORITY_HOST"].rsplit("/", 1)[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "IDENTITY_", "MSI_"))}
    env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = f"{balancer['lb_imds']}/{key}"
    code = textwrap.dedent("""
        import asyncio, jwt
        from azure.identity import ManagedIdentityCredential
        from azure.identity.aio import ManagedIdentityCredential as AsyncCredential
        sync_token = ManagedIdentityCredential().get_token("https://vault.azure.net/.default").token
        async def main():
            async with AsyncCredential() as cred:
                return (await cred.get_token("https://vault.azure.net/.default")).token
        async_token = asyncio.run(main())
        print(jwt.decode(sync_token, options={"verify_signature": False})["oid"])
        print(jwt.decode(async_token, options={"verify_signature": False})["oid"])
        """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [vm["identity"]["principalId"]] * 2
