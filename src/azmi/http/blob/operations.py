"""Blob service operations: parse the request, make the service call, render headers and XML.

Uploads check everything that can be checked (container, conditions, lengths, block id) before
the body is read; the body is streamed to a temporary file and committed by the service. Store
and file work runs on worker threads; only a small blob's cached read stays in the event loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Iterator, TypeVar

from azmi import errors as e
from azmi.domain import blobs as rules
from azmi.domain.blobs import BlobProps, Conditions, http_date
from azmi.http.blob import xml
from azmi.http.blob.routes import Operation
from azmi.http.wire import BodyIncomplete, WireRequest, WireResponse
from azmi.services.blob_auth import Account
from azmi.services.blobs import md5_b64
from azmi.services.system import Services

__all__ = ["Operation", "Reply", "cached_read", "run", "in_thread"]
Headers = dict[str, str]
T = TypeVar("T")


async def in_thread(fn: Callable[..., T], *args: Any) -> T:
    return await asyncio.to_thread(fn, *args)


@dataclass
class Reply:
    """A response being assembled: header names as the service sends them, lower-cased on the wire."""

    status: int
    headers: Headers
    body: bytes = b""
    content_type: str | None = None
    length: int | None = None
    chunks: AsyncIterator[bytes] | None = None

    def response(self) -> WireResponse:
        pairs = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]
        if self.content_type is not None and "content-type" not in {k.lower() for k in self.headers}:
            pairs.append((b"content-type", self.content_type.encode("latin-1")))
        return WireResponse(self.status, self.body, pairs, self.length, self.chunks)


def metadata_of(req: WireRequest) -> dict[str, str]:
    return rules.check_metadata({k[len("x-ms-meta-"):]: v for k, v in req.headers.items()
                                 if k.startswith("x-ms-meta-")})


def content_length(req: WireRequest) -> int:
    value = req.headers.get("content-length")
    if value is None or "chunked" in req.headers.get("transfer-encoding", "").lower():
        raise e.InvalidInput("Content-Length HTTP header is missing.", code="MissingContentLengthHeader")
    if not value.isdigit():
        raise e.InvalidInput("The value for one of the HTTP headers is not in the correct format.",
                             code="InvalidHeaderValue", target="Content-Length")
    return int(value)


async def body_of(req: WireRequest, declared: int) -> AsyncIterator[bytes]:
    """The request body, refusing a body that is shorter or longer than its Content-Length."""
    seen = 0
    try:
        async for chunk in req.stream or _nothing():
            seen += len(chunk)
            if seen > declared:
                break
            yield chunk
    except BodyIncomplete:
        raise e.InvalidInput("The request body is incomplete.", code="InvalidInput") from None
    if seen != declared:
        raise e.InvalidInput("The value for one of the HTTP headers is not in the correct format.",
                             code="InvalidHeaderValue", target="Content-Length")


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # pragma: no cover  (makes this an async generator)


def blob_headers(b: BlobProps) -> Headers:
    out = {"Last-Modified": http_date(b.modified), "ETag": b.etag, "x-ms-creation-time": http_date(b.created),
           "x-ms-blob-type": "BlockBlob", "x-ms-lease-status": "unlocked", "x-ms-lease-state": "available",
           "x-ms-server-encrypted": "true", "Accept-Ranges": "bytes", "Content-Type": b.content_type}
    for header, value in (("Content-Encoding", b.content_encoding), ("Content-Language", b.content_language),
                          ("Content-Disposition", b.content_disposition), ("Cache-Control", b.cache_control)):
        if value:
            out[header] = value
    out.update({f"x-ms-meta-{k}": v for k, v in b.metadata.items()})
    return out


def props_from(req: WireRequest, name: str, *, put_blob: bool) -> BlobProps:
    h = req.headers
    content_type = h.get("x-ms-blob-content-type") or (h.get("content-type") if put_blob else None)
    md5 = h.get("x-ms-blob-content-md5")
    rules.check_md5(md5)
    return BlobProps(name, 0, "", 0.0, 0.0, content_type or "application/octet-stream", md5,
                     h.get("x-ms-blob-content-encoding") or (h.get("content-encoding") if put_blob else None),
                     h.get("x-ms-blob-content-language") or (h.get("content-language") if put_blob else None),
                     h.get("x-ms-blob-content-disposition"), h.get("x-ms-blob-cache-control"), metadata_of(req))


async def run(svc: Services, a: Account, op: Operation, req: WireRequest, query: dict[str, str],
              headers: Headers) -> WireResponse:
    return (await _run(svc, a, op, req, query, headers)).response()


async def _run(svc: Services, a: Account, op: Operation, req: WireRequest, query: dict[str, str],
               headers: Headers) -> Reply:
    blobs = svc.blobs
    endpoint = f"{_base_url(req)}/{a.name}/"
    container, name = op.container or "", op.blob or ""
    cond = Conditions.parse(req.headers)
    if op.name == "list_containers":
        prefix, marker, maxresults = query.get("prefix", ""), query.get("marker") or None, query.get("maxresults")
        items, nxt = await in_thread(blobs.list_containers, a, prefix, marker,
                                             rules.check_maxresults(maxresults))
        body = xml.containers(endpoint, items, prefix, marker, maxresults, nxt, "metadata" in query.get("include", ""))
        return Reply(200, headers, body, "application/xml")
    if op.name == "create_container":
        c = await in_thread(blobs.create_container, a, container, metadata_of(req))
        return Reply(201, {**headers, "ETag": c.etag, "Last-Modified": http_date(c.modified)})
    if op.name == "container_properties":
        c = await in_thread(blobs.container, a, container)
        out = {**headers, "ETag": c.etag, "Last-Modified": http_date(c.modified), "x-ms-lease-status": "unlocked",
               "x-ms-lease-state": "available", "x-ms-has-immutability-policy": "false", "x-ms-has-legal-hold": "false",
               "x-ms-default-encryption-scope": "$account-encryption-key",
               "x-ms-deny-encryption-scope-override": "false", **{f"x-ms-meta-{k}": v for k, v in c.metadata.items()}}
        return Reply(200, out)
    if op.name == "delete_container":
        await in_thread(blobs.delete_container, a, container, cond)
        return Reply(202, headers)
    if op.name == "list_blobs":
        prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
        marker, maxresults = query.get("marker") or None, query.get("maxresults")
        items, prefixes, nxt = await in_thread(blobs.list_blobs, a, container, prefix, delimiter, marker,
                                                       rules.check_maxresults(maxresults))
        body = xml.blobs(endpoint, container, items, prefixes, prefix, delimiter, marker, maxresults, nxt,
                         "metadata" in query.get("include", ""))
        return Reply(200, headers, body, "application/xml")
    if op.name in ("get_blob", "blob_properties"):
        return await _read(svc, a, op, req, cond, headers)
    if op.name == "delete_blob":
        await in_thread(blobs.delete_blob, a, container, name, cond)
        return Reply(202, {**headers, "x-ms-delete-type-permanent": "true"})
    if op.name == "get_block_list":
        which = query.get("blocklisttype", "committed").lower()
        if which not in ("committed", "uncommitted", "all"):
            raise e.InvalidInput("Value for one of the query parameters specified in the request URI is invalid.",
                                 code="InvalidQueryParameterValue", target="blocklisttype")
        current, committed, uncommitted = await in_thread(blobs.block_list, a, container, name, which)
        out = {**headers, "x-ms-blob-content-length": str(current.size if current else 0)}
        if current is not None:
            out.update({"ETag": current.etag, "Last-Modified": http_date(current.modified)})
        return Reply(200, out, xml.block_list(committed, uncommitted), "application/xml")
    return await _write(svc, a, op, req, query, cond, headers)


_RENDERED: dict[tuple[str, str, str, str], bytes] = {}  # a cached blob's encoded header lines
_RENDERED_MAX = 4096


def cached_read(svc: Services, a: Account, op: Operation, req: WireRequest, headers: Headers) -> WireResponse | None:
    """Get Blob of a small blob this node has in memory: no thread hop, no store, no file. A whole-blob read
    without conditions reuses the blob's encoded headers (its dates are formatted once, not per request)."""
    hit = svc.blobs.cached_blob(a, op.container or "", op.blob or "")
    if hit is None:
        return None
    b, content = hit
    h = req.headers
    if "range" in h or "x-ms-range" in h or any(k.startswith("if-") for k in h):
        return _content_reply(b, content, req, Conditions.parse(h), headers).response()
    key = (a.name, op.container or "", b.name, b.etag)
    rendered = _RENDERED.get(key)
    if rendered is None:
        if len(_RENDERED) >= _RENDERED_MAX:
            _RENDERED.clear()
        pairs = Reply(200, _content_head(b, req, {})[0].headers).response().headers
        rendered = _RENDERED[key] = b"\r\n".join(k + b": " + v for k, v in pairs)
    dynamic = "\r\n".join([f"{k}: {v}" for k, v in headers.items()]).encode("latin-1")
    return WireResponse(200, content, raw_head=dynamic + b"\r\n" + rendered)


