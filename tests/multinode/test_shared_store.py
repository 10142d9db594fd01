"""Coordination that happens in the shared store itself, exercised with two in-process nodes."""

from __future__ import annotations

import threading

from azmi.clock import FixedClock
from azmi.services.keyring import Keyring
from azmi.store import Store
from tests.pg import new_database


def test_scheduled_rotation_racing_on_two_nodes_adds_exactly_one_key(pg_server: str) -> None:
    url = new_database(pg_server)
    clock = FixedClock(1_800_000_000.0)
    stores = [Store(url), Store(url)]
    rings = [Keyring(s, clock, max_token_lifetime=3600, issuer="https://sts.windows.net/t/") for s in stores]
    first = rings[0].active.kid
    assert rings[1].active.kid == first  # the second node found the first one's key
    clock.advance(31 * 86400)
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def rotate(ring: Keyring) -> None:
        barrier.wait()
        results.append(ring.rotate_if_due(30 * 86400))

    threads = [threading.Thread(target=rotate, args=(r,)) for r in rings]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, True]
    for ring in rings:
        ring.reload()
    assert rings[0].active.kid == rings[1].active.kid != first
    assert {k["kid"] for k in rings[0].jwks()["keys"]} == {first, rings[0].active.kid}
    for s in stores:
        s.close()
