"""The token-signing keyring, shared through the store so every node signs and verifies alike.

One key signs; keys retired by rotation stay published until every token they signed has
expired (retired_at + longest token lifetime + skew tolerance), then they are pruned.
"""

from __future__ import annotations

import threading
from typing import Callable

from azmi.clock import Clock
from azmi.store import Store
from azmi.tokens.jwt_codec import SKEW_TOLERANCE
from azmi.tokens.keys import SigningKey, generate_key, load_key


class Keyring:
    def __init__(self, store: Store, clock: Clock, *, max_token_lifetime: int, issuer: str) -> None:
        self._store = store
        self._clock = clock
        self._grace = max_token_lifetime + SKEW_TOLERANCE
        self._issuer = issuer
        self._lock = threading.Lock()
        self.on_rotate: Callable[[], None] | None = None  # tells other nodes to reload (the change feed)
        self._keys: dict[str, SigningKey] = {}
        self._active: SigningKey | None = None
        self._jwks: dict[str, object] = {"keys": []}
        self.reload()

    def reload(self) -> None:
        """Read the keys from the store, creating the first one if there is none."""
        with self._lock, self._store.begin() as tx:
            tx.lock_control_plane()
            rows = tx.list_keys()
            if not any(r[4] is None for r in rows):
                key = generate_key(self._clock.now())
                tx.insert_key(key.kid, key.private_pem(), key.cert_der, key.created_at)
                rows = tx.list_keys()
            self._install([load_key(*r) for r in rows])

    def _install(self, keys: list[SigningKey]) -> None:
        now = self._clock.now()
        live = [k for k in keys if k.retired_at is None or k.retired_at + self._grace > now]
        self._keys = {k.kid: k for k in live}
        self._active = max((k for k in live if k.retired_at is None), key=lambda k: k.created_at)
        self._jwks = {"keys": [k.jwk(self._issuer) for k in sorted(live, key=lambda k: -k.created_at)]}

    @property
    def active(self) -> SigningKey:
        assert self._active is not None
        return self._active

    def find(self, kid: str) -> SigningKey | None:
        return self._keys.get(kid)

    def jwks(self) -> dict[str, object]:
        return self._jwks

    def rotate_if_due(self, interval: float) -> bool:
        """The scheduled rotation: rotate when the active key is older than `interval` seconds."""
        return self.rotate(only_if_older_than=interval) is not None

    def rotate(self, only_if_older_than: float | None = None) -> SigningKey | None:
        """Start signing with a new key; the previous one stays published for its tokens' lifetime.

        The age check and the insert share one transaction, so nodes rotating at once add one key.
        """
        now = self._clock.now()
        with self._lock, self._store.begin() as tx:
            tx.lock_control_plane()
            rows = tx.list_keys()
            active = [r for r in rows if r[4] is None]
            if only_if_older_than is not None and active and max(r[3] for r in active) + only_if_older_than > now:
                self._install([load_key(*r) for r in rows])
                return None
            for kid, _pem, _der, _created, retired in rows:
                if retired is None:
                    tx.retire_key(kid, now)
                elif retired + self._grace <= now:
                    tx.delete_key(kid)
            key = generate_key(now)
            tx.insert_key(key.kid, key.private_pem(), key.cert_der, key.created_at)
            self._install([load_key(*r) for r in tx.list_keys()])
        if self.on_rotate is not None:
            self.on_rotate()
        return key
