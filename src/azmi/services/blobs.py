"""The Blob Storage data plane: accounts by name, containers, block blobs (Blob service REST API).

Every write is two-phase: the body is streamed to a temporary file first (`BlobFiles`), then one
transaction re-checks the container and the conditional headers, renames the file into place and
writes the row. A rejected request therefore changes nothing; files that a commit replaced are
removed after it. Uncommitted blocks live until Put Block List commits the blob (which discards
the rest, as Azure does) or the blob/container/account is deleted.

Small blobs (up to SMALL_BLOB bytes) are kept in memory once read, with their properties, so a
repeated read needs neither the store nor the disk. Every write or delete forgets the blob here
and, through `publish`, on every other node; a read that raced a write does not cache (generation).
"""

from __future__ import annotations

import base64
import threading
from dataclasses import replace
from typing import AsyncIterator, Callable, Iterator

from azmi.clock import Clock
from azmi.domain import blobs as rules
from azmi.domain.blobs import BlobProps, Conditions, ContainerProps
from azmi.errors import Conflict, InvalidInput, NotFound
from azmi.services.blob_auth import Account
from azmi.services.blob_files import BlobFiles, TooLarge
from azmi.services.storage_accounts import STORAGE_TYPE_KEY
from azmi.store import Store
from azmi.store.sql import Tx


def container_missing() -> NotFound:
    return NotFound("The specified container does not exist.", code="ContainerNotFound")


def blob_missing() -> NotFound:
    return NotFound("The specified blob does not exist.", code="BlobNotFound")


SMALL_BLOB = 64 * 1024
SMALL_BLOBS_MAX = 4096  # cached small blobs per node (at most 256 MiB)


def too_large() -> InvalidInput:
    return InvalidInput("The request body is too large and exceeds the maximum permissible limit.",
                        code="RequestBodyTooLarge")