def _content_reply(b: BlobProps, content: bytes, req: WireRequest, cond: Conditions, headers: Headers) -> Reply:
    if cond.any:
        rules.check_conditions(cond, b.etag, b.modified, read=True)
    reply, start, length = _content_head(b, req, headers)
    reply.body = content[start:start + length]
    return reply


def _content_head(b: BlobProps, req: WireRequest, headers: Headers) -> tuple[Reply, int, int]:
    """Get Blob's status and headers for the whole blob or the requested range; (reply, start, length)."""
    out = {**headers, **blob_headers(b)}
    wanted = req.headers.get("x-ms-range") or req.headers.get("range")
    span = rules.parse_range(wanted, b.size) if wanted else None
    start, end = span if span else (0, b.size - 1)
    if span is not None:
        out["Content-Range"] = f"bytes {start}-{end}/{b.size}"
        if b.content_md5:
            out["x-ms-blob-content-md5"] = b.content_md5
    elif b.content_md5:
        out["Content-MD5"] = b.content_md5
    return Reply(206 if span else 200, out), start, end - start + 1


async def _read(svc: Services, a: Account, op: Operation, req: WireRequest, cond: Conditions,
                headers: Headers) -> Reply:
    if op.name == "blob_properties":
        b = await in_thread(svc.blobs.blob, a, op.container or "", op.blob or "", cond)
        out = {**headers, **blob_headers(b), "x-ms-access-tier": "Hot", "x-ms-access-tier-inferred": "true"}
        if b.content_md5:
            out["Content-MD5"] = b.content_md5
        return Reply(200, out, length=b.size)
    b, content = await in_thread(svc.blobs.read, a, op.container or "", op.blob or "", cond)
    if content is not None:
        return _content_reply(b, content, req, Conditions(), headers)
    reply, start, length = _content_head(b, req, headers)
    chunks = await in_thread(svc.blobs.content, a, b, start, length)
    reply.length, reply.chunks = length, _in_threads(chunks)
    return reply


