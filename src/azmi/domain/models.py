"""Domain records: principals (service principals behind managed identities), resources, groups.

A resource may own one principal: its system-assigned identity, or, for a
`Microsoft.ManagedIdentity/userAssignedIdentities` resource, the user-assigned identity itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from azmi.ids import ResourceId

SYSTEM = "SystemAssigned"
USER = "UserAssigned"
OPERATOR = "User"

UAMI_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"


@dataclass(frozen=True)
class Principal:
    """A service principal (or the operator user) that tokens are issued to."""

    object_id: str
    client_id: str
    display_name: str
    kind: str  # SystemAssigned | UserAssigned | User
    mi_resource_id: str | None  # xms_mirid: the owning resource (SAMI) or the UAMI resource
    created_at: float = 0.0


@dataclass(frozen=True)
class Subscription:
    id: str
    display_name: str
    tenant_id: str
    alias: str | None = None


@dataclass(frozen=True)
class ResourceGroup:
    subscription: str
    name: str
    location: str
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"/subscriptions/{self.subscription}/resourceGroups/{self.name}"


@dataclass(frozen=True)
class AttachedIdentity:
    """A user-assigned identity as attached to a resource."""

    uami_id: ResourceId
    principal: Principal


@dataclass(frozen=True)
class Resource:
    id: ResourceId
    location: str
    kind: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    principal: Principal | None = None  # SAMI, or for a UAMI resource its own principal
    user_assigned: tuple[AttachedIdentity, ...] = ()
    binding_key: str = ""
    identity_header: str = ""
    created_at: float = 0.0
    clock_skew: int = 0  # seconds this resource's clock is off (a fault control; tokens carry skewed times)

    @property
    def is_uami(self) -> bool:
        return self.id.full_type.lower() == UAMI_TYPE.lower()

    @property
    def system_identity(self) -> Principal | None:
        return None if self.is_uami else self.principal
