"""Pure rules of `az storage` (azure-cli `storage` module and the azure-storage-blob models it prints).

- connection strings: `k=v;` pairs (`validate_storage_connection_string`); azmi's has the path-style
  `BlobEndpoint` of the account, since the blob service is not at `<account>.blob.core.windows.net`;
- Blob service XML (listings, errors) parsed with ElementTree; errors worded as azure-storage-blob's
  `process_storage_error` words them (`message`, `ErrorCode:<code>`, one `name:value` line per extra
  element), with az's hints for the cases az adds one;
- uploads over `MAX_SINGLE_PUT` go as Put Block + Put Block List, blocks of `BLOCK_SIZE`, ids
  base64 of a fixed-width index (one length per blob, as the service requires);
- blobs and containers print as az prints the SDK's BlobProperties/ContainerProperties (camelCase).
"""

from __future__ import annotations

import base64
import datetime as dt
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime
from typing import Any, Mapping

STORAGE_API = "2023-05-01"
BLOB_VERSION = "2025-01-05"
STORAGE_SCOPE = "https://storage.azure.com/.default"
BLOCK_SIZE = 4 * 1024 * 1024
MAX_SINGLE_PUT = BLOCK_SIZE

KEY_QUERY_WARNING = (
    "\nThere are no credentials provided in your command and environment, we will query for account key for your "
    "storage account.\nIt is recommended to provide --connection-string, --account-key or --sas-token in your command "
    "as credentials.\n\nYou also can add `--auth-mode login` in your command to use Azure Active Directory (Azure AD) "
    "for authorization if your login account is assigned required RBAC roles.\nFor more information about RBAC roles "
    "in storage, visit https://learn.microsoft.com/azure/storage/common/storage-auth-aad-rbac-cli.\n\nIn addition, "
    "setting the corresponding environment variables can avoid inputting credentials in your command. Please use "
    "--help to get more information about environment variable usage.")
LOGIN_HINT = (
    "\nYou do not have the required permissions needed to perform this operation.\n"
    "Depending on your operation, you may need to be assigned one of the following roles:\n"
    '    "Storage Blob Data Owner"\n    "Storage Blob Data Contributor"\n    "Storage Blob Data Reader"\n'
    '    "Storage Queue Data Contributor"\n    "Storage Queue Data Reader"\n'
    '    "Storage Table Data Contributor"\n    "Storage Table Data Reader"\n\n'
    'If you want to use the old authentication method and allow querying for the right account key, '
    'please use the "--auth-mode" parameter and "key" value.')
HEAD_MESSAGES = {"BlobNotFound": "The specified blob does not exist.",
                 "ContainerNotFound": "The specified container does not exist.",
                 "ResourceNotFound": "The specified resource does not exist.",
                 "KeyBasedAuthenticationNotPermitted": "Key based authentication is not permitted on this storage "
                                                       "account.",
                 "AuthorizationPermissionMismatch": "This request is not authorized to perform this operation "
                                                    "using this permission."}
OVERWRITE_HINT = "\nIf you want to overwrite the existing one, please add --overwrite in your command."


# --- connection strings -------------------------------------------------------------------------

def connection_string(account: str, key: str, blob_endpoint: str) -> str:
    return (f"DefaultEndpointsProtocol=https;AccountName={account};AccountKey={key};"
            f"BlobEndpoint={blob_endpoint.rstrip('/')};")


def parse_connection_string(text: str) -> dict[str, str]:
    """Keys as given; values may contain '=' (base64 keys). Raises ValueError without AccountName."""
    out: dict[str, str] = {}
    for part in text.strip().split(";"):
        if not part.strip():
            continue
        key, eq, value = part.partition("=")
        if not eq:
            raise ValueError(f"Connection string is either blank or malformed: '{part}'")
        out[key.strip()] = value.strip()
    if not out.get("AccountName") and not out.get("BlobEndpoint"):
        raise ValueError("Connection string is either blank or malformed.")
    return out


# --- errors -------------------------------------------------------------------------------------

def parse_error(body: bytes, status: int, reason: str, header_code: str = "") -> tuple[str, str, dict[str, str]]:
    """(code, message, extra elements, lower-cased as the SDK lower-cases them) of an error response."""
    code, message, extra = header_code, "", {}
    if body:
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            root = None
        if root is not None:
            for child in root:
                tag = child.tag.lower()
                if tag == "code":
                    code = child.text or code
                elif tag == "message":
                    message = child.text or ""
                else:
                    extra[tag] = child.text or ""
    # a HEAD error has no body: Azure puts the message in the reason phrase, which the SDK shows
    message = message or HEAD_MESSAGES.get(code) or f"Operation returned an invalid status '{reason or status}'"
    return code, message, extra


def error_text(code: str, message: str, extra: Mapping[str, str]) -> str:
    text = message + (f"\nErrorCode:{code}" if code else "")
    return text + "".join(f"\n{k}:{v}" for k, v in extra.items())


# --- times and views ----------------------------------------------------------------------------

def iso(http_date: str | None) -> str | None:
    """RFC 1123 (`Mon, 01 Jan 2024 00:00:00 GMT`) -> az's `2024-01-01T00:00:00+00:00`."""
    if not http_date:
        return None
    try:
        parsed = parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return http_date
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)).isoformat()


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _lease(status: str | None, state: str | None) -> dict[str, Any]:
    return {"duration": None, "state": state, "status": status}


