"""The Key Vault data plane for secrets (azure-wire.md §6, sdk-compat §5).

Each vault is its own HTTPS origin (`vaultUri`), so the vault is the port the request reached.
Order, as Key Vault: token first (the SDK's bodiless first request gets the 401 challenge naming
azmi's tenant and `https://vault.azure.net`), then api-version, route, authorization (RBAC or
access policy), then the body. Nothing is read or changed before authorization passes.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from functools import lru_cache
from typing import Any, Awaitable


from azmi import errors as e
from azmi.domain.secrets import RETENTION_DAYS, SecretName, SecretVersion
from azmi.http import errors as wire_errors
from azmi.http.wire import JSON, Handler, WireRequest, WireResponse, request_id
from azmi.services.keyvault import Vault
from azmi.services.system import Services

log = logging.getLogger("azmi.keyvault")

VAULT_AUDIENCES = frozenset(("https://vault.azure.net", "cfa8b339-82a2-471a-a3c9-0fc0be7a4093"))
API_VERSIONS = frozenset(("2016-10-01", "7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6-preview.1", "7.6-preview.2",
                          "7.6", "2025-06-01-preview", "2025-07-01", "2026-04-01"))
MAX_BODY = 256 * 1024
MAX_RESULTS = 25
REQUEST_ID = b"x-ms-request-id"
NETWORK_INFO = (b"x-ms-keyvault-network-info", b"conn_type=Ipv4;addr=127.0.0.1;act_addr_fam=InterNetwork;")


@lru_cache(maxsize=1024)
def vault_headers(location: str) -> tuple[tuple[bytes, bytes], ...]:
    """The headers after the request id, the same on every response of a vault: built once."""
    return ((b"x-ms-keyvault-service-version", b"1.9.2484.1"), (b"x-ms-keyvault-region", location.encode()),
            NETWORK_INFO)


@lru_cache(maxsize=4096)
def route_path(method: str, path: str) -> tuple[str, str | None, str | None]:
    """`route` of a request path; a client repeats its paths, so each is split and matched once."""
    return route(method, [p for p in path.split("/") if p])


@lru_cache(maxsize=1024)
def checked_query(pairs: tuple[tuple[str, str], ...]) -> tuple[str, dict[str, str]]:
    """(api-version, parameters) of a query, checked once per distinct query (raises InvalidInput).
    The dict is shared between requests: read it, never change it."""
    query: dict[str, str] = {}
    for k, val in pairs:
        if k in query:
            raise e.InvalidInput(f"The query parameter '{k}' is repeated.", code="BadParameter")
        query[k] = val
    api = query.get("api-version", "")
    if not api:
        raise e.InvalidInput("The 'api-version' query parameter is missing.", code="BadParameter")
    if api not in API_VERSIONS:
        raise e.InvalidInput(f"The specified version ({api}) is not recognized. Consider using the latest "
                             "supported version (2026-04-01).", code="BadParameter")
    return api, query


def route(method: str, parts: list[str]) -> tuple[str, str | None, str | None]:
    """(operation, secret name, version) for a path split on '/'; raises NotFound for anything else."""
    n = len(parts)
    if parts and parts[0] == "secrets":
        if n == 1 and method == "GET":
            return "list", None, None
        if n == 2 and parts[1] == "restore" and method == "POST":
            return "restore", None, None
        if n == 2 and method == "PUT":
            return "set", parts[1], None
        if n == 2 and method == "DELETE":
            return "delete", parts[1], None
        if n in (2, 3) and method in ("GET", "PATCH"):
            version = parts[2] if n == 3 else None
            if version == "versions" and method == "GET":
                return "versions", parts[1], None
            return ("get" if method == "GET" else "update"), parts[1], version or None
        if n == 3 and parts[2] == "backup" and method == "POST":
            return "backup", parts[1], None
    if parts and parts[0] == "deletedsecrets":
        if n == 1 and method == "GET":
            return "list_deleted", None, None
        if n == 2 and method == "GET":
            return "get_deleted", parts[1], None
        if n == 2 and method == "DELETE":
            return "purge", parts[1], None
        if n == 3 and parts[2] == "recover" and method == "POST":
            return "recover", parts[1], None
    raise e.NotFound("The requested operation or resource was not found.", code="NotFound")


def attributes(ver: SecretVersion) -> dict[str, Any]:
    attrs: dict[str, Any] = {"enabled": ver.enabled}
    if ver.nbf is not None:
        attrs["nbf"] = ver.nbf
    if ver.exp is not None:
        attrs["exp"] = ver.exp
    attrs.update(created=ver.created, updated=ver.updated, recoveryLevel="Recoverable+Purgeable",
                 recoverableDays=RETENTION_DAYS)
    return attrs


def item(v: Vault, n: SecretName, ver: SecretVersion, *, with_version: bool) -> dict[str, Any]:
    base = v.uri.rstrip("/")
    body: dict[str, Any] = {"id": f"{base}/secrets/{n.name}" + (f"/{ver.version}" if with_version else ""),
                            "attributes": attributes(ver), "tags": ver.tags}
    if ver.content_type is not None:
        body["contentType"] = ver.content_type
    return body


def bundle(v: Vault, n: SecretName, ver: SecretVersion, *, value: bool = True) -> dict[str, Any]:
    body = item(v, n, ver, with_version=True)
    if value:
        body = {"value": ver.value, **body}
    if n.deleted_at is not None:
        body.update(recoveryId=f"{v.uri.rstrip('/')}/deletedsecrets/{n.name}", deletedDate=int(n.deleted_at),
                    scheduledPurgeDate=int(n.scheduled_purge or 0))
    return body


def render_get(v: Vault, n: SecretName, ver: SecretVersion) -> bytes:
    """A GET's body; kept by the secret cache until the secret changes (KeyVaultService.get_rendered)."""
    return json.dumps(bundle(v, n, ver)).encode()


