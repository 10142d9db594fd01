"""The change feed between nodes sharing one PostgreSQL: LISTEN/NOTIFY on channel `azmi`.

A node publishes each change after its transaction commits (`Store.publish`); every other node's
listener thread hands the event to the same eviction the writer ran locally. After (re)connecting
the listener flushes everything, because events sent while it was away are lost. So a change made
on one node is enforced on every other within the notification latency (milliseconds), or within
the reconnect interval (1 s) after a lost connection. SQLite is single-node: nothing to listen to.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from typing import Any, Callable

log = logging.getLogger("azmi.changes")
RECONNECT_SECONDS = 1.0


class ChangeFeed:
    def __init__(self, url: str | None) -> None:
        """`url`: the PostgreSQL URL to listen on, or None (SQLite) for a feed that only works locally."""
        self.url = url
        self.node = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def encode(self, event: dict[str, Any]) -> str:
        return json.dumps({**event, "node": self.node}, separators=(",", ":"))

    def start(self, on_event: Callable[[dict[str, Any]], None]) -> None:
        if self.url is None or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, args=(on_event,), name="azmi-changes", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)

    def _run(self, on_event: Callable[[dict[str, Any]], None]) -> None:
        import psycopg

        dsn = self.url.replace("postgresql+psycopg://", "postgresql://")  # type: ignore[union-attr]
        while not self._stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute("LISTEN azmi")
                    on_event({"kind": "all"})  # anything sent while we were not listening is lost: start clean
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            event = json.loads(note.payload)
                            if event.get("node") != self.node:
                                on_event(event)
            except Exception as exc:  # the database went away: retry, and flush on reconnect
                log.warning("change feed: %s; reconnecting", exc)
                self._stop.wait(RECONNECT_SECONDS)
