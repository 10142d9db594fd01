"""Each fault control, set with the CLI (`azmi fault|clock`, `update --set clockSkew=`), seen through the real SDK.

- injected 503s / 500s on IMDS and App Service are retried by azure-identity (sync and async) and the token
  arrives; throttling answers 429 + Retry-After and the SDK retries; slow responses are slow;
- a resource whose clock is 7 minutes ahead gets tokens Key Vault refuses (401 naming nbf), 3 minutes is fine;
- with `AZMI_RBAC_PROPAGATION_DELAY` a new grant is refused at first and honoured after the delay, and a
  removed one keeps working until then (its own server);
- `azmi clock advance` past expiry makes Key Vault refuse the token the SDK still holds (401, expired).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any, Iterator

import pytest

from azmi.cli.lab.runtime_labs import RECORD
from tests.conftest import Server, start_server, stop_server
from tests.sdk.keyvault_helpers import AUTHZ_API, create_vault, grant, operator_secrets, read_secret

SECRET, VALUE = "fault-secret", "fault-value"

ATTEMPTS = RECORD + '''
import asyncio, json, sys, time
from azure.identity import ManagedIdentityCredential
from azure.identity.aio import ManagedIdentityCredential as AsyncCredential

async def one_async():
    async with AsyncCredential() as cred:
        return await cred.get_token("https://vault.azure.net/.default")

mode, n = sys.argv[1], int(sys.argv[2])
start = time.monotonic()
for _ in range(n):
    token = ManagedIdentityCredential().get_token("https://vault.azure.net/.default") if mode == "sync" \\
        else asyncio.run(one_async())
print("RESULT", json.dumps({"statuses": [s["status"] for s in SEEN], "retry_after": [s["retry_after"] for s in SEEN],
                            "seconds": time.monotonic() - start, "token": bool(token.token)}))
'''

POLL_SECRET = '''
import json, os, sys, time
os.environ["AZURE_TOKEN_CREDENTIALS"] = "prod"
from azure.core.exceptions import HttpResponseError
from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient
vault, name, since, until = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
seen = []
with DefaultAzureCredential() as cred, SecretClient(vault, cred, verify_challenge_resource=False) as client:
    while True:
        try:
            client.get_secret(name)
            status = 200
        except HttpResponseError as exc:
            status = exc.status_code
        seen.append([status, round(time.time() - since, 2)])
        if len(seen) > 1 and status != seen[0][0] or time.time() - since > until:
            break
        time.sleep(0.2)
print("RESULT", json.dumps(seen))
'''

STEPWISE = '''
import json, os, sys
os.environ["AZURE_TOKEN_CREDENTIALS"] = "prod"
from azure.core.exceptions import HttpResponseError
from azure.identity import ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient
with ManagedIdentityCredential() as cred, SecretClient(sys.argv[1], cred, verify_challenge_resource=False) as c:
    for step in ("before", "after"):
        try:
            out = {"status": 200, "value": c.get_secret(sys.argv[2]).value}
        except HttpResponseError as exc:
            out = {"status": exc.status_code, "message": str(exc)}
        print("RESULT", json.dumps({"step": step, **out}), flush=True)
        if step == "before":
            sys.stdin.readline()
'''


def run_code(server: Server, rid: str, code: str, *args: str) -> Any:
    env = _env(server, rid)
    p = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
    assert p.returncode == 0 and lines, p.stdout + p.stderr[-3000:]
    return json.loads(lines[-1][7:])


def _env(server: Server, rid: str) -> dict[str, str]:
    import os
    spec = server.environment(rid)
    env = {k: v for k, v in os.environ.items() if k not in spec["unset"]}
    env.update(spec["set"])
    return env


def cli_ok(server: Server, *args: str) -> Any:
    done = server.cli(*args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


@pytest.fixture
def faults_cleared(server: Server) -> Iterator[None]:
    yield
    cli_ok(server, "fault", "clear")


@pytest.fixture(scope="module")
def workloads(server: Server) -> dict[str, Any]:
    group = server.new_group()
    vm = server.put("vm", group, "vm-faults", {"identity": {"type": "SystemAssigned"}}, expect=201)
    site = server.put("site", group, "app-faults", {"kind": "app", "identity": {"type": "SystemAssigned"}}, expect=201)
    vault = create_vault(server, group)
    uri = vault["properties"]["vaultUri"]
    grant(server, vault["id"], "Key Vault Secrets Officer", server.operator["object_id"])
    with operator_secrets(server, uri) as client:
        client.set_secret(SECRET, VALUE)
    for w in (vm, site):
        grant(server, vault["id"], "Key Vault Secrets User", w["identity"]["principalId"])
    return {"group": group, "vm": vm["id"], "site": site["id"], "uri": uri}


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_injected_503s_are_retried_on_imds(server: Server, workloads: dict[str, Any], faults_cleared: None,
                                           mode: str) -> None:
    state = cli_ok(server, "fault", "set", "--fail-next", "2", "--status", "503")
    assert state["failNext"] == 2
    got = run_code(server, workloads["vm"], ATTEMPTS, mode, "1")
    assert got["token"]
    if mode == "sync":  # the recorder sees `requests`, the sync transport; async goes through aiohttp
        assert got["statuses"] == [503, 503, 200]
    assert cli_ok(server, "fault", "show")["failNext"] == 0  # both failures were served, then retried


def test_injected_500_is_retried_on_app_service(server: Server, workloads: dict[str, Any], faults_cleared: None) -> None:
    cli_ok(server, "fault", "set", "--fail-next", "1", "--status", "500")
    got = run_code(server, workloads["site"], ATTEMPTS, "sync", "1")
    assert got["statuses"] == [500, 200] and got["token"]


def test_throttled_imds_answers_429_and_the_sdk_retries(server: Server, workloads: dict[str, Any],
                                                        faults_cleared: None) -> None:
    assert cli_ok(server, "fault", "set", "--imds-rate-limit", "1")["imdsRateLimit"] == 1
    got = run_code(server, workloads["vm"], ATTEMPTS, "sync", "3")
    assert got["token"] and 429 in got["statuses"] and got["statuses"][-1] == 200
    assert {ra for s, ra in zip(got["statuses"], got["retry_after"]) if s == 429} == {"1"}
    assert got["statuses"].count(200) == 3


def test_slow_responses_and_transient_rate_are_controls(server: Server, workloads: dict[str, Any],
                                                        faults_cleared: None) -> None:
    cli_ok(server, "fault", "set", "--slow-ms", "400")
    got = run_code(server, workloads["vm"], ATTEMPTS, "sync", "1")
    assert got["statuses"] == [200] and got["seconds"] >= 0.4
    state = cli_ok(server, "fault", "set", "--transient-rate", "0.25")
    assert state["transientFailureRate"] == 0.25 and state["slowResponseMs"] == 400
    cleared = cli_ok(server, "fault", "clear")
    assert (cleared["transientFailureRate"], cleared["slowResponseMs"], cleared["imdsRateLimit"]) == (0, 0, 0)


@pytest.mark.parametrize("kind, flag", [("vm", "vm"), ("site", "webapp")])
def test_clock_skew_beyond_five_minutes_is_refused_by_key_vault(server: Server, workloads: dict[str, Any],
                                                                kind: str, flag: str) -> None:
    name = workloads[kind].rsplit("/", 1)[-1]
    try:
        shown = cli_ok(server, flag, "update", "-g", workloads["group"], "-n", name, "--set", "clockSkew=7m")
        assert shown["clockSkewSeconds"] == 420 and shown["name"] == name
        refused = read_secret(server, workloads[kind], workloads["uri"], SECRET, modes=("sync",))["sync"]
        assert refused["status"] == 401, refused
        assert "nbf" in refused["message"] and "not valid yet" in refused["message"]
        for within in ("3m", "-3m"):
            cli_ok(server, flag, "update", "-g", workloads["group"], "-n", name, "--set", f"clockSkew={within}")
            ok = read_secret(server, workloads[kind], workloads["uri"], SECRET, modes=("sync",))["sync"]
            assert ok.get("value") == VALUE, (within, ok)
    finally:
        cli_ok(server, flag, "update", "-g", workloads["group"], "-n", name, "--set", "clockSkew=0")


def test_update_set_patches_properties_and_tags(server: Server, workloads: dict[str, Any]) -> None:
    shown = cli_ok(server, "vm", "update", "-g", workloads["group"], "-n", "vm-faults", "--set", "tags.env=lab",
                   "hardwareProfile.vmSize=Standard_B1s")
    assert shown["tags"]["env"] == "lab" and shown["hardwareProfile"]["vmSize"] == "Standard_B1s"
    assert "clockSkewSeconds" not in shown
    bad = server.cli("vm", "update", "-g", workloads["group"], "-n", "vm-faults", "--set", "clockSkew=soon")
    assert bad.returncode == 1 and "clockSkew" in bad.stderr


# -- a separate azmi: RBAC propagation delay and a moved clock must not disturb the shared server ------------

DELAY = 3


@pytest.fixture(scope="module")
def delayed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("azmi-delayed"), env={"AZMI_RBAC_PROPAGATION_DELAY": str(DELAY)})
    yield s
    stop_server(s)


def test_rbac_propagation_delay_applies_to_new_and_removed_grants(delayed: Server) -> None:
    group = delayed.new_group()
    vm = delayed.put("vm", group, "vm-delay", {"identity": {"type": "SystemAssigned"}}, expect=201)
    vault = create_vault(delayed, group)
    uri = vault["properties"]["vaultUri"]
    grant(delayed, vault["id"], "Key Vault Secrets Officer", delayed.operator["object_id"])
    time.sleep(DELAY + 0.2)
    with operator_secrets(delayed, uri) as client:
        client.set_secret(SECRET, VALUE)

    granted_at = time.time()
    assignment = grant(delayed, vault["id"], "Key Vault Secrets User", vm["identity"]["principalId"])
    seen = run_code(delayed, vm["id"], POLL_SECRET, uri, SECRET, str(granted_at), str(DELAY + 10))
    assert seen[0][0] == 403 and seen[-1][0] == 200, seen
    assert seen[-1][1] >= DELAY - 0.5, f"the grant took effect too early: {seen}"

    removed_at = time.time()
    delayed.arm("DELETE", assignment["id"], AUTHZ_API, expect=200)
    seen = run_code(delayed, vm["id"], POLL_SECRET, uri, SECRET, str(removed_at), str(DELAY + 10))
    assert seen[0][0] == 200 and seen[-1][0] == 403, seen
    assert seen[-1][1] >= DELAY - 0.5, f"the removal took effect too early: {seen}"


def test_clock_advance_past_expiry_makes_key_vault_refuse_the_cached_token(delayed: Server) -> None:
    group = delayed.new_group()
    vm = delayed.put("vm", group, "vm-clock", {"identity": {"type": "SystemAssigned"}}, expect=201)
    vault = create_vault(delayed, group)
    uri = vault["properties"]["vaultUri"]
    for principal, role in ((delayed.operator["object_id"], "Key Vault Secrets Officer"),
                            (vm["identity"]["principalId"], "Key Vault Secrets User")):
        grant(delayed, vault["id"], role, principal)
    time.sleep(DELAY + 0.2)
    with operator_secrets(delayed, uri) as client:
        client.set_secret(SECRET, VALUE)
    before = cli_ok(delayed, "clock", "show")["now"]
    child = subprocess.Popen([sys.executable, "-c", STEPWISE, uri, SECRET], env=_env(delayed, vm["id"]),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdin is not None
        first = json.loads(child.stdout.readline()[7:])
        assert first == {"step": "before", "status": 200, "value": VALUE}
        moved = cli_ok(delayed, "clock", "advance", "2h")
        assert moved["now"] >= before + 7200
        delayed._token = ""  # the test's own operator token is now expired too
        child.stdin.write("\n")
        child.stdin.flush()
        second = json.loads(child.stdout.readline()[7:])
    finally:
        child.communicate(timeout=60)
    assert second["status"] == 401, second
    assert "expired" in second["message"]
