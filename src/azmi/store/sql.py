"""The store: an engine plus `Tx`, the only place that writes SQL.

`with store.begin() as tx:` is one transaction; every multi-step change (a resource and its
principal, a limit check and the insert it guards) happens inside one. SQLite runs in WAL
mode with `BEGIN IMMEDIATE`, so concurrent writers serialise instead of failing late.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from azmi.errors import Conflict
from azmi.domain.models import AttachedIdentity, Principal, Resource, ResourceGroup, Subscription
from azmi.ids import ResourceId
from azmi.store import schema as t
from azmi.store.migrate import migrate
from azmi.store.blob_sql import BlobRows
from azmi.store.keyvault_sql import KeyVaultRows
from azmi.store.rbac_sql import RbacRows


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(url, poolclass=StaticPool if memory else None,
                               connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _engine(url)
        # A single shared in-memory connection must not be used by two threads at once.
        self._lock = threading.RLock() if url.startswith("sqlite") else None
        migrate(self.engine)

    @contextmanager
    def begin(self) -> Iterator["Tx"]:
        try:
            if self._lock is not None:
                with self._lock, self.engine.begin() as conn:
                    yield Tx(conn)
            else:
                with self.engine.begin() as conn:
                    yield Tx(conn)
        except IntegrityError:
            # Only a race the locks do not cover can get here; nothing was written.
            raise Conflict("A concurrent change conflicted with this request; nothing was changed. Retry it.",
                           code="Conflict") from None

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def publish(self, payload: str) -> None:
        """Tell every node of this store that something changed (PostgreSQL NOTIFY; no-op on SQLite)."""
        if self.is_postgres:
            with self.engine.begin() as conn:
                conn.execute(text("SELECT pg_notify('azmi', :p)"), {"p": payload[:7900]})

    def close(self) -> None:
        self.engine.dispose()


def _principal(row) -> Principal:  # type: ignore[no-untyped-def]
    return Principal(row.object_id, row.client_id, row.display_name, row.kind, row.mi_resource_id, row.created_at)


CONTROL_LOCK = 0x636F6E74  # "cont": one lock for every control-plane change


class Tx(RbacRows, KeyVaultRows, BlobRows):
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def lock_control_plane(self) -> None:
        """Serialise control-plane changes across nodes, so limits and uniqueness hold under concurrency.

        SQLite's BEGIN IMMEDIATE already serialises writers; PostgreSQL takes a transaction advisory lock."""
        if self.c.dialect.name == "postgresql":
            self.c.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": CONTROL_LOCK})

    # -- meta ---------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        return self.c.execute(select(t.meta.c.value).where(t.meta.c.key == key)).scalar()

    def set_meta(self, key: str, value: str) -> None:
        if self.get_meta(key) is None:
            self.c.execute(t.meta.insert().values(key=key, value=value))
        else:
            self.c.execute(t.meta.update().where(t.meta.c.key == key).values(value=value))

    # -- subscriptions and groups ----------------------------------------------------------------
    def get_subscription(self, sub: str) -> Subscription | None:
        row = self.c.execute(select(t.subscriptions).where(t.subscriptions.c.id == sub.lower())).first()
        return Subscription(row.id, row.display_name, row.tenant_id, row.alias) if row else None

    def subscription_by_alias(self, alias: str) -> Subscription | None:
        row = self.c.execute(select(t.subscriptions).where(t.subscriptions.c.alias == alias.lower())).first()
        return Subscription(row.id, row.display_name, row.tenant_id, row.alias) if row else None

    def list_subscriptions(self) -> list[Subscription]:
        rows = self.c.execute(select(t.subscriptions).order_by(t.subscriptions.c.display_name))
        return [Subscription(r.id, r.display_name, r.tenant_id, r.alias) for r in rows]

    def insert_subscription(self, s: Subscription) -> None:
        self.c.execute(t.subscriptions.insert().values(id=s.id, display_name=s.display_name, tenant_id=s.tenant_id,
                                                       alias=s.alias.lower() if s.alias else None))

    def get_group(self, key: str) -> ResourceGroup | None:
        row = self.c.execute(select(t.resource_groups).where(t.resource_groups.c.key == key)).first()
        return ResourceGroup(row.subscription, row.name, row.location, json.loads(row.tags)) if row else None

    def list_groups(self, sub: str) -> list[ResourceGroup]:
        rows = self.c.execute(select(t.resource_groups).where(t.resource_groups.c.subscription == sub)
                              .order_by(t.resource_groups.c.key))
        return [ResourceGroup(r.subscription, r.name, r.location, json.loads(r.tags)) for r in rows]

    def put_group(self, key: str, g: ResourceGroup, *, exists: bool) -> None:
        values = dict(subscription=g.subscription, name=g.name, location=g.location, tags=json.dumps(g.tags))
        if exists:
            self.c.execute(t.resource_groups.update().where(t.resource_groups.c.key == key).values(**values))
        else:
            self.c.execute(t.resource_groups.insert().values(key=key, **values))

    def delete_group(self, key: str) -> None:
        self.c.execute(t.resource_groups.delete().where(t.resource_groups.c.key == key))

    # -- principals ----------------------------------------------------------------------------
    def insert_principal(self, p: Principal) -> None:
        self.c.execute(t.principals.insert().values(
            object_id=p.object_id, client_id=p.client_id, display_name=p.display_name, kind=p.kind,
            mi_resource_id=p.mi_resource_id, created_at=p.created_at))

    def delete_principal(self, object_id: str) -> None:
        self.c.execute(t.principals.delete().where(t.principals.c.object_id == object_id))

    def find_principal(self, some_id: str) -> Principal | None:
        """By object id or by client (application) id, as `az ad sp show --id` accepts either."""
        row = self.c.execute(select(t.principals).where(
            (t.principals.c.object_id == some_id) | (t.principals.c.client_id == some_id))).first()
        return _principal(row) if row else None

    def get_principal(self, object_id: str) -> Principal | None:
        row = self.c.execute(select(t.principals).where(t.principals.c.object_id == object_id)).first()
        return _principal(row) if row else None

    # -- resources -----------------------------------------------------------------------------
    def _resource(self, row) -> Resource:  # type: ignore[no-untyped-def]
        rid = ResourceId(row.subscription, row.resource_group, row.namespace, row.type, row.name)
        principal = self.get_principal(row.principal_id) if row.principal_id else None
        links = self.c.execute(
            select(t.resources.c.subscription, t.resources.c.resource_group, t.resources.c.namespace,
                   t.resources.c.type, t.resources.c.name, t.principals)
            .select_from(t.resource_identities.join(t.resources, t.resources.c.key == t.resource_identities.c.uami_key)
                         .join(t.principals, t.principals.c.object_id == t.resources.c.principal_id))
            .where(t.resource_identities.c.resource_key == row.key).order_by(t.resource_identities.c.position))
        attached = tuple(AttachedIdentity(ResourceId(r.subscription, r.resource_group, r.namespace, r.type, r.name),
                                          _principal(r)) for r in links)
        return Resource(rid, row.location, row.kind, json.loads(row.tags), json.loads(row.properties), principal,
                        attached, row.binding_key, row.identity_header, row.created_at, row.clock_skew or 0)

    def get_resource(self, key: str) -> Resource | None:
        row = self.c.execute(select(t.resources).where(t.resources.c.key == key)).first()
        return self._resource(row) if row else None

    def find_resource_by(self, column: str, value: str) -> Resource | None:
        row = self.c.execute(select(t.resources).where(t.resources.c[column] == value)).first()
        return self._resource(row) if row else None

    def list_resources(self, *, sub: str, group_key: str | None = None, type_key: str | None = None) -> list[Resource]:
        q = select(t.resources).where(t.resources.c.subscription == sub)
        if group_key:
            q = q.where(t.resources.c.group_key == group_key)
        if type_key:
            q = q.where(t.resources.c.type_key == type_key)
        return [self._resource(r) for r in self.c.execute(q.order_by(t.resources.c.key))]

    def list_resources_of_type(self, type_key: str) -> list[Resource]:
        return [self._resource(r) for r in self.c.execute(
            select(t.resources).where(t.resources.c.type_key == type_key).order_by(t.resources.c.key))]

    def count_resources(self, *, sub: str, type_key: str) -> int:
        return self.c.execute(select(func.count()).select_from(t.resources).where(
            t.resources.c.subscription == sub, t.resources.c.type_key == type_key)).scalar_one()

    def put_resource(self, r: Resource, *, exists: bool) -> None:
        values = dict(
            subscription=r.id.subscription, group_key=r.id.group_key, namespace=r.id.namespace, type=r.id.type,
            type_key=r.id.full_type.lower(), name=r.id.name, resource_group=r.id.resource_group, kind=r.kind,
            location=r.location, tags=json.dumps(r.tags), properties=json.dumps(r.properties),
            principal_id=r.principal.object_id if r.principal else None, binding_key=r.binding_key,
            identity_header=r.identity_header, created_at=r.created_at, clock_skew=r.clock_skew)
        if exists:
            self.c.execute(t.resources.update().where(t.resources.c.key == r.id.key).values(**values))
        else:
            self.c.execute(t.resources.insert().values(key=r.id.key, **values))
        self.c.execute(t.resource_identities.delete().where(t.resource_identities.c.resource_key == r.id.key))
        if r.user_assigned:
            self.c.execute(t.resource_identities.insert(), [
                {"resource_key": r.id.key, "uami_key": a.uami_id.key, "position": i}
                for i, a in enumerate(r.user_assigned)])

    def delete_resource(self, key: str) -> None:
        self.c.execute(t.resource_identities.delete().where(
            (t.resource_identities.c.resource_key == key) | (t.resource_identities.c.uami_key == key)))
        self.c.execute(t.resources.delete().where(t.resources.c.key == key))

    def resources_using(self, uami_key: str) -> list[str]:
        rows = self.c.execute(select(t.resource_identities.c.resource_key)
                              .where(t.resource_identities.c.uami_key == uami_key))
        return [r.resource_key for r in rows]

    # -- signing keys --------------------------------------------------------------------------
    def list_keys(self) -> list[tuple[str, bytes, bytes, float, float | None]]:
        rows = self.c.execute(select(t.signing_keys).order_by(t.signing_keys.c.created_at))
        return [(r.kid, r.private_pem, r.cert_der, r.created_at, r.retired_at) for r in rows]

    def insert_key(self, kid: str, private_pem: bytes, cert_der: bytes, created_at: float) -> None:
        self.c.execute(t.signing_keys.insert().values(kid=kid, private_pem=private_pem, cert_der=cert_der,
                                                      created_at=created_at, retired_at=None))

    def retire_key(self, kid: str, at: float) -> None:
        self.c.execute(t.signing_keys.update().where(t.signing_keys.c.kid == kid).values(retired_at=at))

    def delete_key(self, kid: str) -> None:
        self.c.execute(t.signing_keys.delete().where(t.signing_keys.c.kid == kid))
