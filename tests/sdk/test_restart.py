"""State survives a restart on the same data directory: identities, signing keys, bindings.

Each test runs its own `azmi up` (SQLite in a temp data dir); ports are picked afresh on every
start, so "the same environment" means the same binding behind the new IMDS address.
"""

from __future__ import annotations

import signal
import ssl
import time
from pathlib import Path

import httpx

from tests.conftest import start_server, stop_server
from tests.sdk.helpers import (assert_principal, identity_of, imds_get, snippet, token_from, uami, user_assigned,
                               verify)


def test_restart_keeps_identities_keys_and_bindings(tmp_path: Path) -> None:
    data_dir = tmp_path / "azmi"
    first = start_server(data_dir)
    try:
        group = first.new_group()
        ua = uami(first, group, "id-restart")
        vm = first.put("vm", group, "vm-restart", {"identity": {
            "type": "SystemAssigned, UserAssigned", "userAssignedIdentities": user_assigned(ua)}}, expect=201)
        before = identity_of(first, vm["id"])
        env_before = first.environment(vm["id"])
        imds_before = first.info["imds"]
        token = token_from(first, vm["id"], snippet())
        assert_principal(verify(first, token), before["principalId"], before["clientId"])
    finally:
        stop_server(first)

    second = start_server(data_dir)
    try:
        # the identities are still there, unchanged
        assert identity_of(second, vm["id"]) == before
        ua_after = second.arm("GET", ua["id"], "2023-01-31", expect=200).json()["properties"]
        assert (ua_after["principalId"], ua_after["clientId"]) == (ua["properties"]["principalId"],
                                                                   ua["properties"]["clientId"])
        assert second.arm("GET", vm["id"], "2024-07-01", expect=200).json()["identity"] == vm["identity"]

        # the signing keys were persisted: a token issued before the restart still verifies
        claims = verify(second, token)
        assert claims["oid"] == before["principalId"]

        # the VM's binding is the same, only the IMDS address moved
        env_after = second.environment(vm["id"])
        expected = dict(env_before["set"])
        expected["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = expected["AZURE_POD_IDENTITY_AUTHORITY_HOST"].replace(
            imds_before, second.info["imds"])
        assert env_after["set"] == expected
        assert env_after["unset"] == env_before["unset"]

        fresh = token_from(second, vm["id"], snippet())
        assert_principal(verify(second, fresh), before["principalId"], before["clientId"])
        by_client = token_from(second, vm["id"], snippet(kwargs=f"client_id={ua['properties']['clientId']!r}"))
        assert verify(second, by_client)["oid"] == ua["properties"]["principalId"]
    finally:
        stop_server(second)


def test_in_memory_server_forgets_everything(tmp_path: Path) -> None:
    data_dir = tmp_path / "azmi"
    first = start_server(data_dir, "--in-memory")
    try:
        group = first.new_group()
        vm = first.put("vm", group, "vm-gone", {"identity": {"type": "SystemAssigned"}}, expect=201)
        url = first.environment(vm["id"])["set"]["AZURE_POD_IDENTITY_AUTHORITY_HOST"]
        key = url.rsplit("/", 1)[1]
        assert imds_get(url).status_code == 200
    finally:
        stop_server(first)

    second = start_server(data_dir, "--in-memory")
    try:
        assert second.arm("GET", vm["id"], "2024-07-01").status_code == 404
        r = imds_get(f"{second.info['imds']}/{key}")
        assert r.status_code == 400 and r.json()["error_description"] == "Identity not found"
    finally:
        stop_server(second)


def test_stop_is_prompt_with_an_idle_tls_client(tmp_path: Path) -> None:
    """A client holding an idle keep-alive TLS connection must not keep `azmi up` from stopping."""
    server = start_server(tmp_path / "azmi")
    idle = httpx.Client(verify=ssl.create_default_context(cafile=server.info["ca_bundle"]))
    try:
        assert idle.get(f"{server.info['arm']}/subscriptions").status_code == 401  # connection stays open
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(timeout=10)
        assert server.proc.returncode == 0
        assert time.monotonic() - started < 8
        assert not (server.data_dir / "endpoints.json").exists()
    finally:
        idle.close()
        stop_server(server)
