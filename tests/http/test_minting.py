"""Cold minting on the signing pool: concurrent requests for a token not yet cached (IMDS and App Service).

A miss is signed off the event loop, so several requests are in flight at once; these tests hold the
signer until every request has arrived, then check what the workloads get: one token for one identity
and audience (single-flight), the stats counters, IMDS's concurrency limit, and errors in each surface's
shape. A cached token is still answered at once, without waiting for the pool.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

import azmi.services.tokens as token_service
from azmi.http.wire import WireResponse, make_request
from tests.conftest import Wire
from tests.http.helpers import (IMDS_TOKEN, MGMT, VAULT, binding_key, build_wire, claims, identity_header, new_group,
                                with_system)

FRESH = "https://cold.example"  # an audience nobody asked for yet: every first request is a miss


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Signing waits until the test opens the gate, so requests pile up on one mint."""
    opened = threading.Event()
    real = token_service.sign

    def held(body: Any, key: Any) -> str:
        assert opened.wait(10), "the test never opened the signing gate"
        return real(body, key)

    monkeypatch.setattr(token_service, "sign", held)
    return opened


def together(wire: Wire, surface: str, requests: list[tuple[str, dict[str, str]]], gate: threading.Event,
             ready: Callable[[list[asyncio.Task[httpx.Response]]], bool]) -> list[httpx.Response]:
    """Send every request at once through the surface's ASGI app; open the gate once `ready` says so."""
    base = {"imds": "http://imds.test", "appservice": "http://appsvc.test"}[surface]

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=wire.azmi.apps[surface])
        async with httpx.AsyncClient(transport=transport, base_url=base) as client:
            tasks = [asyncio.create_task(client.get(url, headers=headers)) for url, headers in requests]
            for _ in range(1000):
                if ready(tasks):
                    break
                await asyncio.sleep(0.005)
            gate.set()
            return list(await asyncio.gather(*tasks))

    return asyncio.run(run())


def stats(wire: Wire) -> dict[str, int]:
    r = wire.arm.get("/azmi/stats", headers=wire.auth())
    assert r.status_code == 200, r.text
    return dict(r.json())


def served_reached(wire: Wire, count: int) -> Callable[[list[Any]], bool]:
    start = wire.azmi.services.tokens.served
    return lambda tasks: wire.azmi.services.tokens.served - start >= count


def test_concurrent_imds_misses_share_one_token(wire, gate):  # type: ignore[no-untyped-def]
    vm = with_system(wire, "vm", new_group(wire))
    url = f"/{binding_key(wire, vm['id'])}{IMDS_TOKEN}?api-version=2018-02-01&resource={FRESH}"
    before = stats(wire)
    out = together(wire, "imds", [(url, {"Metadata": "true"})] * 8, gate, served_reached(wire, 8))
    assert [r.status_code for r in out] == [200] * 8, [r.text for r in out]
    assert len({r.json()["access_token"] for r in out}) == 1  # signed once, handed to all eight
    assert claims(out[0].json()["access_token"])["aud"] == FRESH
    after = stats(wire)
    assert after["tokensMinted"] - before["tokensMinted"] == 1
    assert after["tokensServed"] - before["tokensServed"] == 8
    # and that token is now the cached one
    again = wire.imds.get(url, headers={"Metadata": "true"})
    assert again.json()["access_token"] == out[0].json()["access_token"]


def test_concurrent_misses_for_different_audiences_get_their_own_tokens(wire, gate):  # type: ignore[no-untyped-def]
    vm = with_system(wire, "vm", new_group(wire))
    key = binding_key(wire, vm["id"])
    audiences = [MGMT, VAULT, FRESH]
    requests = [(f"/{key}{IMDS_TOKEN}?api-version=2018-02-01&resource={a}", {"Metadata": "true"}) for a in audiences]
    before = stats(wire)
    out = together(wire, "imds", requests, gate, served_reached(wire, 3))
    assert [claims(r.json()["access_token"])["aud"] for r in out] == audiences
    assert stats(wire)["tokensMinted"] - before["tokensMinted"] == 3


