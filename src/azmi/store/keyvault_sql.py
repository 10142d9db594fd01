"""Rows <-> Key Vault records: vault ports, secret names (with soft-delete state) and versions."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from azmi.domain.secrets import SecretName, SecretVersion
from azmi.store import schema as t


def _version(row) -> SecretVersion:  # type: ignore[no-untyped-def]
    return SecretVersion(row.version, row.value, row.content_type, json.loads(row.tags), bool(row.enabled),
                         row.nbf, row.exp, row.created, row.updated)


class KeyVaultRows:
    """Mixed into `Tx`."""

    c: Connection

    def vault_ports(self) -> dict[int, str]:
        return {r.port: r.resource_key for r in self.c.execute(select(t.vault_ports))}

    def set_vault_port(self, resource_key: str, port: int) -> None:
        self.c.execute(t.vault_ports.delete().where(t.vault_ports.c.resource_key == resource_key))
        self.c.execute(t.vault_ports.insert().values(resource_key=resource_key, port=port))

    def vault_port(self, resource_key: str) -> int | None:
        return self.c.execute(select(t.vault_ports.c.port).where(t.vault_ports.c.resource_key == resource_key)).scalar()

    def purge_vault(self, vault_key: str) -> None:
        self.c.execute(t.secret_versions.delete().where(t.secret_versions.c.vault_key == vault_key))
        self.c.execute(t.secret_names.delete().where(t.secret_names.c.vault_key == vault_key))
        self.c.execute(t.vault_ports.delete().where(t.vault_ports.c.resource_key == vault_key))

    def secret_name(self, vault_key: str, name_key: str) -> SecretName | None:
        row = self.c.execute(select(t.secret_names).where(t.secret_names.c.vault_key == vault_key,
                                                          t.secret_names.c.name_key == name_key)).first()
        return SecretName(row.name, row.deleted_at, row.scheduled_purge) if row else None

    def secret_names(self, vault_key: str, *, deleted: bool) -> list[SecretName]:
        col = t.secret_names.c.deleted_at
        rows = self.c.execute(select(t.secret_names).where(t.secret_names.c.vault_key == vault_key,
                                                           col.is_not(None) if deleted else col.is_(None))
                              .order_by(t.secret_names.c.name_key))
        return [SecretName(r.name, r.deleted_at, r.scheduled_purge) for r in rows]

    def put_secret_name(self, vault_key: str, name_key: str, n: SecretName, *, exists: bool) -> None:
        values = dict(name=n.name, deleted_at=n.deleted_at, scheduled_purge=n.scheduled_purge)
        if exists:
            self.c.execute(t.secret_names.update().where(t.secret_names.c.vault_key == vault_key,
                                                         t.secret_names.c.name_key == name_key).values(**values))
        else:
            self.c.execute(t.secret_names.insert().values(vault_key=vault_key, name_key=name_key, **values))

    def delete_secret(self, vault_key: str, name_key: str) -> None:
        self.c.execute(t.secret_versions.delete().where(t.secret_versions.c.vault_key == vault_key,
                                                        t.secret_versions.c.name_key == name_key))
        self.c.execute(t.secret_names.delete().where(t.secret_names.c.vault_key == vault_key,
                                                     t.secret_names.c.name_key == name_key))

    def secret_versions(self, vault_key: str, name_key: str) -> list[SecretVersion]:
        """Oldest first; the last one is the current version."""
        rows = self.c.execute(select(t.secret_versions).where(t.secret_versions.c.vault_key == vault_key,
                                                              t.secret_versions.c.name_key == name_key)
                              .order_by(t.secret_versions.c.seq))
        return [_version(r) for r in rows]

    def insert_secret_version(self, vault_key: str, name_key: str, v: SecretVersion) -> None:
        self.c.execute(t.secret_versions.insert().values(
            vault_key=vault_key, name_key=name_key, version=v.version, value=v.value, content_type=v.content_type,
            tags=json.dumps(v.tags), enabled=int(v.enabled), nbf=v.nbf, exp=v.exp, created=v.created,
            updated=v.updated))

    def update_secret_version(self, vault_key: str, name_key: str, v: SecretVersion) -> None:
        self.c.execute(t.secret_versions.update().where(
            t.secret_versions.c.vault_key == vault_key, t.secret_versions.c.name_key == name_key,
            t.secret_versions.c.version == v.version).values(
            content_type=v.content_type, tags=json.dumps(v.tags), enabled=int(v.enabled), nbf=v.nbf, exp=v.exp,
            updated=v.updated))

    def count_secret_names(self, vault_key: str) -> int:
        return self.c.execute(select(func.count()).select_from(t.secret_names)
                              .where(t.secret_names.c.vault_key == vault_key)).scalar_one()
