"""The Blob service's XML: errors, container and blob listings, block lists (REST API reference shapes)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Iterable

from azmi import errors as e
from azmi.domain.blobs import BlobProps, ContainerProps, http_date

MAX_BLOCK_LIST_BODY = 8 * 1024 * 1024
_DECL = b'<?xml version="1.0" encoding="utf-8"?>'


def _text(parent: ET.Element, tag: str, value: object | None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if value is not None:
        el.text = str(value)
    return el


def _bytes(root: ET.Element) -> bytes:
    return _DECL + ET.tostring(root, encoding="unicode").encode()


def error(code: str, message: str, extra: dict[str, str]) -> bytes:
    root = ET.Element("Error")
    _text(root, "Code", code)
    _text(root, "Message", message)
    for tag, value in extra.items():
        _text(root, tag, value)
    return _bytes(root)


def _metadata(parent: ET.Element, metadata: dict[str, str]) -> None:
    meta = ET.SubElement(parent, "Metadata")
    for k, v in metadata.items():
        _text(meta, k, v)


def _paging(root: ET.Element, prefix: str, marker: str | None, maxresults: str | None) -> None:
    if prefix:
        _text(root, "Prefix", prefix)
    if marker:
        _text(root, "Marker", marker)
    if maxresults:
        _text(root, "MaxResults", maxresults)


def containers(endpoint: str, items: Iterable[ContainerProps], prefix: str, marker: str | None,
               maxresults: str | None, next_marker: str | None, with_metadata: bool) -> bytes:
    root = ET.Element("EnumerationResults", ServiceEndpoint=endpoint)
    _paging(root, prefix, marker, maxresults)
    box = ET.SubElement(root, "Containers")
    for c in items:
        el = ET.SubElement(box, "Container")
        _text(el, "Name", c.name)
        props = ET.SubElement(el, "Properties")
        for tag, value in (("Last-Modified", http_date(c.modified)), ("Etag", c.etag), ("LeaseStatus", "unlocked"),
                           ("LeaseState", "available"), ("DefaultEncryptionScope", "$account-encryption-key"),
                           ("DenyEncryptionScopeOverride", "false"), ("HasImmutabilityPolicy", "false"),
                           ("HasLegalHold", "false")):
            _text(props, tag, value)
        if with_metadata:
            _metadata(el, c.metadata)
    _text(root, "NextMarker", next_marker)
    return _bytes(root)


def blobs(endpoint: str, container: str, items: Iterable[BlobProps], prefixes: Iterable[str], prefix: str,
          delimiter: str, marker: str | None, maxresults: str | None, next_marker: str | None,
          with_metadata: bool) -> bytes:
    root = ET.Element("EnumerationResults", ServiceEndpoint=endpoint, ContainerName=container)
    _paging(root, prefix, marker, maxresults)
    if delimiter:
        _text(root, "Delimiter", delimiter)
    box = ET.SubElement(root, "Blobs")
    for b in items:
        el = ET.SubElement(box, "Blob")
        _text(el, "Name", b.name)
        props = ET.SubElement(el, "Properties")
        for tag, value in (("Creation-Time", http_date(b.created)), ("Last-Modified", http_date(b.modified)),
                           ("Etag", b.etag), ("Content-Length", b.size), ("Content-Type", b.content_type),
                           ("Content-Encoding", b.content_encoding), ("Content-Language", b.content_language),
                           ("Content-CRC64", None), ("Content-MD5", b.content_md5),
                           ("Cache-Control", b.cache_control), ("Content-Disposition", b.content_disposition),
                           ("BlobType", "BlockBlob"), ("AccessTier", "Hot"), ("AccessTierInferred", "true"),
                           ("LeaseStatus", "unlocked"), ("LeaseState", "available"), ("ServerEncrypted", "true")):
            _text(props, tag, value)
        if with_metadata:
            _metadata(el, b.metadata)
    for p in prefixes:
        _text(ET.SubElement(box, "BlobPrefix"), "Name", p)
    _text(root, "NextMarker", next_marker)
    return _bytes(root)


def block_list(committed: list[tuple[str, int]], uncommitted: list[tuple[str, int]]) -> bytes:
    root = ET.Element("BlockList")
    for tag, items in (("CommittedBlocks", committed), ("UncommittedBlocks", uncommitted)):
        box = ET.SubElement(root, tag)
        for block_id, size in items:
            el = ET.SubElement(box, "Block")
            _text(el, "Name", block_id)
            _text(el, "Size", size)
    return _bytes(root)


def parse_block_list(raw: bytes) -> list[tuple[str, str]]:
    """`<BlockList><Latest|Committed|Uncommitted>id</...>...</BlockList>` -> [(kind, id)]."""
    bad = e.InvalidInput("XML specified is not syntactically valid.", code="InvalidXmlDocument")
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise bad
    try:
        root = ET.fromstring(raw)
    except (ET.ParseError, ValueError):
        raise bad from None
    if root.tag != "BlockList":
        raise bad
    out = []
    for child in root:
        if child.tag not in ("Latest", "Committed", "Uncommitted") or len(child) or not (child.text or "").strip():
            raise e.InvalidInput("The value for one of the XML nodes is not in the correct format.",
                                 code="InvalidXmlNodeValue")
        out.append((child.tag, child.text.strip() if child.text else ""))
    return out
