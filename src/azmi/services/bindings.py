"""Caller binding: which resource a workload request comes from, served from memory.

A workload proves where it runs only by secrets a foreign caller cannot forge: the
per-resource IMDS path key and the App Service `X-IDENTITY-HEADER`. Lookups hit a dict; the
store is read on a miss, and the control plane evicts entries when a resource changes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from azmi.domain.models import AttachedIdentity, Principal, Resource
from azmi.store import Store


@dataclass(frozen=True)
class Workload:
    """What the token path needs to know about a resource."""

    resource_key: str
    resource_id: str
    full_type: str
    system: Principal | None
    user: tuple[AttachedIdentity, ...]
    clock_skew: int = 0

    @classmethod
    def of(cls, r: Resource) -> "Workload":
        return cls(r.id.key, str(r.id), r.id.full_type, r.system_identity, r.user_assigned, r.clock_skew)


class BindingIndex:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._by_secret: dict[tuple[str, str], Workload] = {}
        self._secrets_of: dict[str, list[tuple[str, str]]] = {}

    def lookup(self, column: str, secret: str) -> Workload | None:
        """column is 'binding_key' (IMDS path key) or 'identity_header' (App Service secret)."""
        hit = self._by_secret.get((column, secret))
        if hit is not None:
            return hit
        with self._store.begin() as tx:
            resource = tx.find_resource_by(column, secret)
        if resource is None:
            return None
        work = Workload.of(resource)
        with self._lock:
            self._by_secret[(column, secret)] = work
            self._secrets_of.setdefault(work.resource_key, []).append((column, secret))
        return work

    def evict(self, resource_key: str) -> None:
        with self._lock:
            for k in self._secrets_of.pop(resource_key, []):
                self._by_secret.pop(k, None)

    def evict_all(self) -> None:
        with self._lock:
            self._by_secret.clear()
            self._secrets_of.clear()