def blob_view(container: str, name: str, p: Mapping[str, str | None], metadata: dict[str, str] | None = None
              ) -> dict[str, Any]:
    """A blob as az prints BlobProperties; `p` holds the service's property names lower-cased
    (listing elements or response headers: `content-length`, `etag`, `last-modified`, ...)."""
    return {
        "container": container, "content": "", "deleted": False, "metadata": metadata or {}, "name": name,
        "snapshot": None, "versionId": None,
        "properties": {
            "blobTier": p.get("accesstier") or p.get("x-ms-access-tier"), "blobTierInferred": True,
            "blobType": p.get("blobtype") or p.get("x-ms-blob-type") or "BlockBlob",
            "contentLength": _int(p.get("content-length")),
            "contentSettings": {"cacheControl": p.get("cache-control"),
                                "contentDisposition": p.get("content-disposition"),
                                "contentEncoding": p.get("content-encoding"),
                                "contentLanguage": p.get("content-language"),
                                "contentMd5": p.get("content-md5"), "contentType": p.get("content-type")},
            "creationTime": iso(p.get("creation-time") or p.get("x-ms-creation-time")),
            "etag": p.get("etag"), "lastModified": iso(p.get("last-modified")),
            "lease": _lease(p.get("leasestatus") or p.get("x-ms-lease-status"),
                            p.get("leasestate") or p.get("x-ms-lease-state")),
            "serverEncrypted": (p.get("serverencrypted") or p.get("x-ms-server-encrypted")) == "true"}}


def container_view(name: str, p: Mapping[str, str | None], metadata: dict[str, str] | None = None) -> dict[str, Any]:
    """A container as az prints ContainerProperties (from a listing's Properties or a HEAD's headers)."""
    def get(key: str) -> str | None:
        return p.get(key) or p.get(f"x-ms-{key}")

    return {
        "deleted": None, "encryptionScope": {"defaultEncryptionScope": get("defaultencryptionscope")
                                             or get("default-encryption-scope"),
                                             "preventEncryptionScopeOverride":
                                                 (get("denyencryptionscopeoverride")
                                                  or get("deny-encryption-scope-override")) == "true"},
        "immutableStorageWithVersioningEnabled": False, "metadata": metadata or {}, "name": name,
        "properties": {"etag": p.get("etag"), "hasImmutabilityPolicy": (get("hasimmutabilitypolicy")
                                                                         or get("has-immutability-policy")) == "true",
                       "hasLegalHold": (get("haslegalhold") or get("has-legal-hold")) == "true",
                       "lastModified": iso(p.get("last-modified")),
                       "lease": _lease(get("leasestatus") or get("lease-status"),
                                       get("leasestate") or get("lease-state")),
                       "publicAccess": None},
        "version": None}


def upload_view(headers: Mapping[str, str]) -> dict[str, Any]:
    """What `az storage blob upload` prints: the SDK's response-header dict (lastModified camelCased)."""
    return {"client_request_id": headers.get("x-ms-client-request-id"), "content_md5": headers.get("content-md5"),
            "date": iso(headers.get("date")), "encryption_key_sha256": None, "encryption_scope": None,
            "etag": headers.get("etag"), "lastModified": iso(headers.get("last-modified")),
            "request_id": headers.get("x-ms-request-id"),
            "request_server_encrypted": headers.get("x-ms-request-server-encrypted") == "true",
            "version": headers.get("x-ms-version"), "version_id": None}


# --- listings -----------------------------------------------------------------------------------

def _props(el: ET.Element | None) -> dict[str, str | None]:
    return {child.tag.lower(): child.text for child in (el if el is not None else [])}


def _metadata(el: ET.Element | None) -> dict[str, str]:
    return {child.tag: child.text or "" for child in (el if el is not None else [])}


def parse_blob_list(body: bytes) -> tuple[list[dict[str, Any]], list[str], str | None]:
    """(blob views, BlobPrefix names, NextMarker) of a List Blobs page."""
    root = ET.fromstring(body)
    container = root.get("ContainerName") or ""
    blobs, prefixes = [], []
    for el in root.iter("Blob"):
        blobs.append(blob_view(container, el.findtext("Name") or "", _props(el.find("Properties")),
                               _metadata(el.find("Metadata"))))
    for el in root.iter("BlobPrefix"):
        prefixes.append(el.findtext("Name") or "")
    return blobs, prefixes, root.findtext("NextMarker") or None


def parse_container_list(body: bytes) -> tuple[list[dict[str, Any]], str | None]:
    root = ET.fromstring(body)
    items = [container_view(el.findtext("Name") or "", _props(el.find("Properties")), _metadata(el.find("Metadata")))
             for el in root.iter("Container")]
    return items, root.findtext("NextMarker") or None


# --- block uploads ------------------------------------------------------------------------------

def block_id(index: int) -> str:
    """Base64 of a fixed-width index: every id of a blob has the same length."""
    return base64.b64encode(f"{index:032d}".encode()).decode()


def block_ranges(size: int, block_size: int = BLOCK_SIZE) -> list[tuple[int, int]]:
    """(offset, length) of each block of a `size`-byte upload; one empty block for an empty file."""
    if block_size <= 0:
        raise ValueError("block size must be positive")
    return [(off, min(block_size, size - off)) for off in range(0, size, block_size)] or [(0, 0)]


def block_list_xml(ids: list[str]) -> bytes:
    root = ET.Element("BlockList")
    for bid in ids:
        ET.SubElement(root, "Latest").text = bid
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(root, encoding="unicode").encode()
