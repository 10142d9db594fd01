"""Blob service operations: parse the request, make the service call, render headers and XML.

Uploads check everything that can be checked (container, conditions, lengths, block id) before
the body is read; the body is streamed to a temporary file and committed by the service.
"""

from __future__ import annotations

from typing import AsyncIterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse

from azmi import errors as e
from azmi.domain import blobs as rules
from azmi.domain.blobs import BlobProps, Conditions, http_date
from azmi.http.blob import xml
from azmi.http.blob.routes import Operation
from azmi.services.blob_auth import Account
from azmi.services.blobs import md5_b64
from azmi.services.system import Services


def metadata_of(request: Request) -> dict[str, str]:
    return rules.check_metadata({k[len("x-ms-meta-"):]: v for k, v in request.headers.items()
                                 if k.lower().startswith("x-ms-meta-")})


def content_length(request: Request) -> int:
    value = request.headers.get("content-length")
    if value is None or "chunked" in request.headers.get("transfer-encoding", "").lower():
        raise e.InvalidInput("Content-Length HTTP header is missing.", code="MissingContentLengthHeader")
    if not value.isdigit():
        raise e.InvalidInput("The value for one of the HTTP headers is not in the correct format.",
                             code="InvalidHeaderValue", target="Content-Length")
    return int(value)


async def body_of(request: Request, declared: int) -> AsyncIterator[bytes]:
    """The request body, refusing a body that is shorter or longer than its Content-Length."""
    seen = 0
    try:
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > declared:
                break
            yield chunk
    except ClientDisconnect:
        raise e.InvalidInput("The request body is incomplete.", code="InvalidInput") from None
    if seen != declared:
        raise e.InvalidInput("The value for one of the HTTP headers is not in the correct format.",
                             code="InvalidHeaderValue", target="Content-Length")


def blob_headers(b: BlobProps) -> dict[str, str]:
    out = {"Last-Modified": http_date(b.modified), "ETag": b.etag, "x-ms-creation-time": http_date(b.created),
           "x-ms-blob-type": "BlockBlob", "x-ms-lease-status": "unlocked", "x-ms-lease-state": "available",
           "x-ms-server-encrypted": "true", "Accept-Ranges": "bytes", "Content-Type": b.content_type}
    for header, value in (("Content-Encoding", b.content_encoding), ("Content-Language", b.content_language),
                          ("Content-Disposition", b.content_disposition), ("Cache-Control", b.cache_control)):
        if value:
            out[header] = value
    out.update({f"x-ms-meta-{k}": v for k, v in b.metadata.items()})
    return out


def props_from(request: Request, name: str, *, put_blob: bool) -> BlobProps:
    h = request.headers
    content_type = h.get("x-ms-blob-content-type") or (h.get("content-type") if put_blob else None)
    md5 = h.get("x-ms-blob-content-md5")
    rules.check_md5(md5)
    return BlobProps(name, 0, "", 0.0, 0.0, content_type or "application/octet-stream", md5,
                     h.get("x-ms-blob-content-encoding") or (h.get("content-encoding") if put_blob else None),
                     h.get("x-ms-blob-content-language") or (h.get("content-language") if put_blob else None),
                     h.get("x-ms-blob-content-disposition"), h.get("x-ms-blob-cache-control"), metadata_of(request))


async def run(svc: Services, a: Account, op: Operation, request: Request, query: dict[str, str],
              headers: dict[str, str]) -> Response:
    blobs = svc.blobs
    endpoint = f"{str(request.base_url).rstrip('/')}/{a.name}/"
    container, name = op.container or "", op.blob or ""
    cond = Conditions.parse(request.headers)
    if op.name == "list_containers":
        prefix, marker, maxresults = query.get("prefix", ""), query.get("marker") or None, query.get("maxresults")
        items, nxt = await run_in_threadpool(blobs.list_containers, a, prefix, marker,
                                             rules.check_maxresults(maxresults))
        body = xml.containers(endpoint, items, prefix, marker, maxresults, nxt, "metadata" in query.get("include", ""))
        return Response(body, 200, headers=headers, media_type="application/xml")
    if op.name == "create_container":
        c = await run_in_threadpool(blobs.create_container, a, container, metadata_of(request))
        return Response(status_code=201, headers={**headers, "ETag": c.etag, "Last-Modified": http_date(c.modified)})
    if op.name == "container_properties":
        c = await run_in_threadpool(blobs.container, a, container)
        out = {**headers, "ETag": c.etag, "Last-Modified": http_date(c.modified), "x-ms-lease-status": "unlocked",
               "x-ms-lease-state": "available", "x-ms-has-immutability-policy": "false", "x-ms-has-legal-hold": "false",
               "x-ms-default-encryption-scope": "$account-encryption-key",
               "x-ms-deny-encryption-scope-override": "false", **{f"x-ms-meta-{k}": v for k, v in c.metadata.items()}}
        return Response(status_code=200, headers=out)
    if op.name == "delete_container":
        await run_in_threadpool(blobs.delete_container, a, container, cond)
        return Response(status_code=202, headers=headers)
    if op.name == "list_blobs":
        prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
        marker, maxresults = query.get("marker") or None, query.get("maxresults")
        items, prefixes, nxt = await run_in_threadpool(blobs.list_blobs, a, container, prefix, delimiter, marker,
                                                       rules.check_maxresults(maxresults))
        body = xml.blobs(endpoint, container, items, prefixes, prefix, delimiter, marker, maxresults, nxt,
                         "metadata" in query.get("include", ""))
        return Response(body, 200, headers=headers, media_type="application/xml")
    if op.name in ("get_blob", "blob_properties"):
        return await _read(svc, a, op, request, cond, headers)
    if op.name == "delete_blob":
        await run_in_threadpool(blobs.delete_blob, a, container, name, cond)
        return Response(status_code=202, headers={**headers, "x-ms-delete-type-permanent": "true"})
    if op.name == "get_block_list":
        which = query.get("blocklisttype", "committed").lower()
        if which not in ("committed", "uncommitted", "all"):
            raise e.InvalidInput("Value for one of the query parameters specified in the request URI is invalid.",
                                 code="InvalidQueryParameterValue", target="blocklisttype")
        current, committed, uncommitted = await run_in_threadpool(blobs.block_list, a, container, name, which)
        out = {**headers, "x-ms-blob-content-length": str(current.size if current else 0)}
        if current is not None:
            out.update({"ETag": current.etag, "Last-Modified": http_date(current.modified)})
        return Response(xml.block_list(committed, uncommitted), 200, headers=out, media_type="application/xml")
    return await _write(svc, a, op, request, query, cond, headers)


