"""The Key Vault data plane for secrets: which vault a request reached, who may do what, and the
secret operations themselves (azure-wire.md §6, sdk-compat §5).

Authorization follows the vault's model: RBAC data actions at the vault or secret scope, or the
vault's access policies. Denials carry Azure's messages, naming the caller (appid, oid, issuer),
the missing action or permission and the vault, so a learner sees why.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Callable

from azmi.clock import Clock
from azmi.domain.keyvault import SECRET_OPERATIONS, SUGGESTED_ROLE, AccessPolicy, parse_policies
from azmi.domain.secrets import (RETENTION_DAYS, SecretName, SecretVersion, check_name, check_version, check_tags,
                                 parse_attributes, parse_set_body)
from azmi.errors import Conflict, Forbidden, InvalidInput, NotFound
from azmi.ids import ResourceId
from azmi.services.authz import Authorizer
from azmi.store import Store
from azmi.store.sql import Tx


@dataclass(frozen=True)
class Vault:
    key: str
    id: ResourceId
    location: str
    rbac: bool
    policies: tuple[AccessPolicy, ...]
    uri: str  # https://host:port/

    @property
    def name(self) -> str:
        return self.id.name

    @cached_property
    def scope(self) -> str:
        """The vault's ARM id, the RBAC scope of its requests (formatted once, not per request)."""
        return str(self.id)


class _Live:
    """A live secret held in memory, with the bodies already rendered from it (by requested version)."""

    __slots__ = ("name", "versions", "bodies")

    def __init__(self, name: SecretName, versions: list[SecretVersion]) -> None:
        self.name = name
        self.versions = versions
        self.bodies: dict[str | None, bytes] = {}  # forgotten with the secret: a write drops this whole entry


def _not_found(name: str) -> NotFound:
    return NotFound(f"A secret with (name/id) {name} was not found in this key vault. If you recently deleted this "
                    "secret you may be able to recover it using the correct recovery command. For help resolving "
                    "this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182", code="SecretNotFound")


