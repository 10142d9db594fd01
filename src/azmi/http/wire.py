"""Minimal request/response types for the hot identity endpoints, and their ASGI adapter.

The IMDS and App Service endpoints sit on every workload's start-up path, so they skip the
framework: a handler takes a `WireRequest` (query pairs parsed once, duplicates kept so the
surface can reject them, headers lower-cased once) and returns a `WireResponse`, or an
awaitable of one when a fault control must wait. `fastserver.py` serves handlers straight
from the socket; `AsgiAdapter` serves the same handler under any ASGI server or TestClient.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Awaitable, Callable, Union
from urllib.parse import parse_qsl

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]

MAX_QUERY = 8192
JSON = (b"content-type", b"application/json; charset=utf-8")


@dataclass(frozen=True)
class WireRequest:
    method: str
    path: str
    raw_query: str
    query_pairs: list[tuple[str, str]]
    headers: dict[str, str]
    too_long: bool = False  # the query exceeded MAX_QUERY and was not parsed; the surface answers 400

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


@dataclass(frozen=True)
class WireResponse:
    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


Handler = Callable[[WireRequest], Union[WireResponse, Awaitable[WireResponse]]]


@lru_cache(maxsize=4096)
def _parse_query(raw_query: str) -> tuple[tuple[str, str], ...]:
    """A workload repeats the very same query string; parse each one once."""
    return tuple(parse_qsl(raw_query, keep_blank_values=True))


def make_request(method: str, path: str, raw_query: str, raw_headers: list[tuple[bytes, bytes]]) -> WireRequest:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw_headers}
    if len(raw_query) > MAX_QUERY:
        return WireRequest(method, path, "", [], headers, too_long=True)
    return WireRequest(method, path, raw_query, list(_parse_query(raw_query)), headers)


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


def json_response(status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None) -> WireResponse:
    return WireResponse(status, encode_json(body), [JSON] + (headers or []))


HEALTH_PATHS = ("/healthz", "/readyz")


def health(path: str, ready: Callable[[], bool]) -> WireResponse:
    """`/healthz`: the process answers; `/readyz`: and its store does (for a load balancer)."""
    if path == "/healthz" or ready():
        return json_response(200, {"status": "ok"})
    return json_response(503, {"status": "unavailable", "reason": "the database does not answer"})


class AsgiAdapter:
    """Serves a wire handler as an ASGI app (tests, or any ASGI server)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:  # drain a body we do not use, so the connection stays reusable
            message = await receive()
            more = message.get("more_body", False) and message["type"] == "http.request"
        req = make_request(scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"),
                           list(scope.get("headers", [])))
        result = self.handler(req)
        res = result if isinstance(result, WireResponse) else await result
        await send({"type": "http.response.start", "status": res.status,
                    "headers": res.headers + [(b"content-length", str(len(res.body)).encode())]})
        await send({"type": "http.response.body", "body": res.body})
