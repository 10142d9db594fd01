"""Builds every service once, wired together: the one place that knows all of them."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any, Callable

from azmi.clock import Clock
from azmi.services.authn import Authenticator
from azmi.services.authz import Authorizer, Caller
from azmi.services.bindings import BindingIndex
from azmi.services.blob_auth import BlobAuth
from azmi.services.blob_files import BlobFiles
from azmi.services.blobs import BlobService
from azmi.services.controlplane import ControlPlane
from azmi.services.faults import Faults
from azmi.services.keyring import Keyring
from azmi.services.keyvault import KeyVaultService
from azmi.services.storage_accounts import StorageRules
from azmi.services.vaults import VaultRules
from azmi.services.operator import Operator
from azmi.services.rbac import RoleService
from azmi.services.tokens import TokenService
from azmi.settings import Settings
from azmi.store import Store
from azmi.store.changes import ChangeFeed
from azmi.tokens.claims import issuer


@dataclass
class Services:
    settings: Settings
    store: Store
    clock: Clock
    keyring: Keyring
    bindings: BindingIndex
    tokens: TokenService
    control: ControlPlane
    operator: Operator
    authn: Authenticator
    authz: Authorizer
    roles: RoleService
    keyvault: KeyVaultService
    faults: Faults
    vault_listeners: list[Callable[[], None]] = field(default_factory=list)
    blobs: BlobService = field(default=None)  # type: ignore[assignment]  # set by build_services
    blob_auth: BlobAuth = field(default=None)  # type: ignore[assignment]
    feed: ChangeFeed = field(default=None)  # type: ignore[assignment]
    apply_change: Callable[[dict[str, Any]], None] = field(default=lambda event: None)

    def start_change_feed(self) -> None:
        """Listen for other nodes' changes (PostgreSQL); the server calls this, in-process tests need not."""
        self.feed.start(self.apply_change)

    def ready(self) -> bool:
        """Readiness for a load balancer: the shared store answers."""
        try:
            with self.store.begin() as tx:
                tx.get_meta("operator_object_id")
            return True
        except Exception:
            return False

    def caller(self, claims: dict[str, object]) -> Caller:
        return Caller(claims, self.authz, self.operator.principal.object_id)


def build_services(settings: Settings, store: Store, clock: Clock, blob_base: str = "") -> Services:
    """`blob_base`: the blob listener's `https://host:port` (storage accounts' primaryEndpoints.blob)."""
    keyring = Keyring(store, clock, max_token_lifetime=settings.token_lifetime, issuer=issuer(settings.tenant_id))
    bindings = BindingIndex(store)
    tokens = TokenService(settings, clock, keyring, bindings)

    authz = Authorizer(store, clock)
    keyvault = KeyVaultService(store, clock, authz, settings.tenant_id)
    listeners: list[Callable[[], None]] = []
    blobs = BlobService(store, clock, BlobFiles(None if settings.in_memory else settings.blob_dir or settings.data_dir / "blobs"))

    def evict_resources(resource_keys: set[str], deleted_principals: set[str], everything: bool) -> None:
        if everything:
            bindings.evict_all()
        for key in resource_keys:
            bindings.evict(key)
        tokens.forget(deleted_principals)
        keyvault.evict()
        blobs.on_change(resource_keys, everything)
        if everything or any("/providers/microsoft.keyvault/vaults/" in k for k in resource_keys):
            for notify in listeners:
                notify()

    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    storage = StorageRules(blob_base or f"https://{host}:{settings.ports.blob}")
    feed = ChangeFeed(store.url if store.is_postgres else None)

    def apply(event: dict[str, Any]) -> None:
        """One change, on this node: the eviction the writer ran, replayed from another node's event."""
        kind = event.get("kind")
        if kind == "resources":
            evict_resources(set(event.get("resources", ())), set(event.get("principals", ())),
                            bool(event.get("everything")))
        elif kind == "authz":
            authz.evict(event.get("principal"), roles=bool(event.get("roles")), publish=False)
        elif kind == "keys":
            keyring.reload()
        elif kind == "blob":
            blobs.forget(str(event.get("account")), str(event.get("container")), event.get("name"), publish=False)
        elif kind == "secret":
            keyvault.forget(str(event.get("vault")), str(event.get("name")), publish=False)
        elif kind == "all":
            evict_resources(set(), set(), True)
            authz.evict(None, roles=True, publish=False)
            keyring.reload()

    def on_change(resource_keys: set[str], deleted_principals: set[str], everything: bool) -> None:
        evict_resources(resource_keys, deleted_principals, everything)
        store.publish(feed.encode({"kind": "resources", "resources": sorted(resource_keys),
                                   "principals": sorted(deleted_principals), "everything": everything}))

    authz.publish = lambda principal, roles: store.publish(
        feed.encode({"kind": "authz", "principal": principal, "roles": roles}))
    keyring.on_rotate = lambda: store.publish(feed.encode({"kind": "keys"}))
    blobs.publish = lambda account, container, name: store.publish(
        feed.encode({"kind": "blob", "account": account, "container": container, "name": name}))
    keyvault.publish = lambda vault, name: store.publish(feed.encode({"kind": "secret", "vault": vault, "name": name}))
    control = ControlPlane(settings, store, clock, on_change, VaultRules(settings, port_allocator(settings)), storage)
    control.bootstrap()
    control.refresh_storage_endpoints()
    blobs.files.clear_temporaries()
    blobs.sweep()
    operator = Operator(settings, store, clock, keyring)
    authn = Authenticator(settings.tenant_id, keyring, clock)
    roles = RoleService(store, clock, authz, settings.tenant_id, settings.rbac_propagation_delay)
    for sub in control.list_subscriptions():
        roles.grant_owner(operator.principal.object_id, f"/subscriptions/{sub.id}")
    services = Services(settings, store, clock, keyring, bindings, tokens, control, operator, authn, authz, roles,
                        keyvault, Faults(settings, clock), listeners, blobs=blobs,
                        blob_auth=BlobAuth(authn, authz, clock), feed=feed)
    services.apply_change = apply
    return services


def port_allocator(settings: Settings) -> Callable[[set[int]], int]:
    """Vault ports: the next free one from the configured base, or any free port when the base is 0."""
    def allocate(used: set[int]) -> int:
        if settings.ports.keyvault == 0:
            with socket.socket() as probe:
                probe.bind((settings.host, 0))
                return int(probe.getsockname()[1])
        port = settings.ports.keyvault
        while port in used:
            port += 1
        return port
    return allocate