async def _in_threads(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """File chunks read on a worker thread each, so a large blob never blocks the event loop."""
    done = object()
    try:
        while True:
            chunk = await asyncio.to_thread(next, chunks, done)
            if chunk is done:
                return
            yield chunk  # type: ignore[misc]
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _base_url(req: WireRequest) -> str:
    """The origin the client addressed (listings name their endpoint), as Starlette's base_url did."""
    return f"https://{req.headers.get('host') or 'localhost'}"


async def _write(svc: Services, a: Account, op: Operation, req: WireRequest, query: dict[str, str],
                 cond: Conditions, headers: Headers) -> Reply:
    blobs, container, name = svc.blobs, op.container or "", op.blob or ""
    declared = content_length(req)
    if op.name == "put_block_list":
        if declared > xml.MAX_BLOCK_LIST_BODY:
            raise e.InvalidInput("The request body is too large and exceeds the maximum permissible limit.",
                                 code="RequestBodyTooLarge")
        props = props_from(req, name, put_blob=False)
        await in_thread(blobs.precheck_write, a, container, name, cond)
        raw = b"".join([c async for c in body_of(req, declared)])
        wanted = xml.parse_block_list(raw)
        b = await in_thread(blobs.commit_block_list, a, container, props, wanted, cond)
        return Reply(201, {**headers, "ETag": b.etag, "Last-Modified": http_date(b.modified),
                           "x-ms-request-server-encrypted": "true"})
    md5 = rules.check_md5(req.headers.get("content-md5"))
    if op.name == "put_block":
        block_id = rules.check_block_id(query.get("blockid"))
        if declared > rules.MAX_BLOCK_SIZE:
            raise e.InvalidInput("The request body is too large and exceeds the maximum permissible limit.",
                                 code="RequestBodyTooLarge")
        await in_thread(blobs.precheck_write, a, container, name, Conditions())
        temp, size, digest = await blobs.receive(a, body_of(req, declared), rules.MAX_BLOCK_SIZE, md5)
        await in_thread(blobs.stage_block, a, container, name, block_id, temp, size)
        return Reply(201, {**headers, "Content-MD5": md5_b64(digest), "x-ms-request-server-encrypted": "true"})
    blob_type = req.headers.get("x-ms-blob-type")
    if blob_type is None:
        raise e.InvalidInput("An HTTP header that's mandatory for this request is not specified.",
                             code="MissingRequiredHeader", target="x-ms-blob-type")
    if blob_type != "BlockBlob":
        raise e.InvalidInput("The value for one of the HTTP headers is not in the correct format.",
                             code="InvalidHeaderValue", target="x-ms-blob-type")
    if declared > rules.MAX_PUT_BLOB:
        raise e.InvalidInput("The request body is too large and exceeds the maximum permissible limit.",
                             code="RequestBodyTooLarge")
    props = props_from(req, name, put_blob=True)
    await in_thread(blobs.precheck_write, a, container, name, cond)
    temp, size, digest = await blobs.receive(a, body_of(req, declared), rules.MAX_PUT_BLOB, md5)
    props = BlobProps(**{**props.__dict__, "size": size, "content_md5": props.content_md5 or md5_b64(digest)})
    b = await in_thread(blobs.commit_blob, a, container, props, temp, cond)
    return Reply(201, {**headers, "ETag": b.etag, "Last-Modified": http_date(b.modified),
                       "Content-MD5": md5_b64(digest), "x-ms-request-server-encrypted": "true"})
