"""The control plane through azure-mgmt-msi's `ManagedServiceIdentityClient` (sdk-compat §7).

The client signs in as azmi's operator with `ClientSecretCredential` against azmi's login
endpoint and talks to azmi's ARM over TLS trusted through azmi's CA bundle.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.msi.models import Identity, IdentityUpdate

from tests.conftest import Server, start_server, stop_server
from tests.sdk.helpers import uami, user_assigned

ARM_SCOPE = "https://management.azure.com/.default"


@contextmanager
def msi_client(server: Server) -> Iterator[ManagedServiceIdentityClient]:
    op = server.operator
    cred = ClientSecretCredential(op["tenant_id"], op["client_id"], op["client_secret"],
                                  authority=server.info["login"], disable_instance_discovery=True,
                                  connection_verify=server.info["ca_bundle"])
    with cred, ManagedServiceIdentityClient(cred, server.sub, base_url=server.info["arm"],
                                            credential_scopes=[ARM_SCOPE],
                                            connection_verify=server.info["ca_bundle"]) as client:
        yield client


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[ManagedServiceIdentityClient]:
    with msi_client(server) as c:
        yield c


def failure(call: Callable[..., Any], *args: Any) -> tuple[type[Exception], int, str]:
    """(exception type, HTTP status, ARM error code) of a call that must fail."""
    try:
        call(*args)
    except HttpResponseError as exc:
        return type(exc), int(exc.status_code or 0), exc.error.code if exc.error else ""
    raise AssertionError("the call succeeded")


def with_status(pipeline_response: Any, deserialized: Any, headers: Any) -> tuple[int, Any]:
    return pipeline_response.http_response.status_code, deserialized


def test_user_assigned_identity_lifecycle(server: Server, client: ManagedServiceIdentityClient) -> None:
    group = server.new_group()
    ops = client.user_assigned_identities

    status, created = ops.create_or_update(group, "id-one", Identity(location="eastus", tags={"env": "test"}),
                                           cls=with_status)
    assert status == 201
    assert created.name == "id-one"
    assert created.type == "Microsoft.ManagedIdentity/userAssignedIdentities"
    assert created.location == "eastus" and created.tags == {"env": "test"}
    assert created.tenant_id == server.info["tenant_id"]
    assert uuid.UUID(created.principal_id) and uuid.UUID(created.client_id)
    assert created.principal_id != created.client_id
    assert created.isolation_scope == "None"

    status, again = ops.create_or_update(group, "id-one", Identity(location="eastus", tags={"env": "test"}),
                                         cls=with_status)
    assert status == 200
    assert (again.principal_id, again.client_id) == (created.principal_id, created.client_id)

    got = ops.get(group, "id-one")
    assert got.id.lower() == created.id.lower()
    assert (got.principal_id, got.client_id) == (created.principal_id, created.client_id)

    ops.create_or_update(group, "id-two", Identity(location="eastus"))
    assert sorted(i.name for i in ops.list_by_resource_group(group)) == ["id-one", "id-two"]
    in_sub = {i.id.lower() for i in ops.list_by_subscription()}
    assert created.id.lower() in in_sub and len(in_sub) >= 2

    updated = ops.update(group, "id-one", IdentityUpdate(tags={"env": "prod", "team": "a"}))
    assert updated.tags == {"env": "prod", "team": "a"}
    assert updated.principal_id == created.principal_id
    assert ops.get(group, "id-one").tags == {"env": "prod", "team": "a"}

    ops.delete(group, "id-one")
    assert failure(ops.get, group, "id-one")[:2] == (ResourceNotFoundError, 404)
    assert [i.name for i in ops.list_by_resource_group(group)] == ["id-two"]
    assert created.id.lower() not in {i.id.lower() for i in ops.list_by_subscription()}


def test_get_missing_identity(server: Server, client: ManagedServiceIdentityClient) -> None:
    group = server.new_group()
    assert failure(client.user_assigned_identities.get, group, "nope") == (ResourceNotFoundError, 404,
                                                                            "ResourceNotFound")


def test_system_assigned_identity_by_scope(server: Server, client: ManagedServiceIdentityClient) -> None:
    group = server.new_group()
    vm = server.put("vm", group, "vm-scope", {"identity": {"type": "SystemAssigned"}}, expect=201)

    ident = client.system_assigned_identities.get_by_scope(vm["id"])

    assert ident.principal_id == vm["identity"]["principalId"]
    assert ident.tenant_id == server.info["tenant_id"]
    assert uuid.UUID(ident.client_id)
    assert ident.name == "default"

    plain = server.put("vm", group, "vm-plain", {}, expect=201)
    assert failure(client.system_assigned_identities.get_by_scope, plain["id"])[:2] == (ResourceNotFoundError, 404)


def test_twenty_user_assigned_identities_per_resource(server: Server,
                                                      client: ManagedServiceIdentityClient) -> None:
    group = server.new_group()
    ids = [client.user_assigned_identities.create_or_update(group, f"id-{i:02}", Identity(location="eastus"))
           for i in range(21)]
    first20 = {i.id: {} for i in ids[:20]}
    vm = server.put("vm", group, "vm-many", {"identity": {"type": "UserAssigned",
                                                          "userAssignedIdentities": first20}}, expect=201)
    assert len(vm["identity"]["userAssignedIdentities"]) == 20

    r = server.patch("vm", group, "vm-many", {"identity": {
        "type": "UserAssigned", "userAssignedIdentities": {ids[20].id: {}}}})

    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "BadRequest"
    assert "exceed limit '20'" in r.json()["error"]["message"]
    after = server.arm("GET", vm["id"], "2024-07-01", expect=200).json()
    assert {k.lower() for k in after["identity"]["userAssignedIdentities"]} == {k.lower() for k in first20}


def test_subscription_quota_is_a_setting(tmp_path: Path) -> None:
    server = start_server(tmp_path / "azmi", env={"AZMI_UAMI_PER_SUBSCRIPTION": "3"})
    try:
        group = server.new_group()
        with msi_client(server) as client:
            ops = client.user_assigned_identities
            for i in range(3):
                ops.create_or_update(group, f"id-{i}", Identity(location="eastus"))

            status = failure(ops.create_or_update, group, "id-3", Identity(location="eastus"))

            assert status == (HttpResponseError, 400, "QuotaExceeded")
            assert sorted(i.name for i in ops.list_by_subscription()) == ["id-0", "id-1", "id-2"]
            assert failure(ops.get, group, "id-3")[:2] == (ResourceNotFoundError, 404)
            # freeing one makes room again
            ops.delete(group, "id-0")
            assert ops.create_or_update(group, "id-3", Identity(location="eastus")).name == "id-3"
    finally:
        stop_server(server)


def test_assigned_identity_shows_on_the_resource(server: Server, client: ManagedServiceIdentityClient) -> None:
    group = server.new_group()
    ua = uami(server, group)
    vm = server.put("vm", group, "vm-ua", {"identity": {"type": "UserAssigned",
                                                        "userAssignedIdentities": user_assigned(ua)}}, expect=201)
    got = client.user_assigned_identities.get(group, ua["name"])
    (entry,) = vm["identity"]["userAssignedIdentities"].values()
    assert (entry["principalId"], entry["clientId"]) == (got.principal_id, got.client_id)
