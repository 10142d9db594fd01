"""Two nodes on one PostgreSQL behave as one azmi (issue: several nodes on one PostgreSQL).

Everything goes through the real wire of each node; the change feed must carry every grant,
revocation and deletion to the other node within a bounded time (BOUND, far above the expected
milliseconds; the assertions poll, they do not sleep a fixed time).
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import httpx
import jwt

from tests.conftest import API, Server
from tests.multinode.conftest import QUOTA, Cluster

BOUND = 3.0
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
UAMI = "Microsoft.ManagedIdentity/userAssignedIdentities"


def eventually(check: Callable[[], bool], what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < BOUND:
        if check():
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError(f"not within {BOUND} s: {what}")


def imds(node: Server, binding_url: str, resource: str = "https://management.azure.com/") -> httpx.Response:
    """A token request through `node`'s IMDS, with the binding key another node handed out."""
    key = binding_url.rsplit("/", 1)[1]
    return httpx.get(f"{node.info['imds']}/{key}/metadata/identity/oauth2/token",
                     params={"api-version": "2018-02-01", "resource": resource}, headers={"Metadata": "true"})


def vm_with_identity(node: Server, group: str, name: str) -> dict[str, Any]:
    return node.put("vm", group, name, {"identity": {"type": "SystemAssigned"}}, expect=201)


def grant(node: Server, scope: str, principal: str, role: str = READER, name: str | None = None) -> httpx.Response:
    return node.arm("PUT", f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name or uuid.uuid4()}",
                    "2022-04-01", {"properties": {
                        "roleDefinitionId": f"/subscriptions/{node.sub}/providers/Microsoft.Authorization/"
                                            f"roleDefinitions/{role}",
                        "principalId": principal, "principalType": "ServicePrincipal"}})


def test_both_nodes_are_healthy_and_ready(cluster: Cluster) -> None:
    for node in cluster.nodes:
        for surface in ("arm", "login", "imds", "appservice"):
            for probe in ("/healthz", "/readyz"):
                r = node.client.get(node.info[surface] + probe)
                assert r.status_code == 200, (surface, probe, r.text)
                assert r.json() == {"status": "ok"}


def test_a_resource_created_on_one_node_serves_tokens_on_the_other(cluster: Cluster) -> None:
    a, b = cluster.nodes
    group = a.new_group()
    vm = vm_with_identity(a, group, "vm1")
    assert b.arm("GET", vm["id"], API["vm"]).json()["identity"]["principalId"] == vm["identity"]["principalId"]
    binding = a.environment(vm["id"])["set"]["AZURE_POD_IDENTITY_AUTHORITY_HOST"]
    r = imds(b, binding)
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    # minted on b, verified with a's published keys: one keyring for both
    jwks = jwt.PyJWKClient(f"{a.info['login']}/common/discovery/keys",
                           ssl_context=_ssl(a)).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, jwks.key, algorithms=["RS256"], audience="https://management.azure.com/")
    assert claims["oid"] == vm["identity"]["principalId"]


def test_a_grant_on_one_node_is_enforced_by_the_other_and_so_is_its_removal(cluster: Cluster) -> None:
    a, b = cluster.nodes
    group = a.new_group()
    vm = vm_with_identity(a, group, "vm-grant")
    token = imds(a, a.environment(vm["id"])["set"]["AZURE_POD_IDENTITY_AUTHORITY_HOST"]).json()["access_token"]
    listing = f"{b.info['arm']}/subscriptions/{b.sub}/resourceGroups/{group}/providers/{UAMI}?api-version=2023-01-31"

    def allowed_on_b() -> bool:
        return httpx.get(listing, headers={"Authorization": f"Bearer {token}"}, verify=_ssl(b)).status_code == 200

    assert not allowed_on_b()  # b has now cached "no assignments" for this principal
    name = str(uuid.uuid4())
    assert grant(a, f"/subscriptions/{a.sub}/resourceGroups/{group}", vm["identity"]["principalId"],
                 name=name).status_code == 201
    eventually(allowed_on_b, "a grant made on node a is honoured by node b")
    a.arm("DELETE", f"/subscriptions/{a.sub}/resourceGroups/{group}/providers/Microsoft.Authorization/"
                    f"roleAssignments/{name}", "2022-04-01")
    eventually(lambda: not allowed_on_b(), "a revocation made on node a is enforced by node b")