def page(v: Vault, path: str, version: str, rows: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    try:
        size = int(query.get("maxresults", MAX_RESULTS))
        start = int(base64.urlsafe_b64decode(query["$skiptoken"] + "==").decode()) if "$skiptoken" in query else 0
    except (ValueError, UnicodeDecodeError):
        raise e.InvalidInput("Invalid paging parameter ($skiptoken or maxresults).", code="BadParameter") from None
    if not 1 <= size <= MAX_RESULTS or start < 0:
        raise e.InvalidInput(f"maxresults must be between 1 and {MAX_RESULTS}.", code="BadParameter")
    end = start + size
    link = None
    if end < len(rows):
        token = base64.urlsafe_b64encode(str(end).encode()).decode().rstrip("=")
        link = f"{v.uri.rstrip('/')}{path}?api-version={version}&$skiptoken={token}&maxresults={size}"
    return {"value": rows[start:end], "nextLink": link}


def create_keyvault_handler(svc: Services, login_authority: str) -> Handler:
    """The vault surface as a wire handler (served by fastserver.py under TLS, or by AsgiAdapter in tests)."""
    kv = svc.keyvault
    tenant = svc.settings.tenant_id

    def headers(v: Vault | None) -> list[tuple[bytes, bytes]]:
        return [(REQUEST_ID, request_id().encode()), *vault_headers(v.location if v else "")]

    def challenge(err: e.Unauthenticated) -> str:
        parts = [f'Bearer authorization="{login_authority}/{tenant}"', 'resource="https://vault.azure.net"']
        if err.code != "AuthenticationFailed":
            parts.append('error="invalid_token"')
        return ", ".join(parts)

    def run(v: Vault, op: str, name: str | None, version: str | None, body: Any, path: str,
            api: str, query: dict[str, str]) -> tuple[int, Any]:
        if op == "set":
            return 200, bundle(v, *kv.set_secret(v, name or "", body))
        if op == "get":
            return 200, bundle(v, *kv.get_secret(v, name or "", version))
        if op == "update":
            return 200, bundle(v, *kv.update_secret(v, name or "", version, body), value=False)
        if op == "list":
            return 200, page(v, path, api, [item(v, n, x, with_version=False) for n, x in kv.list_secrets(v)], query)
        if op == "versions":
            return 200, page(v, path, api, [item(v, n, x, with_version=True)
                                               for n, x in kv.list_versions(v, name or "")], query)
        if op == "delete":
            return 200, bundle(v, *kv.delete_secret(v, name or ""), value=False)
        if op == "get_deleted":
            return 200, bundle(v, *kv.get_deleted(v, name or ""), value=False)
        if op == "list_deleted":
            rows = [{**item(v, n, x, with_version=False), "recoveryId": f"{v.uri.rstrip('/')}/deletedsecrets/{n.name}",
                     "deletedDate": int(n.deleted_at or 0), "scheduledPurgeDate": int(n.scheduled_purge or 0)}
                    for n, x in kv.list_deleted(v)]
            return 200, page(v, path, api, rows, query)
        if op == "purge":
            kv.purge(v, name or "")
            return 204, None
        if op == "recover":
            return 200, bundle(v, *kv.recover(v, name or ""), value=False)
        if op == "backup":
            return 200, {"value": kv.backup(v, name or "")}
        return 200, bundle(v, *kv.restore(v, body), value=False)

    def respond(status: int, out: Any, hdrs: list[tuple[bytes, bytes]]) -> WireResponse:
        if out is None:
            return WireResponse(status, b"", hdrs)
        return WireResponse(status, json.dumps(out).encode(), [JSON, *hdrs])

    def failure(err: e.AzmiError, hdrs: list[tuple[bytes, bytes]]) -> WireResponse:
        return respond(*wire_errors.keyvault(err), hdrs)

    def handle(req: WireRequest) -> WireResponse | Awaitable[WireResponse]:
        port = req.port or 443
        v = kv.cached_vault(port)
        if v is None:
            return later(req, port)
        return with_vault(req, v)

    async def later(req: WireRequest, port: int) -> WireResponse:
        v = await asyncio.to_thread(kv.vault_at, port)
        if v is None:
            return failure(e.NotFound("No key vault is served at this address.", code="VaultNotFound"), headers(None))
        result = with_vault(req, v)
        return result if isinstance(result, WireResponse) else await result

    def with_vault(req: WireRequest, v: Vault) -> WireResponse | Awaitable[WireResponse]:
        rid = (REQUEST_ID, request_id().encode())
        same = vault_headers(v.location)
        try:
            claims = svc.authn.authenticate(req.header("authorization"), VAULT_AUDIENCES)
        except e.Unauthenticated as err:
            return failure(err, [rid, *same, (b"WWW-Authenticate", challenge(err).encode())])
        try:
            if req.too_long:
                raise e.InvalidInput("The request URI is too long.", code="BadParameter")
            api, query = checked_query(tuple(req.query_pairs))
            op, name, version = route_path(req.method, req.path)
            kv.authorize(v, claims, op, name)
            body = _body(req.body) if req.method in ("PUT", "PATCH") or op == "restore" else None
            if op == "get":  # the hot read: answered from memory, in the event loop, no store, rendered once
                rendered = kv.get_rendered(v, name or "", version, render_get)
                if rendered is not None:
                    return WireResponse(200, rendered, [JSON, rid, *same])
        except e.AzmiError as err:
            return failure(err, [rid, *same])
        return in_thread(v, op, name, version, body, req.path, api, query, [rid, *same])

    async def in_thread(v: Vault, op: str, name: str | None, version: str | None, body: Any, path: str, api: str,
                        query: dict[str, str], hdrs: list[tuple[bytes, bytes]]) -> WireResponse:
        try:
            status, out = await asyncio.to_thread(run, v, op, name, version, body, path, api, query)
        except e.AzmiError as err:
            return failure(err, hdrs)
        except Exception:  # never a bare 500 page: log it, answer in Key Vault's shape
            log.exception("unexpected error on %s %s", op, path)
            status, out = 500, {"error": {"code": "InternalServerError",
                                          "message": "The server encountered an internal error; see the azmi log."}}
        return respond(status, out, hdrs)

    return handle


def _body(raw: bytes) -> Any:
    if len(raw) > MAX_BODY:
        raise e.InvalidInput("The request body is too large.", code="BadParameter")
    try:
        return json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise e.InvalidInput("The request body is not valid JSON.", code="BadParameter") from None
