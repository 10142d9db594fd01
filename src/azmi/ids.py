"""ARM resource ids: parsing, canonical rendering and case-insensitive keys.

ARM treats segment keywords (`resourceGroups`) and names case-insensitively but echoes
names as created. `ResourceId.key` is the lower-cased form used for lookups.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass

from azmi.errors import InvalidInput

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RG_NAME = re.compile(r"^[-\w._()]{1,90}$")
_NAMESPACE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+$")
_SEGMENT = re.compile(r"^[^/?#\\]{1,260}$")
MAX_ID_LENGTH = 2048


def new_guid() -> str:
    return str(uuid.uuid4())


def new_secret(nbytes: int = 32) -> str:
    """An unguessable url-safe secret (binding keys, identity headers)."""
    return secrets.token_urlsafe(nbytes)


def is_guid(value: str) -> bool:
    return bool(_GUID.match(value))


def check_guid(value: str, what: str) -> str:
    if not is_guid(value):
        raise InvalidInput(f"The {what} '{value}' is not a valid GUID.", code="InvalidSubscriptionId"
                           if what == "subscription id" else "InvalidRequestContent")
    return value.lower()


def check_rg_name(name: str) -> str:
    if not _RG_NAME.match(name) or name.endswith("."):
        raise InvalidInput(
            f"Resource group name '{name}' is invalid. It can include alphanumeric, underscore, "
            "parentheses, hyphen, period (except at end), and Unicode characters that match the "
            "allowed characters.", code="InvalidResourceGroup")
    return name


@dataclass(frozen=True)
class ResourceId:
    """A top-level ARM resource: /subscriptions/{s}/resourceGroups/{g}/providers/{ns}/{type}/{name}."""

    subscription: str
    resource_group: str
    namespace: str
    type: str
    name: str

    @property
    def full_type(self) -> str:
        return f"{self.namespace}/{self.type}"

    def __str__(self) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
                f"/providers/{self.namespace}/{self.type}/{self.name}")

    def lower_rg_form(self) -> str:
        """The form with lower-case `resourcegroups` that MSI ids and `xms_mirid` use."""
        return (f"/subscriptions/{self.subscription}/resourcegroups/{self.resource_group}"
                f"/providers/{self.namespace}/{self.type}/{self.name}")

    @property
    def key(self) -> str:
        return str(self).lower()

    @property
    def group_key(self) -> str:
        return group_key(self.subscription, self.resource_group)


def group_key(subscription: str, resource_group: str) -> str:
    return f"/subscriptions/{subscription}/resourcegroups/{resource_group}".lower()


def group_id(subscription: str, resource_group: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{resource_group}"


def parse_resource_id(value: str, *, what: str = "resource id") -> ResourceId:
    """Parse a top-level resource id; raise InvalidInput naming the id when it is malformed."""
    if not isinstance(value, str) or len(value) > MAX_ID_LENGTH:
        raise InvalidInput(f"The {what} is not a valid Azure resource id.", code="LinkedInvalidPropertyId")
    parts = value.strip().strip("/").split("/")
    ok = (len(parts) == 8 and parts[0].lower() == "subscriptions" and parts[2].lower() == "resourcegroups"
          and parts[4].lower() == "providers" and is_guid(parts[1]) and _RG_NAME.match(parts[3])
          and _NAMESPACE.match(parts[5]) and all(_SEGMENT.match(p) for p in parts[6:]))
    if not ok:
        raise InvalidInput(
            f"Property id '{value}' at path 'identity' is invalid. Expect fully qualified resource Id "
            "that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.",
            code="LinkedInvalidPropertyId")
    return ResourceId(parts[1].lower(), parts[3], parts[5], parts[6], parts[7])


@dataclass(frozen=True)
class Scope:
    """An RBAC scope: '/', a subscription, a group, a resource, or a child of a resource."""

    text: str  # canonical form, names as given
    subscription: str | None = None
    resource_group: str | None = None
    resource: ResourceId | None = None


def parse_scope(value: str) -> Scope:
    bad = InvalidInput(f"The specified scope '{value}' is not valid.", code="InvalidScope")
    if not isinstance(value, str) or len(value) > MAX_ID_LENGTH or not value.startswith("/"):
        raise bad
    parts = [p for p in value.split("/") if p]
    if not parts:
        return Scope("/")
    if parts[0].lower() != "subscriptions" or len(parts) < 2 or not is_guid(parts[1]):
        raise bad
    sub = parts[1].lower()
    if len(parts) == 2:
        return Scope(f"/subscriptions/{sub}", sub)
    if parts[2].lower() != "resourcegroups" or len(parts) < 4 or not _RG_NAME.match(parts[3]):
        raise bad
    rg = parts[3]
    if len(parts) == 4:
        return Scope(group_id(sub, rg), sub, rg)
    rest = parts[4:]
    if rest[0].lower() != "providers" or len(rest) < 4 or len(rest) % 2 != 0 or not _NAMESPACE.match(rest[1]) \
            or not all(_SEGMENT.match(p) for p in rest[2:]):
        raise bad
    rid = ResourceId(sub, rg, rest[1], rest[2], rest[3])
    tail = "/".join(rest[4:])
    return Scope(str(rid) + (f"/{tail}" if tail else ""), sub, rg, rid)
