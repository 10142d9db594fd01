"""Rows <-> Blob Storage records: account keys, containers, committed blobs, staged blocks.

File names are returned wherever rows are deleted, so the caller can remove the content from
disk once the transaction has committed.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from azmi.domain.blobs import BlobProps, ContainerProps
from azmi.store import schema as t

_PROPS = ("content_type", "content_md5", "content_encoding", "content_language", "content_disposition",
          "cache_control", "metadata")


def _blob(row: Any) -> BlobProps:
    extra = json.loads(row.properties)
    blocks = tuple((str(b[0]), int(b[1])) for b in extra.pop("blocks", []))
    return BlobProps(row.name, row.size, row.etag, row.created, row.modified, file=row.file, blocks=blocks,
                     **{k: extra[k] for k in _PROPS if k in extra})


class BlobRows:
    """Mixed into `Tx`."""

    c: Connection

    # -- accounts ----------------------------------------------------------------------------------
    def storage_account(self, *, name: str | None = None, resource_key: str | None = None) -> dict[str, Any] | None:
        col = t.storage_accounts.c.name if name is not None else t.storage_accounts.c.resource_key
        row = self.c.execute(select(t.storage_accounts).where(col == (name if name is not None else resource_key)))
        found = row.first()
        return dict(found._mapping) if found else None

    def insert_storage_account(self, **values: Any) -> None:
        self.c.execute(t.storage_accounts.insert().values(**values))

    def update_storage_keys(self, resource_key: str, **values: Any) -> None:
        self.c.execute(t.storage_accounts.update().where(t.storage_accounts.c.resource_key == resource_key)
                       .values(**values))

    def purge_storage_account(self, resource_key: str) -> tuple[str | None, list[str]]:
        """Delete the account's keys, containers, blobs and blocks; (directory uid, files) to remove."""
        acct = self.storage_account(resource_key=resource_key)
        if acct is None:
            return None, []
        files: list[str] = []
        for c in self.containers(acct["name"]):
            files += self.delete_container(acct["name"], c.name)
        self.c.execute(t.storage_accounts.delete().where(t.storage_accounts.c.resource_key == resource_key))
        return str(acct["uid"]), files

    # -- containers --------------------------------------------------------------------------------
    def container(self, account: str, name: str) -> ContainerProps | None:
        row = self.c.execute(select(t.blob_containers).where(t.blob_containers.c.account == account,
                                                             t.blob_containers.c.name == name)).first()
        return ContainerProps(row.name, row.etag, row.modified, json.loads(row.metadata)) if row else None

    def containers(self, account: str) -> list[ContainerProps]:
        rows = self.c.execute(select(t.blob_containers).where(t.blob_containers.c.account == account)
                              .order_by(t.blob_containers.c.name))
        return [ContainerProps(r.name, r.etag, r.modified, json.loads(r.metadata)) for r in rows]

    def insert_container(self, account: str, c: ContainerProps) -> None:
        self.c.execute(t.blob_containers.insert().values(account=account, name=c.name, etag=c.etag,
                                                         modified=c.modified, metadata=json.dumps(c.metadata)))

    def delete_container(self, account: str, name: str) -> list[str]:
        b, k = t.blobs.c, t.blob_blocks.c
        files = [r.file for r in self.c.execute(select(b.file).where(b.account == account, b.container == name))]
        files += [r.file for r in self.c.execute(select(k.file).where(k.account == account, k.container == name))]
        self.c.execute(t.blobs.delete().where(b.account == account, b.container == name))
        self.c.execute(t.blob_blocks.delete().where(k.account == account, k.container == name))
        self.c.execute(t.blob_containers.delete().where(t.blob_containers.c.account == account,
                                                        t.blob_containers.c.name == name))
        return files

    # -- blobs -------------------------------------------------------------------------------------
    def blob(self, account: str, container: str, name: str) -> BlobProps | None:
        b = t.blobs.c
        row = self.c.execute(select(t.blobs).where(b.account == account, b.container == container,
                                                   b.name == name)).first()
        return _blob(row) if row else None

    def blobs(self, account: str, container: str, prefix: str, marker: str | None, limit: int) -> list[BlobProps]:
        """Blobs in name order from `marker` on, whose name starts with `prefix`, at most `limit`."""
        b = t.blobs.c
        q = select(t.blobs).where(b.account == account, b.container == container)
        if prefix:
            q = q.where(b.name >= prefix)
        if marker:
            q = q.where(b.name >= marker)
        rows = self.c.execute(q.order_by(b.name).limit(limit))
        return [_blob(r) for r in rows if r.name.startswith(prefix)]

    def put_blob(self, account: str, container: str, p: BlobProps) -> str | None:
        """Insert or replace; returns the replaced content file, if any."""
        old = self.blob(account, container, p.name)
        extra = {k: getattr(p, k) for k in _PROPS if getattr(p, k) is not None}
        extra["blocks"] = [list(x) for x in p.blocks]
        values = dict(size=p.size, etag=p.etag, created=old.created if old else p.created, modified=p.modified,
                      properties=json.dumps(extra), file=p.file)
        b = t.blobs.c
        if old:
            self.c.execute(t.blobs.update().where(b.account == account, b.container == container,
                                                  b.name == p.name).values(**values))
        else:
            self.c.execute(t.blobs.insert().values(account=account, container=container, name=p.name, **values))
        return old.file if old else None

    def delete_blob(self, account: str, container: str, name: str) -> list[str]:
        b = t.blobs.c
        old = self.blob(account, container, name)
        self.c.execute(t.blobs.delete().where(b.account == account, b.container == container, b.name == name))
        return ([old.file] if old else []) + self.drop_blocks(account, container, name)

    # -- uncommitted blocks ------------------------------------------------------------------------
    def staged_blocks(self, account: str, container: str, blob: str) -> dict[str, tuple[int, str]]:
        k = t.blob_blocks.c
        rows = self.c.execute(select(t.blob_blocks).where(k.account == account, k.container == container,
                                                          k.blob == blob).order_by(k.created))
        return {r.block_id: (r.size, r.file) for r in rows}

    def count_staged(self, account: str, container: str, blob: str) -> int:
        k = t.blob_blocks.c
        return self.c.execute(select(func.count()).select_from(t.blob_blocks).where(
            k.account == account, k.container == container, k.blob == blob)).scalar_one()

    def stage_block(self, account: str, container: str, blob: str, block_id: str, size: int, file: str,
                    now: float) -> str | None:
        """Stage (or replace) one block; returns the replaced block's file, if any."""
        k = t.blob_blocks.c
        where = (k.account == account, k.container == container, k.blob == blob, k.block_id == block_id)
        old = self.c.execute(select(k.file).where(*where)).scalar()
        self.c.execute(t.blob_blocks.delete().where(*where))
        self.c.execute(t.blob_blocks.insert().values(account=account, container=container, blob=blob,
                                                     block_id=block_id, size=size, file=file, created=now))
        return old

    def drop_blocks(self, account: str, container: str, blob: str) -> list[str]:
        k = t.blob_blocks.c
        where = (k.account == account, k.container == container, k.blob == blob)
        files = [r.file for r in self.c.execute(select(k.file).where(*where))]
        self.c.execute(t.blob_blocks.delete().where(*where))
        return files

    def storage_uids(self) -> set[str]:
        return {r.uid for r in self.c.execute(select(t.storage_accounts.c.uid))}