def test_a_deleted_identity_is_not_found_on_every_node(cluster: Cluster) -> None:
    a, b = cluster.nodes
    group = a.new_group()
    vm = vm_with_identity(a, group, "vm-del")
    binding = a.environment(vm["id"])["set"]["AZURE_POD_IDENTITY_AUTHORITY_HOST"]
    assert imds(b, binding).status_code == 200  # b now holds the binding and a token in its caches
    assert a.delete("vm", group, "vm-del").status_code == 200

    def gone_on_b() -> bool:
        r = imds(b, binding)
        return r.status_code == 400 and r.json()["error_description"] == "Identity not found"

    eventually(gone_on_b, "the deleted VM's identity is not found on node b")


def test_racing_assignments_never_put_a_21st_identity_on_a_resource(cluster: Cluster) -> None:
    a, b = cluster.nodes
    group = a.new_group()
    vm_with_identity(a, group, "vm-race")
    ids = [a.put("msi", group, f"race-{i:02d}", {}, expect=201)["id"] for i in range(30)]

    def attach(i: int) -> int:
        node = cluster.nodes[i % 2]
        return node.patch("vm", group, "vm-race", {"identity": {
            "type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {ids[i]: {}}}}).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(attach, range(len(ids))))
    attached = b.arm("GET", f"/subscriptions/{b.sub}/resourceGroups/{group}/providers/Microsoft.Compute/"
                            "virtualMachines/vm-race", API["vm"]).json()["identity"]["userAssignedIdentities"]
    assert len(attached) == 20
    assert codes.count(200) == 20 and codes.count(400) == 10, codes


def test_racing_creates_never_exceed_the_subscription_quota(cluster: Cluster) -> None:
    a, b = cluster.nodes
    alias = f"quota-{uuid.uuid4().hex[:8]}"
    sub = a.arm("PUT", f"/providers/Microsoft.Subscription/aliases/{alias}", "2021-10-01",
                {"properties": {"displayName": alias}}).json()["properties"]["subscriptionId"]
    a.arm("PUT", f"/subscriptions/{sub}/resourcegroups/q", API["group"], {"location": "eastus"})

    def create(i: int) -> int:
        node = cluster.nodes[i % 2]
        return node.arm("PUT", f"/subscriptions/{sub}/resourceGroups/q/providers/{UAMI}/quota-{i:03d}", API["msi"],
                        {"location": "eastus"}).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(create, range(QUOTA + 10)))
    listed = b.arm("GET", f"/subscriptions/{sub}/providers/{UAMI}", API["msi"]).json()["value"]
    assert codes.count(201) == QUOTA and codes.count(400) == 10, codes
    assert len(listed) == QUOTA


def test_racing_duplicate_role_assignments_create_exactly_one(cluster: Cluster) -> None:
    a, b = cluster.nodes
    group = a.new_group()
    vm = vm_with_identity(a, group, "vm-dup")
    scope = f"/subscriptions/{a.sub}/resourceGroups/{group}"

    def race(i: int) -> int:
        return grant(cluster.nodes[i % 2], scope, vm["identity"]["principalId"]).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(race, range(24)))
    assert codes.count(201) == 1 and codes.count(409) == 23, codes
    listed = b.arm("GET", f"{scope}/providers/Microsoft.Authorization/roleAssignments?$filter=atScope()",
                   "2022-04-01").json()["value"]
    mine = [x for x in listed if x["properties"]["principalId"] == vm["identity"]["principalId"]]
    assert len(mine) == 1


def test_signing_key_rotation_on_one_node_is_published_by_the_other(cluster: Cluster) -> None:
    a, b = cluster.nodes
    before = {k["kid"] for k in b.client.get(f"{b.info['login']}/common/discovery/keys").json()["keys"]}
    rotated = a.client.post(f"{a.info['arm']}/azmi/keys/rotate", headers={"Authorization": f"Bearer {a.token()}"})
    assert rotated.status_code == 200
    new_kid = rotated.json()["active"]
    assert new_kid not in before

    def b_publishes() -> bool:
        keys = {k["kid"] for k in b.client.get(f"{b.info['login']}/common/discovery/keys").json()["keys"]}
        return new_kid in keys and before <= keys

    eventually(b_publishes, "node b publishes the key node a rotated to, and keeps the old ones")


def _ssl(node: Server) -> Any:
    import ssl
    return ssl.create_default_context(cafile=node.info["ca_bundle"])