class KeyVaultService:
    def __init__(self, store: Store, clock: Clock, authorizer: Authorizer, tenant_id: str) -> None:
        self._store = store
        self._clock = clock
        self._authz = authorizer
        self._tenant = tenant_id
        self._lock = threading.Lock()
        self._by_port: dict[int, Vault] = {}
        # live secrets by (vault, name): reads are served from memory, every write forgets its entry
        self._secrets: dict[tuple[str, str], _Live] = {}
        self._generation = 0  # bumped by every forget: a read from the store that raced a write is not kept
        self.publish: Callable[[str, str], None] | None = None  # tells other nodes (the change feed)

    # -- which vault ---------------------------------------------------------------------------------------
    def vault_at(self, port: int) -> Vault | None:
        hit = self._by_port.get(port)
        if hit is not None:
            return hit
        with self._store.begin() as tx:
            key = tx.vault_ports().get(port)
            r = tx.get_resource(key) if key else None
        if r is None:
            return None
        v = Vault(r.id.key, r.id, r.location, bool(r.properties.get("enableRbacAuthorization", True)),
                  tuple(parse_policies(r.properties.get("accessPolicies"))), str(r.properties.get("vaultUri", "")))
        with self._lock:
            self._by_port[port] = v
        return v

    def ports(self) -> set[int]:
        with self._store.begin() as tx:
            return set(tx.vault_ports())

    def cached_vault(self, port: int) -> Vault | None:
        return self._by_port.get(port)

    def evict(self) -> None:
        with self._lock:
            self._generation += 1
            self._by_port.clear()
            self._secrets.clear()

    def forget(self, vault_key: str, name: str, publish: bool = True) -> None:
        with self._lock:
            self._generation += 1
            self._secrets.pop((vault_key, name.lower()), None)
        if publish and self.publish is not None:
            self.publish(vault_key, name.lower())

    # -- who may ---------------------------------------------------------------------------------------------
    def authorize(self, v: Vault, claims: dict[str, Any], op: str, secret: str | None = None) -> None:
        permission, action = SECRET_OPERATIONS[op]
        oid = str(claims.get("oid", ""))
        if v.rbac:
            scope = f"{v.scope}/secrets/{secret}" if secret else v.scope
            if self._authz.decide(oid, action, scope, data=True).allowed:
                return
            caller = f"appid={claims.get('appid', '')};oid={oid};iss={claims.get('iss')}"
            hint = SUGGESTED_ROLE.get(permission, "Key Vault Secrets Officer")
            raise Forbidden(
                "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or "
                "role definitions were changed recently, please observe propagation time.\r\n"
                f"Caller: {caller}\r\nAction: '{action}'\r\nResource: '{scope.lower()}'\r\n"
                "Assignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\n"
                f"Vault: {v.name};location={v.location}\r\n"
                f"(azmi: grant a role with this data action at the vault or secret scope, e.g. '{hint}': azmi role "
                f"assignment create --role \"{hint}\" --assignee-object-id {oid} --scope {v.id})",
                code="Forbidden", inner="ForbiddenByRbac")
        if any(p.object_id == oid and p.tenant_id == self._tenant and p.allows("secrets", permission)
               for p in v.policies):
            return
        caller = f"appid={claims.get('appid', '')};oid={oid};iss={claims.get('iss')}"
        raise Forbidden(
            f"The user, group or application '{caller}' does not have secrets {permission} permission on key vault "
            f"'{v.name};location={v.location}'. For help resolving this issue, please see "
            "https://go.microsoft.com/fwlink/?linkid=2125287", code="Forbidden", inner="AccessDenied")

    # -- secrets ---------------------------------------------------------------------------------------------
    def _live(self, tx: Tx, v: Vault, name: str) -> tuple[SecretName, list[SecretVersion]]:
        n = tx.secret_name(v.key, check_name(name).lower())
        versions = tx.secret_versions(v.key, name.lower()) if n else []
        if n is None or n.deleted_at is not None or not versions:
            raise _not_found(name)
        return n, versions

    def set_secret(self, v: Vault, name: str, body: Any) -> tuple[SecretName, SecretVersion]:
        check_name(name)
        value, content_type, tags, attrs = parse_set_body(body)
        now = int(self._clock.now())
        ver = SecretVersion(uuid.uuid4().hex, value, content_type, tags, True if attrs.enabled is None else attrs.enabled,
                            attrs.nbf, attrs.exp, now, now)
        with self._store.begin() as tx:
            n = tx.secret_name(v.key, name.lower())
            if n is not None and n.deleted_at is not None:
                raise Conflict(f"Secret {name} is currently in a deleted but recoverable state, and its name cannot be "
                               "reused; in this state, the secret can only be recovered or purged.", code="Conflict",
                               inner="ObjectIsDeletedButRecoverable")
            if n is None:
                n = SecretName(name)
                tx.put_secret_name(v.key, name.lower(), n, exists=False)
            tx.insert_secret_version(v.key, name.lower(), ver)
        self.forget(v.key, name)
        return n, ver

    def get_secret(self, v: Vault, name: str, version: str | None) -> tuple[SecretName, SecretVersion]:
        key = (v.key, check_name(name).lower())
        hit = self._secrets.get(key)
        if hit is None:
            generation = self._generation
            with self._store.begin() as tx:
                hit = _Live(*self._live(tx, v, name))
            with self._lock:
                if self._generation == generation:  # no write forgot anything while we read
                    self._secrets[key] = hit
        return hit.name, self._enabled(self._pick(hit.versions, name, version))

    def get_rendered(self, v: Vault, name: str, version: str | None,
                     render: Callable[[Vault, SecretName, SecretVersion], bytes]) -> bytes | None:
        """The response body of a GET, rendered once per secret and requested version while the secret is in
        memory (None when it is not: the caller reads it from the store). Errors are raised, never kept."""
        hit = self._secrets.get((v.key, name.lower()))
        if hit is None:
            return None
        body = hit.bodies.get(version)
        if body is None:
            body = render(v, hit.name, self._enabled(self._pick(hit.versions, name, version)))
            hit.bodies[version] = body  # on this entry: a write replaces the entry, so never stale
        return body

    @staticmethod
    def _enabled(ver: SecretVersion) -> SecretVersion:
        if not ver.enabled:
            raise Forbidden("Operation get is not allowed on a disabled secret.", code="Forbidden",
                            inner="SecretDisabled")
        return ver

    def _pick(self, versions: list[SecretVersion], name: str, version: str | None) -> SecretVersion:
        if not version:
            return versions[-1]
        check_version(version)
        found = [x for x in versions if x.version == version]
        if not found:
            raise _not_found(name)
        return found[0]

    def update_secret(self, v: Vault, name: str, version: str | None, body: Any) -> tuple[SecretName, SecretVersion]:
        if not isinstance(body, dict):
            raise InvalidInput("The request body must be a JSON object.", code="BadParameter")
        attrs = parse_attributes(body.get("attributes"))
        content_type = body.get("contentType")
        if content_type is not None and not isinstance(content_type, str):
            raise InvalidInput("Property 'contentType' must be a string.", code="BadParameter")
        tags = check_tags(body["tags"]) if "tags" in body else None
        with self._store.begin() as tx:
            n, versions = self._live(tx, v, name)
            ver = self._pick(versions, name, version)
            ver = replace(ver, content_type=content_type if "contentType" in body else ver.content_type,
                          tags=tags if tags is not None else ver.tags,
                          enabled=ver.enabled if attrs.enabled is None else attrs.enabled,
                          nbf=attrs.nbf if attrs.nbf is not None else ver.nbf,
                          exp=attrs.exp if attrs.exp is not None else ver.exp, updated=int(self._clock.now()))
            tx.update_secret_version(v.key, name.lower(), ver)
        self.forget(v.key, name)
        return n, ver

    def list_secrets(self, v: Vault) -> list[tuple[SecretName, SecretVersion]]:
        with self._store.begin() as tx:
            out = []
            for n in tx.secret_names(v.key, deleted=False):
                versions = tx.secret_versions(v.key, n.name.lower())
                if versions:
                    out.append((n, versions[-1]))
        return out

    def list_versions(self, v: Vault, name: str) -> list[tuple[SecretName, SecretVersion]]:
        with self._store.begin() as tx:
            n, versions = self._live(tx, v, name)
        return [(n, x) for x in versions]

    def delete_secret(self, v: Vault, name: str) -> tuple[SecretName, SecretVersion]:
        now = self._clock.now()
        with self._store.begin() as tx:
            n, versions = self._live(tx, v, name)
            n = replace(n, deleted_at=now, scheduled_purge=now + RETENTION_DAYS * 86400)
            tx.put_secret_name(v.key, name.lower(), n, exists=True)
        self.forget(v.key, name)
        return n, versions[-1]

    def _deleted(self, tx: Tx, v: Vault, name: str) -> tuple[SecretName, list[SecretVersion]]:
        n = tx.secret_name(v.key, check_name(name).lower())
        if n is None or n.deleted_at is None:
            raise NotFound(f"Deleted Secret not found: {name}", code="SecretNotFound")
        return n, tx.secret_versions(v.key, name.lower())

    def get_deleted(self, v: Vault, name: str) -> tuple[SecretName, SecretVersion]:
        with self._store.begin() as tx:
            n, versions = self._deleted(tx, v, name)
        return n, versions[-1]

    def list_deleted(self, v: Vault) -> list[tuple[SecretName, SecretVersion]]:
        with self._store.begin() as tx:
            return [(n, tx.secret_versions(v.key, n.name.lower())[-1]) for n in tx.secret_names(v.key, deleted=True)]

    def purge(self, v: Vault, name: str) -> None:
        with self._store.begin() as tx:
            self._deleted(tx, v, name)
            tx.delete_secret(v.key, name.lower())
        self.forget(v.key, name)

    def recover(self, v: Vault, name: str) -> tuple[SecretName, SecretVersion]:
        with self._store.begin() as tx:
            n, versions = self._deleted(tx, v, name)
            n = replace(n, deleted_at=None, scheduled_purge=None)
            tx.put_secret_name(v.key, name.lower(), n, exists=True)
        self.forget(v.key, name)
        return n, versions[-1]

    def backup(self, v: Vault, name: str) -> str:
        with self._store.begin() as tx:
            n, versions = self._live(tx, v, name)
        blob = {"azmi-secret-backup": 1, "name": n.name, "versions": [x.__dict__ for x in versions]}
        return base64.urlsafe_b64encode(json.dumps(blob).encode()).decode().rstrip("=")

    def restore(self, v: Vault, body: Any) -> tuple[SecretName, SecretVersion]:
        raw = body.get("value") if isinstance(body, dict) else None
        try:
            blob = json.loads(base64.urlsafe_b64decode(str(raw) + "=" * (-len(str(raw)) % 4)))
            name = check_name(blob["name"])
            versions = [SecretVersion(**x) for x in blob["versions"]]
            assert blob.get("azmi-secret-backup") == 1 and versions
        except Exception:
            raise InvalidInput("Backup blob contains invalid or corrupt version.", code="BadParameter") from None
        with self._store.begin() as tx:
            if tx.secret_name(v.key, name.lower()) is not None:
                raise Conflict(f"Secret {name} already exists.", code="Conflict")
            n = SecretName(name)
            tx.put_secret_name(v.key, name.lower(), n, exists=False)
            for x in versions:
                tx.insert_secret_version(v.key, name.lower(), x)
        self.forget(v.key, name)
        return n, versions[-1]