async def _read(svc: Services, a: Account, op: Operation, request: Request, cond: Conditions,
                headers: dict[str, str]) -> Response:
    b = await run_in_threadpool(svc.blobs.blob, a, op.container or "", op.blob or "", cond)
    out = {**headers, **blob_headers(b)}
    if op.name == "blob_properties":
        if b.content_md5:
            out["Content-MD5"] = b.content_md5
        out.update({"Content-Length": str(b.size), "x-ms-access-tier": "Hot", "x-ms-access-tier-inferred": "true"})
        return Response(status_code=200, headers=out)
    wanted = request.headers.get("x-ms-range") or request.headers.get("range")
    span = rules.parse_range(wanted, b.size) if wanted else None
    start, end = span if span else (0, b.size - 1)
    if span is not None:
        out["Content-Range"] = f"bytes {start}-{end}/{b.size}"
        if b.content_md5:
            out["x-ms-blob-content-md5"] = b.content_md5
    elif b.content_md5:
        out["Content-MD5"] = b.content_md5
    length = end - start + 1
    out["Content-Length"] = str(length)
    chunks = await run_in_threadpool(svc.blobs.content, a, b, start, length)
    return StreamingResponse(chunks, 206 if span else 200, headers=out, media_type=b.content_type)


async def _write(svc: Services, a: Account, op: Operation, request: Request, query: dict[str, str],
                 cond: Conditions, headers: dict[str, str]) -> Response:
    blobs, container, name = svc.blobs, op.container or "", op.blob or ""
    declared = content_length(request)
    if op.name == "put_block_list":
        if declared > xml.MAX_BLOCK_LIST_BODY:
            raise e.InvalidInput("The request body is too large and exceeds the maximum permissible limit.",
                                 code="RequestBodyTooLarge")
        props = props_from(request, name, put_blob=False)
        await run_in_threadpool(blobs.precheck_write, a, container, name, cond)
        raw = b"".join([c async for c in body_of(request, declared)])
        wanted = xml.parse_block_list(raw)
        b = await run_in_threadpool(blobs.commit_block_list, a, container, props, wanted, cond)
        return Response(status_code=201, headers={**headers, "ETag": b.etag, "Last-Modified": http_date(b.modified),
                                                  "x-ms-request-server-encrypted": "true"})
    md5 = rules.check_md5(request.headers.get("content-md5"))
    if op.name == "put_block":
        block_id = rules.check_block_id(query.get("blockid"))
        if declared > rules.MAX_BLOCK_SIZE:
            raise e.InvalidInput("The request body is too large and exceeds the maximum permissible limit.",
                                 code="RequestBodyTooLarge")
        await run_in_threadpool(blobs.precheck_write, a, container, name, Conditions())
        temp, size, digest = await blobs.receive(a, body_of(request, declared), rules.MAX_BLOCK_SIZE, md5)
        await run_in_threadpool(blobs.stage_block, a, container, name, block_id, temp, size)
        return Response(status_code=201, headers={**headers, "Content-MD5": md5_b64(digest),
                                                  "x-ms-request-server-encrypted": "true"})
    blob_type = request.headers.get("x-ms-blob-type")
    if blob_type is None:
        raise e.InvalidInput("An HTTP header that's mandatory for this request is not specified.",
                             code="MissingRequiredHeader", target="x-ms-blob-type")
    if blob_type != "BlockBlob":
        raise e.InvalidInput("The value for one of the HTTP headers is not in the correct format.",
                             code="InvalidHeaderValue", target="x-ms-blob-type")
    if declared > rules.MAX_PUT_BLOB:
        raise e.InvalidInput("The request body is too large and exceeds the maximum permissible limit.",
                             code="RequestBodyTooLarge")
    props = props_from(request, name, put_blob=True)
    await run_in_threadpool(blobs.precheck_write, a, container, name, cond)
    temp, size, digest = await blobs.receive(a, body_of(request, declared), rules.MAX_PUT_BLOB, md5)
    props = BlobProps(**{**props.__dict__, "size": size, "content_md5": props.content_md5 or md5_b64(digest)})
    b = await run_in_threadpool(blobs.commit_blob, a, container, props, temp, cond)
    return Response(status_code=201, headers={**headers, "ETag": b.etag, "Last-Modified": http_date(b.modified),
                                              "Content-MD5": md5_b64(digest), "x-ms-request-server-encrypted": "true"})
