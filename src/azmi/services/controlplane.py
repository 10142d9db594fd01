"""The control plane: subscriptions, resource groups, resources and their identities.

Lifecycle rules (the chapter's, and Azure's):
- enabling a system-assigned identity creates a service principal named after the resource;
  disabling it or deleting the resource deletes that principal; enabling again (or
  recreating the resource) creates a new principal with new ids;
- a user-assigned identity is a resource of its own; deleting it does not touch the
  resources that use it, only their link to it; at most `uami_per_resource` per resource
  and `uami_per_subscription` per subscription.
Every change happens in one transaction; on error nothing is written.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from typing import Any, Callable

from azmi.clock import Clock
from azmi.domain import resource_types
from azmi.domain.identity_spec import next_user_assigned, parse_identity
from azmi.domain.models import (SYSTEM, UAMI_TYPE, USER, AttachedIdentity, Principal, Resource, ResourceGroup,
                                Subscription)
from azmi.errors import (Conflict, InvalidInput, LimitExceeded, NotFound, ResourceGroupNotFound,
                         SubscriptionNotFound)
from azmi.ids import ResourceId, check_guid, check_rg_name, group_key, new_guid, new_secret, parse_resource_id
from azmi.settings import Settings
from azmi.store import Store
from azmi.store.sql import Tx
from azmi.services.storage_accounts import STORAGE_TYPE_KEY, StorageRules
from azmi.services.vaults import VAULT_TYPE_KEY, VaultRules

MAX_TAGS = 50


def check_tags(tags: Any) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, dict) or len(tags) > MAX_TAGS or not all(
            isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= 512 and len(v) <= 256
            for k, v in tags.items()):
        raise InvalidInput("Tags must be an object of at most 50 string names (1-512 characters) and string "
                           "values (up to 256 characters).", code="InvalidTag")
    return dict(tags)


def check_location(value: Any, required: bool, default: str) -> str:
    if value is None:
        if required:
            raise InvalidInput("The location property is required for this definition.", code="LocationRequired")
        return default
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise InvalidInput(f"The provided location '{value}' is not available for resource type.",
                           code="LocationNotAvailableForResourceType")
    return value.replace(" ", "").lower()


class ControlPlane:
    def __init__(self, settings: Settings, store: Store, clock: Clock,
                 on_change: Callable[[set[str], set[str], bool], None], vaults: VaultRules,
                 storage: StorageRules | None = None) -> None:
        """on_change(resource_keys, deleted_principal_ids, everything) evicts caches after a commit."""
        self._s = settings
        self._store = store
        self._clock = clock
        self._on_change = on_change
        self._vaults = vaults
        self._storage = storage or StorageRules(f"https://{settings.host}:{settings.ports.blob}")

    # -- subscriptions ---------------------------------------------------------------------------
    def bootstrap(self) -> None:
        with self._store.begin() as tx:
            tx.lock_control_plane()
            if tx.get_subscription(self._s.subscription_id) is None:
                tx.insert_subscription(Subscription(self._s.subscription_id, self._s.subscription_name,
                                                    self._s.tenant_id))

    def list_subscriptions(self) -> list[Subscription]:
        with self._store.begin() as tx:
            return tx.list_subscriptions()

    def get_subscription(self, sub: str) -> Subscription:
        with self._store.begin() as tx:
            return self._subscription(tx, sub)

    def create_subscription(self, alias: str, display_name: str, sub: str | None = None) -> tuple[Subscription, bool]:
        """The subscription alias API: PUT is idempotent per alias name."""
        if not re.match(r"^[A-Za-z0-9][-A-Za-z0-9_.]{0,63}$", alias):
            raise InvalidInput(f"The alias name '{alias}' is invalid.", code="InvalidAliasName")
        if not isinstance(display_name, str) or not 0 < len(display_name) <= 64:
            raise InvalidInput("The subscription display name must be 1-64 characters.", code="InvalidDisplayName")
        with self._store.begin() as tx:
            tx.lock_control_plane()
            existing = tx.subscription_by_alias(alias)
            if existing:
                return existing, False
            s = Subscription(check_guid(sub, "subscription id") if sub else new_guid(), display_name,
                             self._s.tenant_id, alias.lower())
            if tx.get_subscription(s.id):
                raise Conflict(f"The subscription '{s.id}' already exists.", code="SubscriptionAlreadyExists")
            tx.insert_subscription(s)
        return s, True

    def get_alias(self, alias: str) -> Subscription:
        with self._store.begin() as tx:
            s = tx.subscription_by_alias(alias)
        if s is None:
            raise NotFound(f"The alias '{alias}' was not found.", code="AliasNotFound")
        return s

    def _subscription(self, tx: Tx, sub: str) -> Subscription:
        s = tx.get_subscription(check_guid(sub, "subscription id"))
        if s is None:
            raise SubscriptionNotFound(f"The subscription '{sub}' could not be found.")
        return s

    # -- resource groups ---------------------------------------------------------------------------
    def put_group(self, sub: str, name: str, body: dict[str, Any]) -> tuple[ResourceGroup, bool]:
        check_rg_name(name)
        with self._store.begin() as tx:
            tx.lock_control_plane()
            self._subscription(tx, sub)
            key = group_key(sub, name)
            existing = tx.get_group(key)
            location = check_location(body.get("location"), existing is None, existing.location if existing else "")
            if existing and location != existing.location:
                raise InvalidInput(f"Invalid resource group location '{location}'. The Resource group already "
                                   f"exists in location '{existing.location}'.", code="InvalidResourceGroupLocation")
            group = ResourceGroup(sub.lower(), existing.name if existing else name, location,
                                  check_tags(body.get("tags")))
            tx.put_group(key, group, exists=existing is not None)
        return group, existing is None

    def get_group(self, sub: str, name: str) -> ResourceGroup:
        with self._store.begin() as tx:
            return self._group(tx, sub, name)

    def list_groups(self, sub: str) -> list[ResourceGroup]:
        with self._store.begin() as tx:
            self._subscription(tx, sub)
            return tx.list_groups(sub.lower())

    def delete_group(self, sub: str, name: str) -> bool:
        with self._store.begin() as tx:
            tx.lock_control_plane()
            self._subscription(tx, sub)
            key = group_key(sub, name)
            if tx.get_group(key) is None:
                return False
            gone: set[str] = set()
            doomed = tx.list_resources(sub=sub.lower(), group_key=key)
            for r in sorted(doomed, key=lambda r: r.is_uami):  # users of an identity first
                gone |= self._delete(tx, r)
            tx.delete_group(key)
        self._on_change({r.id.key for r in doomed}, gone, True)
        return True

    def _group(self, tx: Tx, sub: str, name: str) -> ResourceGroup:
        self._subscription(tx, sub)
        g = tx.get_group(group_key(sub, name))
        if g is None:
            raise ResourceGroupNotFound(f"Resource group '{name}' could not be found.")
        return g

    # -- resources ---------------------------------------------------------------------------------
    def get_resource(self, rid: ResourceId) -> Resource:
        with self._store.begin() as tx:
            self._group(tx, rid.subscription, rid.resource_group)
            r = tx.get_resource(rid.key)
        if r is None:
            raise NotFound(f"The Resource '{rid.full_type}/{rid.name}' under resource group "
                           f"'{rid.resource_group}' was not found. For more details please go to "
                           "https://aka.ms/ARMResourceNotFoundFix")
        return r

    def set_clock_skew(self, rid: ResourceId, seconds: int) -> Resource:
        """Fault control: tokens minted for this resource carry times shifted by `seconds`."""
        if abs(seconds) > 7 * 86400:
            raise InvalidInput("A clock skew must be within 7 days.", code="InvalidClockSkew")
        self.get_resource(rid)  # 404 in ARM's words when it does not exist
        with self._store.begin() as tx:
            tx.lock_control_plane()
            r = tx.get_resource(rid.key)
            if r is None:
                raise NotFound(f"The Resource '{rid.full_type}/{rid.name}' was not found.")
            r = replace(r, clock_skew=seconds)
            tx.put_resource(r, exists=True)
        self._on_change({rid.key}, set(), False)
        return r

    def principal(self, some_id: str) -> Principal:
        with self._store.begin() as tx:
            p = tx.find_principal(some_id.lower())
        if p is None:
            raise NotFound(f"Resource '{some_id}' does not exist or one of its queried reference-property objects "
                           "are not present.", code="Request_ResourceNotFound")
        return p

    def resource_by_key(self, key: str) -> Resource:
        with self._store.begin() as tx:
            r = tx.get_resource(key)
        if r is None:
            raise NotFound("The resource no longer exists.")
        return r

    def list_resources(self, sub: str, group: str | None = None, full_type: str | None = None) -> list[Resource]:
        with self._store.begin() as tx:
            if group is None:
                self._subscription(tx, sub)
            else:
                self._group(tx, sub, group)
            return tx.list_resources(sub=sub.lower(), group_key=group_key(sub, group) if group else None,
                                     type_key=full_type.lower() if full_type else None)

    def put_resource(self, rid: ResourceId, body: dict[str, Any], *, patch: bool,
                     authorize_link: Callable[[ResourceId], None] | None = None) -> tuple[Resource, bool]:
        """Create or update; `authorize_link` vets each newly attached user-assigned identity."""
        rtype = resource_types.lookup(rid.namespace, rid.type)
        rtype.check_name(rid.name)
        rid = ResourceId(rid.subscription, rid.resource_group, rtype.namespace, rtype.type, rid.name)
        change = parse_identity(body.get("identity"), allow_both=rtype.allow_both,
                                allow_user=rtype.full != UAMI_TYPE) if rtype.full != UAMI_TYPE else None
        if rtype.full == UAMI_TYPE and body.get("identity") is not None:
            raise InvalidInput("A user-assigned identity cannot itself have an identity.", code="InvalidRequestContent")
        properties = body.get("properties", None)
        if properties is not None and not isinstance(properties, dict):
            raise InvalidInput("The 'properties' property must be an object.", code="InvalidRequestContent")
        kind = body.get("kind")
        if kind is not None and (not isinstance(kind, str) or len(kind) > 64):
            raise InvalidInput("The 'kind' property must be a string.", code="InvalidRequestContent")
        if authorize_link is not None and change is not None:
            for uami in change.add:  # before the transaction: authorization may read the store itself
                authorize_link(uami)
        now = self._clock.now()
        deleted: set[str] = set()
        with self._store.begin() as tx:
            tx.lock_control_plane()
            group = self._group(tx, rid.subscription, rid.resource_group)
            old = tx.get_resource(rid.key)
            if patch and old is None:
                raise NotFound(f"The Resource '{rid.full_type}/{rid.name}' under resource group "
                               f"'{rid.resource_group}' was not found.")
            location = check_location(body.get("location"), old is None and not patch,
                                       old.location if old else group.location)
            if old is not None:
                rid = old.id  # keep the original casing of the name
                location = old.location if body.get("location") is None else location
            tags = check_tags(body["tags"]) if "tags" in body else (old.tags if old else {})
            props = dict(old.properties if old else {})
            if properties is not None:
                props = {**props, **properties} if patch else dict(properties)
            props = self._server_properties(rtype.full, props, old)
            if rtype.full.lower() == VAULT_TYPE_KEY:
                props = self._vaults.properties(props, old)
            if rtype.full.lower() == STORAGE_TYPE_KEY:
                props = self._storage.properties({**props, "sku": self._storage.sku_of(body, old)}, old, location, now)
                kind = self._storage.kind(kind, old)
            resource = Resource(
                rid, location, kind if kind is not None else (old.kind if old else None), tags, props,
                old.principal if old else None, old.user_assigned if old else (),
                old.binding_key if old else new_secret(), old.identity_header if old else new_secret(),
                old.created_at if old else now, old.clock_skew if old else 0)
            if rtype.full == UAMI_TYPE:
                if old is None:
                    self._check_quota(tx, rid.subscription)
                    resource = replace(resource, principal=self._new_principal(tx, rid, USER, now))
            elif change is not None:
                resource, deleted = self._apply_identity(tx, resource, change, patch, rtype, now)
            vault_port = None
            if rtype.full.lower() == VAULT_TYPE_KEY and old is None:
                names = [v.id.name.lower() for v in tx.list_resources_of_type(VAULT_TYPE_KEY)]
                props, vault_port = self._vaults.on_create(tx, resource, names)
                resource = replace(resource, properties=props)
            account_row = None
            if rtype.full.lower() == STORAGE_TYPE_KEY and old is None:
                props, account_row = self._storage.on_create(tx, resource, now)
                resource = replace(resource, properties=props)
            tx.put_resource(resource, exists=old is not None)
            if account_row is not None:
                tx.insert_storage_account(**account_row)
            if vault_port is not None:
                tx.set_vault_port(resource.id.key, vault_port)
            for object_id in deleted:  # after the resource row stops referencing it (foreign key)
                tx.delete_principal(object_id)
        self._on_change({rid.key}, deleted, rtype.full == UAMI_TYPE)
        return resource, old is None

    def update_access_policies(self, rid: ResourceId, kind: str, body: Any) -> Resource:
        """`PUT {vault}/accessPolicies/{add|replace|remove}`; policies take effect at once, as in Azure."""
        with self._store.begin() as tx:
            tx.lock_control_plane()
            self._group(tx, rid.subscription, rid.resource_group)
            r = tx.get_resource(rid.key)
            if r is None or r.id.full_type.lower() != VAULT_TYPE_KEY:
                raise NotFound(f"The Resource 'Microsoft.KeyVault/vaults/{rid.name}' under resource group "
                               f"'{rid.resource_group}' was not found.")
            r = replace(r, properties=self._vaults.update_policies(r, kind, body))
            tx.put_resource(r, exists=True)
        self._on_change({rid.key}, set(), False)
        return r

    def delete_resource(self, rid: ResourceId) -> bool:
        with self._store.begin() as tx:
            tx.lock_control_plane()
            self._group(tx, rid.subscription, rid.resource_group)
            r = tx.get_resource(rid.key)
            if r is None:
                return False
            gone = self._delete(tx, r)
        self._on_change({rid.key}, gone, r.is_uami)
        return True

    def storage_keys(self, rid: ResourceId) -> dict[str, Any]:
        """`POST {account}/listKeys`."""
        r = self.get_resource(rid)
        with self._store.begin() as tx:
            return self._storage.keys(tx, r)

    def refresh_storage_endpoints(self) -> None:
        """Point every account's `primaryEndpoints.blob` at the blob listener of this run."""
        with self._store.begin() as tx:
            tx.lock_control_plane()
            for r in tx.list_resources_of_type(STORAGE_TYPE_KEY):
                want = {**(r.properties.get("primaryEndpoints") or {}), "blob": self._storage.endpoint(r.id.name)}
                if r.properties.get("primaryEndpoints") != want:
                    tx.put_resource(replace(r, properties={**r.properties, "primaryEndpoints": want}), exists=True)

    def system_identity(self, scope: str) -> tuple[Resource, Principal]:
        rid = parse_resource_id(scope, what="scope")
        r = self.get_resource(rid)
        if r.system_identity is None:
            raise NotFound(f"System-assigned identity is not enabled for the resource '{rid}'.",
                           code="ResourceNotFound")
        return r, r.system_identity

    # -- internals ---------------------------------------------------------------------------------
    def _delete(self, tx: Tx, r: Resource) -> set[str]:
        if r.id.full_type.lower() == VAULT_TYPE_KEY:
            tx.purge_vault(r.id.key)
        if r.id.full_type.lower() == STORAGE_TYPE_KEY:
            tx.purge_storage_account(r.id.key)  # its files go with the next sweep of <data dir>/blobs
        tx.delete_resource(r.id.key)
        if r.principal is None:
            return set()
        tx.delete_principal(r.principal.object_id)
        return {r.principal.object_id}

    def _new_principal(self, tx: Tx, rid: ResourceId, kind: str, now: float) -> Principal:
        p = Principal(new_guid(), new_guid(), rid.name, kind, rid.lower_rg_form(), now)
        tx.insert_principal(p)
        return p

    def _check_quota(self, tx: Tx, sub: str) -> None:
        used = tx.count_resources(sub=sub, type_key=UAMI_TYPE.lower())
        if used >= self._s.uami_per_subscription:
            raise LimitExceeded(
                "Operation could not be completed as it results in exceeding approved UserAssignedIdentities "
                f"quota. Current Limit: {self._s.uami_per_subscription}, Current Usage: {used}, "
                "Additional Required: 1.", code="QuotaExceeded")

    def _apply_identity(self, tx: Tx, r: Resource, change: Any, patch: bool, rtype: Any,
                        now: float) -> tuple[Resource, set[str]]:
        deleted: set[str] = set()
        principal = r.principal
        if change.system and principal is None:
            principal = self._new_principal(tx, r.id, SYSTEM, now)
        elif not change.system and principal is not None:
            deleted.add(principal.object_id)  # deleted by the caller once the resource row is updated
            principal = None
        limit = min(self._s.uami_per_resource, rtype.max_user_assigned or self._s.uami_per_resource)
        ids = next_user_assigned([a.uami_id for a in r.user_assigned], change, merge=patch, limit=limit)
        if change.user_enabled and not ids and not change.system:
            raise InvalidInput("The identity type 'UserAssigned' requires at least one user assigned identity.",
                               code="InvalidIdentityValues")
        attached = []
        for uid in ids:
            uami = tx.get_resource(uid.key)
            if uami is None or uami.principal is None:
                raise InvalidInput(
                    f"Identity operation for resource '{r.id}' failed with error 'Failed to perform resource "
                    f"identity operation. Status: 'NotFound'. Response: 'The user assigned identity '{uid}' "
                    "does not exist or one of its ancestor resources is not found.''.",
                    code="FailedIdentityOperation")
            attached.append(AttachedIdentity(uami.id, uami.principal))
        return replace(r, principal=principal, user_assigned=tuple(attached)), deleted

    def _server_properties(self, full_type: str, props: dict[str, Any], old: Resource | None) -> dict[str, Any]:
        """Server-owned properties clients cannot set (a VM's vmId stays stable for its lifetime)."""
        props = {k: v for k, v in props.items() if k not in ("provisioningState", "vmId")}
        if full_type == UAMI_TYPE:
            props = {k: v for k, v in props.items() if k not in ("principalId", "clientId", "tenantId")}
        if full_type == "Microsoft.Compute/virtualMachines":
            props["vmId"] = (old.properties.get("vmId") if old else None) or str(uuid.uuid4())
        return props
