"""Blob content on disk: `<root>/<account uid>/data/<file>`, staged blocks in `.../blocks/<file>`.

An upload is written to `.../tmp/<file>` and fsynced; only after every check has passed is it
renamed into `data/` (atomic on one file system) and its row committed, so a rejected or broken
upload leaves nothing behind. Files of replaced or deleted blobs are removed after the commit;
`sweep` removes the directories of accounts that no longer exist (and stray temporaries).
In-memory mode keeps the content in a temporary directory that `close` removes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import AsyncIterator, BinaryIO, Iterable, Iterator

CHUNK = 1024 * 1024


class TooLarge(Exception):
    pass


class BlobFiles:
    def __init__(self, root: Path | None) -> None:
        self._temporary = root is None
        self.root = Path(tempfile.mkdtemp(prefix="azmi-blobs-")) if root is None else root

    def _dir(self, uid: str, kind: str) -> Path:
        d = self.root / uid / kind
        d.mkdir(parents=True, exist_ok=True)
        return d

    async def receive(self, uid: str, chunks: AsyncIterator[bytes], limit: int) -> tuple[str, int, bytes]:
        """Stream a body into a temporary file; (temp name, size, md5). Raises TooLarge past `limit`."""
        name = uuid.uuid4().hex
        path = self._dir(uid, "tmp") / name
        md5, size = hashlib.md5(), 0
        try:
            with open(path, "wb") as f:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge()
                    md5.update(chunk)
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return name, size, md5.digest()

    def concat(self, uid: str, parts: Iterable[tuple[str, str, int, int]]) -> tuple[str, int, bytes]:
        """Join (kind, file, offset, length) ranges of staged blocks or committed content into a new
        temporary file; (temp name, size, md5)."""
        name = uuid.uuid4().hex
        path = self._dir(uid, "tmp") / name
        md5, size = hashlib.md5(), 0
        try:
            with open(path, "wb") as out:
                for kind, file, offset, length in parts:
                    for chunk in self._chunks(self.root / uid / kind / file, offset, length):
                        md5.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return name, size, md5.digest()

    def promote(self, uid: str, temp: str, kind: str = "data") -> None:
        os.replace(self._dir(uid, "tmp") / temp, self._dir(uid, kind) / temp)

    def discard(self, uid: str, temp: str) -> None:
        (self.root / uid / "tmp" / temp).unlink(missing_ok=True)

    def remove(self, uid: str, files: Iterable[str]) -> None:
        for name in files:
            for kind in ("data", "blocks"):
                (self.root / uid / kind / name).unlink(missing_ok=True)

    def open_range(self, uid: str, file: str, start: int, length: int) -> Iterator[bytes]:
        """Opens the file now (so a later replacement cannot pull it away), reads lazily."""
        f = open(self.root / uid / "data" / file, "rb")
        return self._read(f, start, length)

    def _chunks(self, path: Path, start: int, length: int) -> Iterator[bytes]:
        return self._read(open(path, "rb"), start, length)

    @staticmethod
    def _read(f: BinaryIO, start: int, length: int) -> Iterator[bytes]:
        with f:
            f.seek(start)
            left = length
            while left > 0:
                chunk = f.read(min(CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk

    def clear_temporaries(self) -> None:
        """At start: uploads that were in flight when azmi stopped were never acknowledged."""
        if self.root.exists():
            for d in self.root.glob("*/tmp"):
                shutil.rmtree(d, ignore_errors=True)

    def sweep(self, live_uids: set[str]) -> None:
        if not self.root.exists():
            return
        for d in self.root.iterdir():
            if d.is_dir() and d.name not in live_uids:
                shutil.rmtree(d, ignore_errors=True)

    def close(self) -> None:
        if self._temporary:
            shutil.rmtree(self.root, ignore_errors=True)
