"""Minimal raw-ASGI request parsing and responses for the hot identity endpoints.

The IMDS and App Service endpoints sit on every workload's start-up path, so they skip the
framework: one dict lookup for the route, query pairs parsed once (duplicates are kept so
the surface can reject them), headers lower-cased once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]

MAX_QUERY = 8192


@dataclass(frozen=True)
class WireRequest:
    method: str
    path: str
    raw_query: str
    query_pairs: list[tuple[str, str]]
    headers: dict[str, str]
    header_names: list[str]

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


class QueryTooLong(Exception):
    pass


def parse(scope: dict[str, Any]) -> WireRequest:
    raw_query = scope.get("query_string", b"").decode("latin-1")
    if len(raw_query) > MAX_QUERY:
        raise QueryTooLong()
    headers: dict[str, str] = {}
    names: list[str] = []
    for k, v in scope.get("headers", []):
        name = k.decode("latin-1").lower()
        names.append(name)
        headers[name] = v.decode("latin-1")
    return WireRequest(scope["method"], scope["path"], raw_query,
                       parse_qsl(raw_query, keep_blank_values=True), headers, names)


def duplicated(pairs: list[tuple[str, str]]) -> str | None:
    seen: set[str] = set()
    for k, _ in pairs:
        lk = k.lower()
        if lk in seen:
            return k
        seen.add(lk)
    return None


def encode_json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


async def send_bytes(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": headers + [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def drain(receive: Receive) -> None:
    """Consume a request body we do not use, so the connection stays reusable."""
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return
        more = message.get("more_body", False)
