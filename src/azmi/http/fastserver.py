"""A small HTTP/1.1 server for the data-plane endpoints: httptools parsing straight into a wire handler.

Why not the ASGI server here: a cached token or a small blob must cost as little as possible (the
benchmark's figures); the generic ASGI cycle costs several times the handler itself. This server
keeps what HTTP/1.1 clients need — keep-alive, pipelining in order, Content-Length and chunked
bodies, `Expect: 100-continue`, `Connection: close`, 400 on unparsable input, size limits, flow
control both ways — and nothing else.

Two kinds of handler: a buffered one is called with the whole body (at most `max_body`); a
streaming one (Blob) is called as soon as the head is parsed, with the body as an async iterator.
A body its handler did not read is discarded, so the connection stays usable.
"""

from __future__ import annotations

import asyncio
from collections import deque
from functools import lru_cache
from typing import Any, AsyncIterator
from urllib.parse import unquote

import httptools

from azmi.http.wire import BodyIncomplete, Handler, WireRequest, WireResponse, build_request, json_response

MAX_HEAD = 16 * 1024
MAX_BODY = 64 * 1024
HIGH_WATER = 1024 * 1024  # buffered request body past which reading pauses (streaming handlers)
REASONS = {200: b"OK", 204: b"No Content", 400: b"Bad Request", 401: b"Unauthorized", 403: b"Forbidden", 404: b"Not Found",
           405: b"Method Not Allowed", 409: b"Conflict", 410: b"Gone", 413: b"Payload Too Large", 429: b"Too Many Requests",
           431: b"Request Header Fields Too Large", 500: b"Internal Server Error", 503: b"Service Unavailable"}


def encode(res: WireResponse, keep_alive: bool) -> bytes:
    head = [b"HTTP/1.1 %d %s" % (res.status, REASONS.get(res.status, b"Unknown"))]
    head += [k + b": " + v for k, v in res.headers]
    if res.raw_head:
        head.append(res.raw_head)
    if res.status not in (204, 304):  # RFC 9110: no Content-Length on these
        head.append(b"content-length: %d" % res.content_length)
    if not keep_alive:
        head.append(b"connection: close")
    return b"\r\n".join(head) + b"\r\n\r\n" + res.body


@lru_cache(maxsize=4096)
def _split_url(url: bytes) -> tuple[str, str, str]:
    """(decoded path, path as sent, query) of a request target; a workload repeats the same few targets."""
    parsed = httptools.parse_url(url)
    raw_path = (parsed.path or b"/").decode("latin-1")
    return (unquote(raw_path) if "%" in raw_path else raw_path, raw_path,
            parsed.query.decode("latin-1") if parsed.query else "")


class _Body:
    """A streaming request's body: chunks queue up while the handler runs; reading pauses past HIGH_WATER."""

    def __init__(self, conn: "_Connection", expect_continue: bool) -> None:
        self.conn = conn
        self.chunks: deque[bytes] = deque()
        self.size = 0
        self.done = False
        self.lost = False
        self.discarding = False
        self.expect_continue = expect_continue
        self.waiter: asyncio.Future[None] | None = None

    def feed(self, chunk: bytes) -> None:
        if self.discarding:
            return
        self.chunks.append(chunk)
        self.size += len(chunk)
        if self.size > HIGH_WATER:
            self.conn.pause_reading()
        self._wake()

    def finish(self, lost: bool = False) -> None:
        self.done, self.lost = True, lost
        self._wake()

    def discard(self) -> None:
        """The response is out and the handler no longer reads: drop what came and what comes."""
        self.discarding = True
        self.chunks.clear()
        self.size = 0
        self.conn.resume_reading()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.expect_continue:
            self.expect_continue = False
            self.conn.write_raw(b"HTTP/1.1 100 Continue\r\n\r\n")
        while True:
            if self.chunks:
                chunk = self.chunks.popleft()
                self.size -= len(chunk)
                if self.size <= HIGH_WATER // 2:
                    self.conn.resume_reading()
                yield chunk
                continue
            if self.done:
                if self.lost:
                    raise BodyIncomplete()
                return
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
            self.waiter = None


def _unsent_body(stream: _Body | None) -> bool:
    """Answered before asking for an `Expect: 100-continue` body: the client may or may not send it now, so
    the connection cannot be reused (RFC 9110 §10.1.1); it closes after the response."""
    return stream is not None and stream.expect_continue and not stream.done