def test_concurrent_app_service_misses_share_one_token_across_api_versions(wire, gate):  # type: ignore[no-untyped-def]
    site = with_system(wire, "site", new_group(wire))
    secret = identity_header(wire, site["id"])
    requests = [(f"/msi/token?api-version=2019-08-01&resource={FRESH}", {"X-IDENTITY-HEADER": secret})] * 3 + \
        [(f"/msi/token?api-version=2017-09-01&resource={FRESH}", {"secret": secret})] * 3
    before = stats(wire)
    out = together(wire, "appservice", requests, gate, served_reached(wire, 6))
    assert [r.status_code for r in out] == [200] * 6, [r.text for r in out]
    assert len({r.json()["access_token"] for r in out}) == 1
    assert out[0].json()["expires_on"].isdigit()  # 2019-08-01: epoch seconds
    assert out[-1].json()["expires_on"].endswith("+00:00")  # 2017-09-01: a date
    assert stats(wire)["tokensMinted"] - before["tokensMinted"] == 1


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Wire]:
    yield from build_wire(tmp_path, imds_max_concurrent=2)


def test_imds_concurrency_limit_counts_requests_waiting_for_a_mint(limited, gate):  # type: ignore[no-untyped-def]
    vm = with_system(limited, "vm", new_group(limited))
    key = binding_key(limited, vm["id"])
    requests = [(f"/{key}{IMDS_TOKEN}?api-version=2018-02-01&resource={a}", {"Metadata": "true"})
                for a in (FRESH, VAULT, MGMT)]
    out = together(limited, "imds", requests, gate, lambda tasks: tasks[2].done())
    assert [r.status_code for r in out] == [200, 200, 429]
    assert out[2].headers["retry-after"] == "1"
    assert out[2].json() == {"error": "too_many_requests", "error_description": "Too many requests"}


def test_cached_token_is_answered_at_once_and_a_miss_later(wire):  # type: ignore[no-untyped-def]
    """The handler's contract with the server: a cache hit never waits for the signing pool."""
    vm = with_system(wire, "vm", new_group(wire))
    handler = wire.azmi.apps["imds"].handler
    req = make_request("GET", f"/{binding_key(wire, vm['id'])}{IMDS_TOKEN}", f"api-version=2018-02-01&resource={FRESH}",
                       [(b"Metadata", b"true")])
    miss = handler(req)
    assert not isinstance(miss, WireResponse)
    minted = asyncio.run(miss)  # type: ignore[arg-type]
    hit = handler(req)
    assert isinstance(hit, WireResponse) and hit.status == 200
    assert hit.body == minted.body


def test_a_failing_signer_is_imds_500_then_minting_recovers(wire, monkeypatch):  # type: ignore[no-untyped-def]
    vm = with_system(wire, "vm", new_group(wire))
    url = f"/{binding_key(wire, vm['id'])}{IMDS_TOKEN}?api-version=2018-02-01&resource={FRESH}"
    real = token_service.sign
    monkeypatch.setattr(token_service, "sign", lambda body, key: 1 / 0)
    r = wire.imds.get(url, headers={"Metadata": "true"})
    assert r.status_code == 500
    assert r.json() == {"error": "server_error", "error_description": "Server error"}
    monkeypatch.setattr(token_service, "sign", real)
    r = wire.imds.get(url, headers={"Metadata": "true"})
    assert r.status_code == 200, r.text
    assert claims(r.json()["access_token"])["aud"] == FRESH


def test_a_failing_signer_is_app_service_500(wire, monkeypatch):  # type: ignore[no-untyped-def]
    site = with_system(wire, "site", new_group(wire))
    monkeypatch.setattr(token_service, "sign", lambda body, key: 1 / 0)
    r = wire.appservice.get("/msi/token", params={"api-version": "2019-08-01", "resource": FRESH},
                            headers={"X-IDENTITY-HEADER": identity_header(wire, site["id"])})
    assert r.status_code == 500
    body = r.json()
    assert body["statusCode"] == 500 and body["message"] and body["correlationId"]
