"""A small HTTP/1.1 server for the identity endpoints: httptools parsing straight into a wire handler.

Why not the ASGI server here: a cached token must cost as little as possible (the benchmark's
first figure); the generic ASGI cycle costs several times the handler itself. This server keeps
what HTTP/1.1 clients need — keep-alive, pipelining in order, Content-Length bodies (read and
ignored), `Connection: close`, 400 on unparsable input, size limits — and nothing else.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import unquote

import httptools

from azmi.http.wire import Handler, WireResponse, json_response, make_request

MAX_HEAD = 16 * 1024
MAX_BODY = 64 * 1024
REASONS = {200: b"OK", 204: b"No Content", 400: b"Bad Request", 401: b"Unauthorized", 403: b"Forbidden", 404: b"Not Found",
           405: b"Method Not Allowed", 409: b"Conflict", 410: b"Gone", 413: b"Payload Too Large", 429: b"Too Many Requests",
           431: b"Request Header Fields Too Large", 500: b"Internal Server Error", 503: b"Service Unavailable"}


def encode(res: WireResponse, keep_alive: bool) -> bytes:
    head = [b"HTTP/1.1 %d %s" % (res.status, REASONS.get(res.status, b"Unknown"))]
    head += [k + b": " + v for k, v in res.headers]
    head.append(b"content-length: %d" % len(res.body))
    if not keep_alive:
        head.append(b"connection: close")
    return b"\r\n".join(head) + b"\r\n\r\n" + res.body


class _Connection(asyncio.Protocol):
    def __init__(self, handler: Handler, connections: set["_Connection"], max_body: int) -> None:
        self.handler = handler
        self.connections = connections
        self.max_body = max_body
        self.port = 0
        self.body: list[bytes] = []
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_size = 0
        self.body_size = 0
        self.tail: asyncio.Future[Any] | None = None  # the last response still being produced

    # -- transport events ------------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.connections.add(self)
        sockname = transport.get_extra_info("sockname")
        self.port = int(sockname[1]) if sockname else 0

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(400, "Upgrades are not supported.")
        except httptools.HttpParserError:
            self._fail(400, "The request could not be parsed.")

    # -- parser callbacks ------------------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.url, self.headers, self.head_size, self.body_size, self.body = b"", [], 0, 0, []

    def on_url(self, url: bytes) -> None:
        self.url += url
        self._count(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        self._count(len(name) + len(value))

    def on_body(self, body: bytes) -> None:
        self.body_size += len(body)
        if self.body_size > self.max_body:
            raise httptools.HttpParserError("body too large")
        self.body.append(body)

    def on_message_complete(self) -> None:
        keep_alive = self.parser.should_keep_alive()
        method = self.parser.get_method().decode("latin-1")
        parsed = httptools.parse_url(self.url)
        req = make_request(method, unquote((parsed.path or b"/").decode("latin-1")),
                           (parsed.query or b"").decode("latin-1"), self.headers, b"".join(self.body), self.port)
        try:
            result = self.handler(req)
        except Exception:  # never a dropped connection: answer in JSON, keep serving
            result = json_response(500, {"error": "server_error", "error_description": "Server error"})
        if isinstance(result, WireResponse) and self.tail is None:
            self._write(result, keep_alive)
        else:
            self.tail = asyncio.ensure_future(self._ordered(self.tail, result, keep_alive))

    # -- helpers ---------------------------------------------------------------------------------------------
    async def _ordered(self, previous: asyncio.Future[Any] | None, result: Any, keep_alive: bool) -> None:
        if previous is not None:
            await previous
        res = result if isinstance(result, WireResponse) else await result
        self._write(res, keep_alive)
        if self.tail is asyncio.current_task():
            self.tail = None

    def _count(self, n: int) -> None:
        self.head_size += n
        if self.head_size > MAX_HEAD:
            raise httptools.HttpParserError("head too large")

    def _write(self, res: WireResponse, keep_alive: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(encode(res, keep_alive))
        if not keep_alive:
            self.transport.close()

    def _fail(self, status: int, message: str) -> None:
        self._write(json_response(status, {"error": "invalid_request", "error_description": message}), False)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class FastServer:
    """One listening socket served by a wire handler."""

    def __init__(self, handler: Handler, max_body: int = MAX_BODY, ssl: Any = None) -> None:
        self.handler = handler
        self.max_body = max_body
        self.ssl = ssl
        self.connections: set[_Connection] = set()
        self.server: asyncio.base_events.Server | None = None

    async def start(self, sock: Any) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: _Connection(self.handler, self.connections, self.max_body),
                                               sock=sock, ssl=self.ssl)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for conn in list(self.connections):
            conn.close()
        if self.server is not None:
            await self.server.wait_closed()