class _Connection(asyncio.Protocol):
    def __init__(self, handler: Handler, connections: set["_Connection"], max_body: int,
                 streaming: bool = False) -> None:
        self.handler = handler
        self.connections = connections
        self.max_body = max_body
        self.streaming = streaming
        self.port = 0
        self.body: list[bytes] = []
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.headers: dict[str, str] = {}
        self.head_size = 0
        self.body_size = 0
        self.tail: asyncio.Future[Any] | None = None  # the last response still being produced
        self.stream: _Body | None = None  # the streaming request whose body is arriving
        self.reading_paused = False
        self.writable: asyncio.Event | None = None  # set while the transport accepts writes
        self.in_message = False  # the parser is inside a request (not at a message boundary)
        self.messages = 0  # requests begun in the chunk being parsed
        self.last: tuple[WireRequest, bool] | None = None  # the last bodiless request parsed, and its keep-alive
        self.replay: tuple[bytes, WireRequest, bool] | None = None  # (chunk, its request, keep-alive)

    # -- transport events ------------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.connections.add(self)
        sockname = transport.get_extra_info("sockname")
        self.port = int(sockname[1]) if sockname else 0

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        self.transport = None
        if self.stream is not None and not self.stream.done:
            self.stream.finish(lost=True)
        if self.writable is not None:
            self.writable.set()  # a writer waiting for room sees the transport gone and stops

    def pause_writing(self) -> None:
        if self.writable is None:
            self.writable = asyncio.Event()
        self.writable.clear()

    def resume_writing(self) -> None:
        if self.writable is not None:
            self.writable.set()

    def pause_reading(self) -> None:
        if not self.reading_paused and self.transport is not None:
            self.reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.reading_paused and self.transport is not None:
            self.reading_paused = False
            self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        replay = self.replay
        if replay is not None and not self.in_message and data == replay[0]:
            self._respond(replay[1], replay[2], None)  # the very bytes of the last request: reuse its parse
            return
        self.messages, self.last = 0, None
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(400, "Upgrades are not supported.")
        except httptools.HttpParserError:
            self._fail(400, "The request could not be parsed.")
        else:
            # a client polling a token or a blob sends the same bytes again and again: when this chunk was
            # exactly one complete bodiless keep-alive request, remember its parse for the next identical one
            whole = self.messages == 1 and not self.in_message and self.last is not None
            self.replay = (data, self.last[0], self.last[1]) if whole and self.last is not None else None

    # -- parser callbacks ------------------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.url, self.headers, self.head_size, self.body_size, self.body = b"", {}, 0, 0, []
        self.in_message = True
        self.messages += 1

    def on_url(self, url: bytes) -> None:
        self.url += url
        self.head_size += len(url)
        if self.head_size > MAX_HEAD:
            raise httptools.HttpParserError("head too large")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")
        self.head_size += len(name) + len(value)
        if self.head_size > MAX_HEAD:
            raise httptools.HttpParserError("head too large")

    def on_headers_complete(self) -> None:
        if self.streaming:
            if "content-length" not in self.headers and "transfer-encoding" not in self.headers:
                self._dispatch(b"", None)  # no body: nothing to stream
                return
            self.stream = _Body(self, self.headers.get("expect", "").lower() == "100-continue")
            self._dispatch(b"", self.stream)

    def on_body(self, body: bytes) -> None:
        if self.stream is not None:
            self.stream.feed(body)
            return
        self.body_size += len(body)
        if self.body_size > self.max_body:
            raise httptools.HttpParserError("body too large")
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.in_message = False
        if self.stream is not None:
            self.stream.finish()
            self.stream = None
            return
        if not self.streaming:
            self._dispatch(b"".join(self.body) if self.body else b"", None)

    def _dispatch(self, body: bytes, stream: _Body | None) -> None:
        keep_alive = self.parser.should_keep_alive()
        method = self.parser.get_method().decode("latin-1")
        path, raw_path, query = _split_url(self.url)
        req = build_request(method, path, query, self.headers, body, self.port, raw_path,
                            stream.__aiter__() if stream is not None else None)
        self.last = (req, keep_alive) if keep_alive and stream is None and not body else None
        self._respond(req, keep_alive, stream)

    def _respond(self, req: WireRequest, keep_alive: bool, stream: _Body | None) -> None:
        try:
            result = self.handler(req)
        except Exception:  # never a dropped connection: answer in JSON, keep serving
            result = json_response(500, {"error": "server_error", "error_description": "Server error"})
        if isinstance(result, WireResponse) and result.chunks is None and self.tail is None:
            self._write(result, keep_alive and not _unsent_body(stream))
            if stream is not None:
                stream.discard()
        else:
            self.tail = asyncio.ensure_future(self._ordered(self.tail, result, keep_alive, stream))

    # -- helpers ---------------------------------------------------------------------------------------------
    async def _ordered(self, previous: asyncio.Future[Any] | None, result: Any, keep_alive: bool,
                       stream: _Body | None = None) -> None:
        if previous is not None:
            await previous
        try:
            res = result if isinstance(result, WireResponse) else await result
        except Exception:  # the handler failed while waiting: answer, keep serving
            res = json_response(500, {"error": "server_error", "error_description": "Server error"})
        if _unsent_body(stream):
            keep_alive = False
        if stream is not None:
            stream.discard()
        if res.chunks is None:
            self._write(res, keep_alive)
        else:
            await self._write_chunks(res, keep_alive)
        if self.tail is asyncio.current_task():
            self.tail = None

    async def _write_chunks(self, res: WireResponse, keep_alive: bool) -> None:
        """A streamed body: head first, then each chunk as the transport takes it; exactly `length` bytes."""
        assert res.chunks is not None
        if self.transport is None or self.transport.is_closing():
            return
        head = WireResponse(res.status, b"", res.headers, res.length, raw_head=res.raw_head)
        self.transport.write(encode(head, keep_alive))
        sent = 0
        try:
            async for chunk in res.chunks:
                if self.writable is not None and not self.writable.is_set():
                    await self.writable.wait()
                if self.transport is None or self.transport.is_closing():
                    return
                self.transport.write(chunk)
                sent += len(chunk)
        except Exception:  # the content went away mid-response: the client must not take it as complete
            sent = -1
        if sent != res.content_length:
            self.close()
        elif not keep_alive and self.transport is not None:
            self.transport.close()

    def write_raw(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

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

    def __init__(self, handler: Handler, max_body: int = MAX_BODY, ssl: Any = None, streaming: bool = False) -> None:
        self.handler = handler
        self.max_body = max_body
        self.ssl = ssl
        self.streaming = streaming
        self.connections: set[_Connection] = set()
        self.server: asyncio.base_events.Server | None = None

    async def start(self, sock: Any) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: _Connection(self.handler, self.connections, self.max_body,
                                                                           self.streaming),
                                               sock=sock, ssl=self.ssl)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for conn in list(self.connections):
            conn.close()
        if self.server is not None:
            await self.server.wait_closed()
