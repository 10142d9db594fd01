"""Blob Storage rules, pure: names, versions, block ids, ranges, conditional headers, ETags, paging.

Messages and codes are the service's ("Blob Service REST API" error codes): a bad container name is
`400 InvalidResourceName` ("The specifed resource name contains invalid characters." -- Azure's own
spelling), an unparsable header value `400 InvalidHeaderValue`, a failed precondition
`412 ConditionNotMet`, `If-None-Match: *` against an existing blob `409 BlobAlreadyExists`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass, field
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from typing import Any

from azmi.errors import Conflict, InvalidInput

MIN_VERSION = "2019-02-02"  # the oldest x-ms-version azmi serves; bearer tokens need 2017-11-09 or later anyway
MAX_BLOCK_ID_BYTES = 64
MAX_BLOCKS = 50_000
MAX_UNCOMMITTED = 100_000
MAX_BLOCK_SIZE = 4000 * 1024 * 1024
MAX_PUT_BLOB = 5000 * 1024 * 1024
MAX_RESULTS = 5000
_CONTAINER = re.compile(r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_SPECIAL_CONTAINERS = ("$root", "$logs", "$web")
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_META_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class BlobProps:
    """What the store keeps about one committed blob (the content is a file named `file`)."""

    name: str
    size: int
    etag: str
    created: float
    modified: float
    content_type: str = "application/octet-stream"
    content_md5: str | None = None
    content_encoding: str | None = None
    content_language: str | None = None
    content_disposition: str | None = None
    cache_control: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    file: str = ""
    blocks: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class ContainerProps:
    name: str
    etag: str
    modified: float
    metadata: dict[str, str] = field(default_factory=dict)


def invalid_name() -> InvalidInput:
    return InvalidInput("The specifed resource name contains invalid characters.", code="InvalidResourceName")


def check_container(name: str) -> str:
    if name in _SPECIAL_CONTAINERS or _CONTAINER.match(name):
        return name
    if not 3 <= len(name) <= 63:
        raise InvalidInput("The specified resource name length is not within the permissible limits.",
                           code="OutOfRangeInput")
    raise invalid_name()


def check_blob_name(name: str) -> str:
    if len(name) > 1024:
        raise InvalidInput("The specified resource name length is not within the permissible limits.",
                           code="OutOfRangeInput")
    if not name or "\x00" in name:
        raise invalid_name()
    if len(name.split("/")) > 254:
        raise InvalidInput("The specified resource name has too many path segments.", code="InvalidResourceName")
    return name


@lru_cache(maxsize=256)
def check_version(value: str | None) -> str:
    """x-ms-version: any date from MIN_VERSION on (the SDK sends new ones, e.g. 2026-10-06, sdk-compat §6)."""
    if value is None:
        raise InvalidInput("An HTTP header that's mandatory for this request is not specified.",
                           code="MissingRequiredHeader", target="x-ms-version")
    ok = bool(_VERSION.match(value))
    if ok:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            ok = False
    if not ok or value < MIN_VERSION:
        raise InvalidInput("The value for one of the HTTP headers is not in the correct format.",
                           code="InvalidHeaderValue", target="x-ms-version")
    return value


def check_metadata(pairs: dict[str, str]) -> dict[str, str]:
    for name, value in pairs.items():
        if not _META_NAME.match(name) or len(name) > 256:
            raise InvalidInput("The metadata specified is invalid. It has characters that are not permitted.",
                               code="InvalidMetadata")
    if sum(len(k) + len(v) for k, v in pairs.items()) > 8 * 1024:
        raise InvalidInput("The size of the metadata exceeds the maximum permitted (8 KiB).", code="MetadataTooLarge")
    return pairs


def check_block_id(value: str | None) -> str:
    try:
        raw = base64.b64decode(value or "", validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not value or not raw or len(raw) > MAX_BLOCK_ID_BYTES:
        raise InvalidInput("Value for one of the query parameters specified in the request URI is invalid.",
                           code="InvalidQueryParameterValue", target="blockid")
    return value


def check_md5(value: str | None) -> bytes | None:
    if value is None:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 16:
        raise InvalidInput("The value for one of the HTTP headers is not in the correct format.",
                           code="InvalidHeaderValue", target="Content-MD5")
    return raw


def parse_range(value: str | None, size: int) -> tuple[int, int] | None:
    """`bytes=a-b` or `bytes=a-` -> inclusive (start, end) clipped to the blob; None for the whole blob."""
    if not value:
        return None
    m = re.match(r"^bytes=(\d+)-(\d*)$", value.strip())
    if not m or (m.group(2) and int(m.group(2)) < int(m.group(1))):
        raise InvalidInput("The value for one of the HTTP headers is not in the correct format.",
                           code="InvalidHeaderValue", target="x-ms-range")
    start = int(m.group(1))
    end = int(m.group(2)) if m.group(2) else size - 1
    if start >= size:
        raise InvalidInput("The range specified is invalid for the current size of the resource.",
                           code="InvalidRange")
    return start, min(end, size - 1)


def http_date(ts: float) -> str:
    return format_datetime(dt.datetime.fromtimestamp(ts, dt.timezone.utc), usegmt=True)


def new_etag(now: float, salt: int) -> str:
    """Azure's ETag shape: a quoted 0x-prefixed hex number derived from the modification time."""
    ticks = int(now * 10_000_000) + 621_355_968_000_000_000
    return f'"0x{(ticks + salt % 997):X}"'