class BlobService:
    def __init__(self, store: Store, clock: Clock, files: BlobFiles) -> None:
        self._store = store
        self._clock = clock
        self.files = files
        self._lock = threading.Lock()
        self._accounts: dict[str, Account] = {}
        self._salt = 0
        self._small: dict[tuple[str, str, str], tuple[BlobProps, bytes]] = {}
        self._generation = 0
        # tells other nodes that (account, container, blob or None for the whole container) changed
        self.publish: Callable[[str, str, str | None], None] = lambda account, container, name: None

    # -- accounts ------------------------------------------------------------------------------------
    def cached_account(self, name: str) -> Account | None:
        return self._accounts.get(name)

    def account(self, name: str) -> Account | None:
        hit = self._accounts.get(name)
        if hit is not None:
            return hit
        with self._store.begin() as tx:
            row = tx.storage_account(name=name)
            r = tx.get_resource(row["resource_key"]) if row else None
        if row is None or r is None:
            return None
        acct = Account(r.id.name, str(r.id), str(row["uid"]), (str(row["key1"]), str(row["key2"])),
                       r.properties.get("allowSharedKeyAccess", True) is not False)
        with self._lock:
            self._accounts[name] = acct
        return acct

    def on_change(self, resource_keys: set[str], everything: bool) -> None:
        """Forget cached accounts; remove the files of deleted accounts."""
        if everything or any(f"/providers/{STORAGE_TYPE_KEY}/" in k for k in resource_keys):
            with self._lock:
                self._accounts.clear()
                self._small.clear()
                self._generation += 1
            self.sweep()

    # -- small blobs in memory -----------------------------------------------------------------------
    def cached_blob(self, a: Account, container: str, name: str) -> tuple[BlobProps, bytes] | None:
        return self._small.get((a.name, container, name))

    def forget(self, account: str, container: str, name: str | None, publish: bool = True) -> None:
        """A blob (or, with name None, a whole container) changed: drop what this node keeps of it."""
        with self._lock:
            self._generation += 1
            if name is not None:
                self._small.pop((account, container, name), None)
            else:
                for key in [k for k in self._small if k[0] == account and k[1] == container]:
                    del self._small[key]
        if publish:
            self.publish(account, container, name)

    def read(self, a: Account, container: str, name: str,
             cond: Conditions | None = None) -> tuple[BlobProps, bytes | None]:
        """The blob and, when it is small, its content (then kept for the next read)."""
        generation = self._generation
        b = self.blob(a, container, name, cond)
        if b.size > SMALL_BLOB:
            return b, None
        content = b"".join(self.content(a, b, 0, b.size)) if b.size else b""
        with self._lock:
            if generation == self._generation:
                if len(self._small) >= SMALL_BLOBS_MAX:
                    self._small.clear()
                self._small[(a.name, container, name)] = (b, content)
        return b, content

    def sweep(self) -> None:
        with self._store.begin() as tx:
            live = tx.storage_uids()
        self.files.sweep(live)

    def _etag(self, now: float) -> str:
        with self._lock:
            self._salt += 1
            return rules.new_etag(now, self._salt)

    # -- containers ----------------------------------------------------------------------------------
    def create_container(self, a: Account, name: str, metadata: dict[str, str]) -> ContainerProps:
        rules.check_container(name)
        now = self._clock.now()
        c = ContainerProps(name, self._etag(now), now, rules.check_metadata(metadata))
        with self._store.begin() as tx:
            if tx.container(a.name, name) is not None:
                raise Conflict("The specified container already exists.", code="ContainerAlreadyExists")
            tx.insert_container(a.name, c)
        return c

    def container(self, a: Account, name: str) -> ContainerProps:
        rules.check_container(name)
        with self._store.begin() as tx:
            return self._container(tx, a, name)

    def _container(self, tx: Tx, a: Account, name: str) -> ContainerProps:
        c = tx.container(a.name, name)
        if c is None:
            raise container_missing()
        return c

    def delete_container(self, a: Account, name: str, cond: Conditions) -> None:
        rules.check_container(name)
        with self._store.begin() as tx:
            c = self._container(tx, a, name)
            rules.check_conditions(Conditions(cond.if_match, None, cond.if_modified_since, cond.if_unmodified_since),
                                   c.etag, c.modified, read=False)
            files = tx.delete_container(a.name, name)
        self.forget(a.name, name, None)
        self.files.remove(a.uid, files)

    def list_containers(self, a: Account, prefix: str, marker: str | None,
                        limit: int) -> tuple[list[ContainerProps], str | None]:
        with self._store.begin() as tx:
            found = [c for c in tx.containers(a.name) if c.name.startswith(prefix)]
        names, next_marker = rules.page([c.name for c in found], marker, limit)
        by_name = {c.name: c for c in found}
        return [by_name[n] for n in names], next_marker

    # -- blobs ---------------------------------------------------------------------------------------
    def blob(self, a: Account, container: str, name: str, cond: Conditions | None = None) -> BlobProps:
        with self._store.begin() as tx:
            return self._existing(tx, a, container, name, cond, read=True)

    def _existing(self, tx: Tx, a: Account, container: str, name: str, cond: Conditions | None,
                  *, read: bool) -> BlobProps:
        """The blob, after the name checks, its container's existence and the request's conditions."""
        rules.check_container(container)
        rules.check_blob_name(name)
        self._container(tx, a, container)
        b = tx.blob(a.name, container, name)
        if b is None:
            raise blob_missing()
        if cond is not None and (read or cond.any):
            rules.check_conditions(cond, b.etag, b.modified, read=read)
        return b

    def content(self, a: Account, b: BlobProps, start: int, length: int) -> Iterator[bytes]:
        try:
            return self.files.open_range(a.uid, b.file, start, length)
        except FileNotFoundError:  # replaced between the row read and the open
            raise blob_missing() from None

    def precheck_write(self, a: Account, container: str, name: str, cond: Conditions) -> None:
        """Fail fast, before the body is read: the container must exist and the conditions hold."""
        rules.check_container(container)
        rules.check_blob_name(name)
        with self._store.begin() as tx:
            self._container(tx, a, container)
            current = tx.blob(a.name, container, name)
        if cond.any:
            rules.check_conditions(cond, current.etag if current else None, current.modified if current else None,
                                   read=False)

    async def receive(self, a: Account, body: AsyncIterator[bytes], limit: int,
                      md5: bytes | None) -> tuple[str, int, bytes]:
        try:
            temp, size, digest = await self.files.receive(a.uid, body, limit)
        except TooLarge:
            raise too_large() from None
        if md5 is not None and md5 != digest:
            self.files.discard(a.uid, temp)
            raise InvalidInput("The MD5 value specified in the request did not match with the MD5 value calculated "
                               "by the server.", code="Md5Mismatch")
        return temp, size, digest

    def commit_blob(self, a: Account, container: str, props: BlobProps, temp: str, cond: Conditions) -> BlobProps:
        """Rename the received file into place and write the row, after re-checking under the lock."""
        now = self._clock.now()
        b = replace(props, etag=self._etag(now), created=now, modified=now, file=temp)
        try:
            with self._store.begin() as tx:
                self._container(tx, a, container)
                current = tx.blob(a.name, container, b.name)
                if cond.any:
                    rules.check_conditions(cond, current.etag if current else None,
                                           current.modified if current else None, read=False)
                self.files.promote(a.uid, temp)
                replaced = tx.put_blob(a.name, container, b)
                stale = tx.drop_blocks(a.name, container, b.name)
        except BaseException:
            self.files.discard(a.uid, temp)
            self.files.remove(a.uid, [temp])
            raise
        self.forget(a.name, container, b.name)
        self.files.remove(a.uid, [f for f in [replaced, *stale] if f and f != temp])
        return replace(b, created=current.created if current else now)

    def stage_block(self, a: Account, container: str, blob: str, block_id: str, temp: str, size: int) -> None:
        try:
            with self._store.begin() as tx:
                self._container(tx, a, container)
                staged = tx.staged_blocks(a.name, container, blob)
                if staged and len(next(iter(staged))) != len(block_id):
                    raise InvalidInput("The specified blob or block content is invalid.", code="InvalidBlobOrBlock")
                if block_id not in staged and len(staged) >= rules.MAX_UNCOMMITTED:
                    raise Conflict("The uncommitted block count cannot exceed the maximum limit of 100,000 blocks.",
                                   code="BlockCountExceedsLimit")
                self.files.promote(a.uid, temp, "blocks")
                old = tx.stage_block(a.name, container, blob, block_id, size, temp, self._clock.now())
        except BaseException:
            self.files.discard(a.uid, temp)
            self.files.remove(a.uid, [temp])
            raise
        if old:
            self.files.remove(a.uid, [old])

    def commit_block_list(self, a: Account, container: str, props: BlobProps, wanted: list[tuple[str, str]],
                          cond: Conditions) -> BlobProps:
        """Put Block List: `wanted` is [(Latest|Committed|Uncommitted, block id)] in blob order."""
        if len(wanted) > rules.MAX_BLOCKS:
            raise InvalidInput("The block list may not contain more than 50,000 blocks.", code="InvalidBlockList")
        with self._store.begin() as tx:
            self._container(tx, a, container)
            staged = tx.staged_blocks(a.name, container, props.name)
            current = tx.blob(a.name, container, props.name)
        if cond.any:
            rules.check_conditions(cond, current.etag if current else None, current.modified if current else None,
                                   read=False)
        committed: dict[str, tuple[int, int]] = {}
        offset = 0
        for block_id, size in (current.blocks if current else ()):
            committed[block_id] = (offset, size)
            offset += size
        parts: list[tuple[str, str, int, int]] = []
        blocks: list[tuple[str, int]] = []
        for kind, block_id in wanted:
            if kind in ("Uncommitted", "Latest") and block_id in staged:
                size, file = staged[block_id]
                parts.append(("blocks", file, 0, size))
            elif kind in ("Committed", "Latest") and block_id in committed and current is not None:
                start, size = committed[block_id]
                parts.append(("data", current.file, start, size))
            else:
                raise InvalidInput("The specified block list is invalid.", code="InvalidBlockList")
            blocks.append((block_id, size))
        try:
            temp, size, digest = self.files.concat(a.uid, parts)
        except FileNotFoundError:  # a concurrent commit consumed the blocks
            raise InvalidInput("The specified block list is invalid.", code="InvalidBlockList") from None
        etag_then = current.etag if current else None
        props = replace(props, size=size, blocks=tuple(blocks),
                        content_md5=props.content_md5 or None)
        with self._store.begin() as tx:
            now_current = tx.blob(a.name, container, props.name)
            if (now_current.etag if now_current else None) != etag_then:
                self.files.discard(a.uid, temp)
                raise Conflict("The blob was modified while its block list was being committed.",
                               code="ConditionNotMet")
        return self.commit_blob(a, container, props, temp, cond)

    def block_list(self, a: Account, container: str, name: str,
                   which: str) -> tuple[BlobProps | None, list[tuple[str, int]], list[tuple[str, int]]]:
        rules.check_container(container)
        with self._store.begin() as tx:
            self._container(tx, a, container)
            current = tx.blob(a.name, container, name)
            staged = tx.staged_blocks(a.name, container, name)
        if current is None and not staged:
            raise blob_missing()
        committed = list(current.blocks) if current and which in ("committed", "all") else []
        uncommitted = [(k, v[0]) for k, v in staged.items()] if which in ("uncommitted", "all") else []
        return current, committed, uncommitted

    def delete_blob(self, a: Account, container: str, name: str, cond: Conditions) -> None:
        with self._store.begin() as tx:
            self._existing(tx, a, container, name, cond, read=False)
            files = tx.delete_blob(a.name, container, name)
        self.forget(a.name, container, name)
        self.files.remove(a.uid, files)

    def list_blobs(self, a: Account, container: str, prefix: str, delimiter: str, marker: str | None,
                   limit: int) -> tuple[list[BlobProps], list[str], str | None]:
        """(blobs, prefixes, next marker); with a delimiter, names past it collapse into one BlobPrefix."""
        rules.check_container(container)
        with self._store.begin() as tx:
            self._container(tx, a, container)
            rows = tx.blobs(a.name, container, prefix, marker, 10**9 if delimiter else limit + 1)
        out: list[BlobProps] = []
        prefixes: list[str] = []
        for b in rows:
            if delimiter and delimiter in b.name[len(prefix):]:
                p = b.name[:len(prefix) + b.name[len(prefix):].index(delimiter) + len(delimiter)]
                if prefixes and prefixes[-1] == p:
                    continue
                if len(out) + len(prefixes) == limit:
                    return out, prefixes, p
                prefixes.append(p)
                continue
            if len(out) + len(prefixes) == limit:
                return out, prefixes, b.name
            out.append(b)
        return out, prefixes, None


def md5_b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()
