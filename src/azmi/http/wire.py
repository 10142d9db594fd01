"""Minimal request/response types for the hot data-plane endpoints, and their ASGI adapter.

IMDS, App Service, the vaults and Blob sit on every workload's hot path, so they skip the
framework: a handler takes a `WireRequest` (query pairs parsed once, duplicates kept so the
surface can reject them, headers lower-cased once) and returns a `WireResponse`, or an
awaitable of one when it must wait (a fault control, the store, a body). `fastserver.py`
serves handlers straight from the socket; `AsgiAdapter` serves the same handler under any ASGI
server or TestClient. A streaming handler (Blob) gets its body as chunks (`WireRequest.stream`)
while it runs, and may answer with chunks of a known total length (`WireResponse.chunks`).
"""

from __future__ import annotations

import itertools
import json
import uuid
from functools import lru_cache
from typing import Any, AsyncIterator, Awaitable, Callable, Sequence, Union
from urllib.parse import parse_qsl

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]

MAX_QUERY = 8192
JSON = (b"content-type", b"application/json; charset=utf-8")


class WireRequest:
    """One request. A plain slotted class, not a dataclass: it is built for every request on the hot path."""

    __slots__ = ("method", "path", "raw_query", "query_pairs", "headers", "too_long", "body", "port", "raw_path",
                 "stream")

    def __init__(self, method: str, path: str, raw_query: str, query_pairs: Sequence[tuple[str, str]],
                 headers: dict[str, str], too_long: bool = False, body: bytes = b"", port: int = 0,
                 raw_path: str = "", stream: AsyncIterator[bytes] | None = None) -> None:
        self.method = method
        self.path = path
        self.raw_query = raw_query
        self.query_pairs = query_pairs  # duplicates kept, so a surface can refuse them
        self.headers = headers  # names lower-cased
        self.too_long = too_long  # the query exceeded MAX_QUERY and was not parsed; the surface answers 400
        self.body = body
        self.port = port  # the local port the request reached (a vault is told apart by its port)
        self.raw_path = raw_path or path  # the path as sent, still percent-encoded (what Shared Key signs)
        self.stream = stream  # a streaming handler's body, arriving while it runs

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def __repr__(self) -> str:
        return f"WireRequest({self.method} {self.raw_path}?{self.raw_query})"


class BodyIncomplete(Exception):
    """The client went away (or ended the message) before its body was complete."""


class WireResponse:
    """One response; slotted, like WireRequest, because every request makes one."""

    __slots__ = ("status", "body", "headers", "length", "chunks", "raw_head")

    def __init__(self, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None,
                 length: int | None = None, chunks: AsyncIterator[bytes] | None = None, raw_head: bytes = b"") -> None:
        self.status = status
        self.body = body
        self.headers = headers if headers is not None else []
        self.length = length  # Content-Length when it is not len(body): a HEAD, or `chunks`
        self.chunks = chunks  # the body, streamed (exactly `length` bytes)
        self.raw_head = raw_head  # more header lines, already encoded ("name: value" joined by CRLF)

    def all_headers(self) -> list[tuple[bytes, bytes]]:
        if not self.raw_head:
            return self.headers
        extra = [line.split(b": ", 1) for line in self.raw_head.split(b"\r\n")]
        return self.headers + [(k, v) for k, v in extra]

    @property
    def content_length(self) -> int:
        return len(self.body) if self.length is None else self.length

    def __repr__(self) -> str:
        return f"WireResponse({self.status}, {self.content_length} bytes)"


Handler = Callable[[WireRequest], Union[WireResponse, Awaitable[WireResponse]]]


@lru_cache(maxsize=4096)
def _parse_query(raw_query: str) -> tuple[tuple[str, str], ...]:
    """A workload repeats the very same query string; parse each one once."""
    return tuple(parse_qsl(raw_query, keep_blank_values=True))


def make_request(method: str, path: str, raw_query: str, raw_headers: list[tuple[bytes, bytes]],
                 body: bytes = b"", port: int = 0, raw_path: str = "",
                 stream: AsyncIterator[bytes] | None = None) -> WireRequest:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw_headers}
    return build_request(method, path, raw_query, headers, body, port, raw_path, stream)


def build_request(method: str, path: str, raw_query: str, headers: dict[str, str], body: bytes = b"",
                  port: int = 0, raw_path: str = "", stream: AsyncIterator[bytes] | None = None) -> WireRequest:
    """A request from already lower-cased, decoded headers (what the fast server collects as it parses)."""
    if len(raw_query) > MAX_QUERY:
        return WireRequest(method, path, "", (), headers, True, body, port, raw_path, stream)
    return WireRequest(method, path, raw_query, _parse_query(raw_query), headers, False, body, port, raw_path, stream)


_ID_PREFIX = str(uuid.uuid4())[:24]  # random per process (GUID version and variant included)
_ID_COUNTER = itertools.count()


def request_id() -> str:
    """A unique request id in GUID form, as Azure's x-ms-request-id: a random per-process prefix and a
    counter (a uuid4 per request costs more than the rest of a cached read's headers)."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER) & 0xFFFFFFFFFFFF:012x}"


def duplicated(pairs: Sequence[tuple[str, str]]) -> str | None:
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
    """Serves a wire handler as an ASGI app (tests, or any ASGI server); `max_body` bounds what is read,
    `streaming` hands the body to the handler as it arrives instead."""

    def __init__(self, handler: Handler, max_body: int = 64 * 1024, streaming: bool = False) -> None:
        self.handler = handler
        self.max_body = max_body
        self.streaming = streaming

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # nothing to start or stop; say so, as a server expects
            while True:
                message = await receive()
                kind = message["type"].rsplit(".", 1)[-1]
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        if scope["type"] != "http":
            return
        if self.streaming:
            return await self._streaming(scope, receive, send)
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
        await _send(res, send)

    async def _streaming(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise BodyIncomplete()
                if message.get("body"):
                    yield message["body"]
                if not message.get("more_body", False):
                    return
        raw_headers = list(scope.get("headers", []))
        raw_path = scope.get("raw_path") or scope["path"].encode()
        req = make_request(scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"),
                           raw_headers, b"", _port(raw_headers, scope), raw_path.decode("latin-1"), chunks())
        result = self.handler(req)
        res = result if isinstance(result, WireResponse) else await result
        await _send(res, send)


async def _send(res: WireResponse, send: Send) -> None:
    await send({"type": "http.response.start", "status": res.status,
                "headers": res.all_headers() + [(b"content-length", str(res.content_length).encode())]})
    if res.chunks is None:
        await send({"type": "http.response.body", "body": res.body})
        return
    async for chunk in res.chunks:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


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
