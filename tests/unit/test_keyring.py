"""services.keyring: rotation keeps the previous key published until its tokens have expired."""

from __future__ import annotations

from typing import Iterator

import pytest

from azmi.clock import FixedClock
from azmi.errors import Unauthenticated
from azmi.services.keyring import Keyring
from azmi.store import Store
from azmi.tokens.jwt_codec import SKEW_TOLERANCE, sign, verify

ISS = "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/"
AUD = "https://vault.azure.net"
LIFETIME = 3600


@pytest.fixture
def store() -> Iterator[Store]:
    s = Store("sqlite://")
    yield s
    s.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(1_800_000_000.0)


def ring(store: Store, clock: FixedClock) -> Keyring:
    return Keyring(store, clock, max_token_lifetime=LIFETIME, issuer=ISS)


def token(kr: Keyring, clock: FixedClock) -> str:
    now = int(clock.now())
    return sign({"iss": ISS, "aud": AUD, "iat": now, "nbf": now, "exp": now + LIFETIME}, kr.active)


def check(kr: Keyring, tok: str, clock: FixedClock) -> dict[str, object]:
    return verify(tok, find_key=kr.find, issuers={ISS}, audiences={AUD}, now=clock.now())


def kids(kr: Keyring) -> list[str]:
    return [k["kid"] for k in kr.jwks()["keys"]]  # type: ignore[index,union-attr]


def test_first_key_is_created_once_and_shared_through_the_store(store: Store, clock: FixedClock) -> None:
    a = ring(store, clock)
    b = ring(store, clock)
    assert a.active.kid == b.active.kid
    assert kids(a) == [a.active.kid]


def test_jwks_publishes_only_public_members(store: Store, clock: FixedClock) -> None:
    kr = ring(store, clock)
    kr.rotate()
    for jwk in kr.jwks()["keys"]:  # type: ignore[union-attr]
        assert set(jwk) == {"kty", "use", "kid", "x5t", "n", "e", "x5c", "issuer"}
        assert jwk["issuer"] == ISS


def test_rotation_keeps_the_previous_key_published(store: Store, clock: FixedClock) -> None:
    kr = ring(store, clock)
    old = kr.active.kid
    old_token = token(kr, clock)
    clock.advance(60)
    new = kr.rotate().kid
    assert kr.active.kid == new != old
    assert kids(kr) == [new, old]  # newest first
    assert check(kr, old_token, clock)["aud"] == AUD
    new_token = token(kr, clock)
    assert check(kr, new_token, clock)
    assert new_token.split(".")[0] != old_token.split(".")[0]


def test_other_nodes_see_the_rotation_after_reload(store: Store, clock: FixedClock) -> None:
    a, b = ring(store, clock), ring(store, clock)
    new = a.rotate().kid
    assert b.find(new) is None
    b.reload()
    assert b.active.kid == new
    assert b.find(new) is not None


def test_retired_key_is_pruned_after_lifetime_plus_skew(store: Store, clock: FixedClock) -> None:
    kr = ring(store, clock)
    first = kr.active.kid
    old_token = token(kr, clock)
    between = kr.rotate().kid
    clock.advance(LIFETIME + SKEW_TOLERANCE - 1)
    second = kr.rotate().kid  # one second before the grace ends: the first key is still published
    assert first in kids(kr)
    assert check(kr, old_token, clock)  # exp + skew has not passed yet
    clock.advance(1)
    third = kr.rotate().kid
    assert first not in kids(kr)
    assert kr.find(first) is None
    assert kids(kr) == [third, second, between]
    with pytest.raises(Unauthenticated) as info:
        check(kr, old_token, clock)
    assert info.value.code == "UnknownSigningKey"
    with store.begin() as tx:
        assert first not in [row[0] for row in tx.list_keys()]  # the private key is gone from the store


def test_reload_after_grace_drops_the_retired_key(store: Store, clock: FixedClock) -> None:
    kr = ring(store, clock)
    first = kr.active.kid
    kr.rotate()
    clock.advance(LIFETIME + SKEW_TOLERANCE)
    fresh = ring(store, clock)
    assert first not in kids(fresh)
    assert fresh.find(first) is None
