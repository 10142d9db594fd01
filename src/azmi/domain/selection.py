"""Which identity a token request gets: the rules IMDS and App Service apply.

- A selector (client id, object id or resource id) must match an identity on the resource,
  otherwise `Identity not found`.
- No selector: the system-assigned identity if present; otherwise the only user-assigned
  identity; several user-assigned and no system-assigned is ambiguous (Azure's 400).
Reference: azure-wire.md §1.2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from azmi.domain.models import AttachedIdentity, Principal
from azmi.errors import AmbiguousIdentity, IdentityNotFound


@dataclass(frozen=True)
class Selector:
    client_id: str | None = None
    object_id: str | None = None
    resource_id: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.client_id or self.object_id or self.resource_id)

    def cache_key(self) -> tuple[str, str]:
        if self.client_id:
            return ("c", self.client_id.lower())
        if self.object_id:
            return ("o", self.object_id.lower())
        if self.resource_id:
            return ("r", normalize_resource_id(self.resource_id))
        return ("", "")


def normalize_resource_id(value: str) -> str:
    return "/" + value.strip().strip("/").lower()


def choose(system: Principal | None, user: Sequence[AttachedIdentity], selector: Selector) -> Principal:
    if selector.empty:
        if system is not None:
            return system
        if len(user) == 1:
            return user[0].principal
        if len(user) > 1:
            raise AmbiguousIdentity()
        raise IdentityNotFound()
    everyone = ([system] if system is not None else []) + [u.principal for u in user]
    if selector.client_id:
        wanted = selector.client_id.lower()
        found = [p for p in everyone if p.client_id == wanted]
    elif selector.object_id:
        wanted = selector.object_id.lower()
        found = [p for p in everyone if p.object_id == wanted]
    else:
        wanted = normalize_resource_id(selector.resource_id or "")
        found = [u.principal for u in user if u.uami_id.key == wanted]
    if not found:
        raise IdentityNotFound()
    return found[0]