def _parse_date(value: str, header: str) -> float:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        raise InvalidInput("The value for one of the HTTP headers is not in the correct format.",
                           code="InvalidHeaderValue", target=header) from None


@dataclass(frozen=True)
class Conditions:
    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: float | None = None
    if_unmodified_since: float | None = None

    @classmethod
    def parse(cls, headers: Any) -> "Conditions":
        ims, ius = headers.get("if-modified-since"), headers.get("if-unmodified-since")
        return cls(headers.get("if-match"), headers.get("if-none-match"),
                   _parse_date(ims, "If-Modified-Since") if ims else None,
                   _parse_date(ius, "If-Unmodified-Since") if ius else None)

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.if_match, self.if_none_match, self.if_modified_since,
                                           self.if_unmodified_since))


def _etag_in(value: str, etag: str | None) -> bool:
    tags = [t.strip() for t in value.split(",")]
    return "*" in tags and etag is not None or etag in tags


def check_conditions(c: Conditions, etag: str | None, modified: float | None, *, read: bool) -> None:
    """Evaluate conditional headers against the current state (etag None = the target does not exist).

    Reads that fail If-None-Match / If-Modified-Since answer 304 (code `ConditionNotMet` with 304, rendered
    by the edge); every other failure is 412 ConditionNotMet; writes with `If-None-Match: *` on an existing
    blob are 409 BlobAlreadyExists, which is how the SDK's `overwrite=False` learns the blob exists.
    """
    failed = PreconditionFailed()
    if c.if_match is not None and not _etag_in(c.if_match, etag):
        raise failed
    if c.if_unmodified_since is not None and modified is not None and int(modified) > c.if_unmodified_since:
        raise failed
    if c.if_none_match is not None and etag is not None and _etag_in(c.if_none_match, etag):
        if read:
            raise NotModified()
        if c.if_none_match.strip() == "*":
            raise Conflict("The specified blob already exists.", code="BlobAlreadyExists")
        raise failed
    if c.if_modified_since is not None and modified is not None and int(modified) <= c.if_modified_since:
        raise NotModified() if read else failed


class PreconditionFailed(InvalidInput):
    def __init__(self) -> None:
        super().__init__("The condition specified using HTTP conditional header(s) is not met.",
                         code="ConditionNotMet")


class NotModified(InvalidInput):
    def __init__(self) -> None:
        super().__init__("The condition specified using HTTP conditional header(s) is not met.",
                         code="NotModified")


def page(names: list[str], marker: str | None, maxresults: int) -> tuple[list[str], str | None]:
    """Sorted names after `marker` (the next name to return, as Azure's opaque marker), at most `maxresults`."""
    rest = [n for n in names if marker is None or n >= marker]
    if len(rest) > maxresults:
        return rest[:maxresults], rest[maxresults]
    return rest, None


def check_maxresults(value: str | None) -> int:
    if value is None:
        return MAX_RESULTS
    if not value.isdigit() or int(value) < 1:
        raise InvalidInput("One of the query parameters specified in the request URI is outside the permissible "
                           "range.", code="OutOfRangeQueryParameterValue", target="maxresults")
    return min(int(value), MAX_RESULTS)
