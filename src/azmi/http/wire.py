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
    body: bytes = b""
    port: int = 0  # the local port the request reached (a vault is told apart by its port)

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


def make_request(method: str, path: str, raw_query: str, raw_headers: list[tuple[bytes, bytes]],
                 body: bytes = b"", port: int = 0) -> WireRequest:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw_headers}
    if len(raw_query) > MAX_QUERY:
        return WireRequest(method, path, "", [], headers, too_long=True, body=body, port=port)
    return WireRequest(method, path, raw_query, list(_parse_query(raw_query)), headers, body=body, port=port)


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
    """Serves a wire handler as an ASGI app (tests, or any ASGI server); `max_body` bounds what is read."""

    def __init__(self, handler: Handler, max_body: int = 64 * 1024) -> None:
        self.handler = handler
        self.max_body = max_body

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        parts: list[bytes] = []
        size, more = 0, True
        while more:  # read the body (up to one byte past the limit, so the handler can refuse it)
            message = await receive()
            more = message.get("more_body", False) and message["type"] == "http.request"
            chunk = message.get("body", b"")
            if size <= self.max_body:
                parts.append(chunk[: self.max_body + 1 - size])
            size += len(chunk)
        raw_headers = list(scope.get("headers", []))
        req = make_request(scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"),
                           raw_headers, b"".join(parts), _port(raw_headers, scope))
        result = self.handler(req)
        res = result if isinstance(result, WireResponse) else await result
        await send({"type": "http.response.start", "status": res.status,
                    "headers": res.headers + [(b"content-length", str(len(res.body)).encode())]})
        await send({"type": "http.response.body", "body": res.body})


def _port(raw_headers: list[tuple[bytes, bytes]], scope: dict[str, Any]) -> int:
    """The port the client addressed: the Host header's, else the server's."""
    for k, v in raw_headers:
        if k.lower() == b"host":
            host = v.decode("latin-1")
            if host.rsplit(":", 1)[-1].isdigit() and not host.endswith("]"):
                return int(host.rsplit(":", 1)[1])
            return 443 if scope.get("scheme") == "https" else 80
    server = scope.get("server")
    return int(server[1]) if server and server[1] else 0
