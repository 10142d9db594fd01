"""The Blob service data plane on one HTTPS listener, path-style: `https://127.0.0.1:PORT/<account>/...`.

Order, as the service: account, `x-ms-version` (any date from 2019-02-02 on, sdk-compat §6), then
authentication (bearer token or Shared Key), the operation, authorization -- all before a body is
read or anything is touched -- then the operation. Errors are XML with `x-ms-error-code`; a 401
carries the bearer challenge the SDK parses (`authorization_uri=<login>/<tenant>/oauth2/authorize
resource_id=https://storage.azure.com`; the SDK takes only the tenant segment of the URI).

Served as a streaming wire handler (fastserver.py under TLS): uploads arrive as chunks while the
handler runs, and a small blob's GET is answered from memory without leaving the event loop.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Awaitable

from azmi import errors as e
from azmi.domain import blobs as rules
from azmi.domain.blobs import http_date
from azmi.http import errors as wire_errors
from azmi.http.blob import operations, xml
from azmi.http.blob.operations import Headers, Reply
from azmi.http.blob.routes import route
from azmi.http.wire import Handler, WireRequest, WireResponse, request_id as new_request_id
from azmi.services.blob_auth import Account
from azmi.services.system import Services

log = logging.getLogger("azmi.blob")
LATEST_VERSION = "2026-10-06"
SERVER = "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0"


def raw_query(raw: str) -> list[tuple[str, str]]:
    """Query pairs as sent (values still percent-encoded), what Shared Key canonicalization starts from."""
    return [(k, v) for k, _, v in (p.partition("=") for p in raw.split("&") if p)]


def single_query(req: WireRequest) -> dict[str, str]:
    if req.too_long:
        raise e.InvalidInput("The request URI is too long.", code="InvalidUri")
    out: dict[str, str] = {}
    for k, v in req.query_pairs:
        if k in out:
            raise e.InvalidInput("Value for one of the query parameters specified in the request URI is invalid.",
                                 code="InvalidQueryParameterValue", target=k)
        out[k] = v
    return out


class _Dates:
    """The HTTP Date header changes once a second; format it once a second."""

    def __init__(self, now: object) -> None:
        self._now = now
        self._second = -1
        self._text = ""

    def __call__(self) -> str:
        now = self._now()  # type: ignore[operator]
        second = int(now)
        if second != self._second:
            self._second, self._text = second, http_date(now)
        return self._text


def create_blob_handler(svc: Services, login_authority: str) -> Handler:
    """The Blob surface as a streaming wire handler (fastserver.py, or AsgiAdapter(streaming=True) in tests)."""
    tenant = svc.settings.tenant_id
    challenge = (f"Bearer authorization_uri={login_authority}/{tenant}/oauth2/authorize "
                 "resource_id=https://storage.azure.com")
    date = _Dates(svc.clock.now)
    blobs, auth = svc.blobs, svc.blob_auth

    def handle(req: WireRequest) -> WireResponse | Awaitable[WireResponse]:
        request_id = new_request_id()
        headers: Headers = {"x-ms-request-id": request_id, "server": SERVER, "x-ms-version": LATEST_VERSION,
                            "date": date()}
        client_id = req.headers.get("x-ms-client-request-id")
        if client_id is not None:
            headers["x-ms-client-request-id"] = client_id[:1024]
        try:
            query = single_query(req)
            name, op = route(req.method, req.path, query)
            acct = blobs.cached_account(name)
            if acct is None:
                return _later(req, name, op, query, headers, request_id)
            return _with_account(req, acct, op, query, headers, request_id)
        except e.AzmiError as err:
            return render_error(err, req, headers, request_id, challenge)

    async def _later(req: WireRequest, name: str, op: operations.Operation, query: dict[str, str],
                     headers: Headers, request_id: str) -> WireResponse:
        try:
            acct = await operations.in_thread(blobs.account, name)
        except e.AzmiError as err:
            return render_error(err, req, headers, request_id, challenge)
        if acct is None:
            return render_error(e.NotFound("The specified resource does not exist.", code="ResourceNotFound"),
                                req, headers, request_id, challenge)
        result = _with_account(req, acct, op, query, headers, request_id)
        return result if isinstance(result, WireResponse) else await result

    def _with_account(req: WireRequest, acct: Account, op: operations.Operation, query: dict[str, str],
                      headers: Headers, request_id: str) -> WireResponse | Awaitable[WireResponse]:
        try:
            headers["x-ms-version"] = rules.check_version(req.headers.get("x-ms-version"))
            shared_key = req.headers.get("authorization", "").startswith("SharedKey ")
            caller = auth.authenticate(acct, req.method, req.headers, req.raw_path,
                                       raw_query(req.raw_query) if shared_key else ())
            auth.authorize(caller, acct, op.action, op.container)
            if op.name == "get_blob":
                hit = operations.cached_read(svc, acct, op, req, headers)
                if hit is not None:  # the hot read: a small blob from memory, in the event loop
                    return hit
        except e.AzmiError as err:
            return render_error(err, req, headers, request_id, challenge)
        return _run(req, acct, op, query, headers, request_id)

    async def _run(req: WireRequest, acct: Account, op: operations.Operation, query: dict[str, str],
                   headers: Headers, request_id: str) -> WireResponse:
        try:
            return await operations.run(svc, acct, op, req, query, headers)
        except e.AzmiError as err:
            return render_error(err, req, headers, request_id, challenge)
        except Exception:  # never a bare 500 page: log it, answer in the service's shape
            log.exception("unexpected error on %s %s", req.method, req.path)
            return _xml(500, "InternalError", "The server encountered an internal error. Please retry the request.",
                        {}, req, headers, request_id)

    return handle


def render_error(err: e.AzmiError, req: WireRequest, headers: Headers, request_id: str,
                 challenge: str) -> WireResponse:
    status, code, message, extra = wire_errors.blob(err)
    if status == 304:
        return Reply(304, headers).response()
    if status == 401:
        headers = {**headers, "www-authenticate": challenge}
    if code == "InvalidRange":
        headers = {**headers, "content-range": "bytes */0"}
    if "HeaderName" in extra and extra["HeaderName"].lower() in req.headers:
        extra["HeaderValue"] = req.headers[extra["HeaderName"].lower()][:256]
    if "QueryParameterName" in extra:
        given = [v for k, v in req.query_pairs if k == extra["QueryParameterName"]]
        if given:
            extra["QueryParameterValue"] = given[-1][:256]
    hint = err.inner if code == "AuthorizationPermissionMismatch" and err.inner else ""
    return _xml(status, code, message, extra, req, headers, request_id, hint)


def _xml(status: int, code: str, message: str, extra: dict[str, str], req: WireRequest, headers: Headers,
         request_id: str, hint: str = "") -> WireResponse:
    now = dt.datetime.fromtimestamp(time.time(), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    full = f"{message}\nRequestId:{request_id}\nTime:{now}{hint}"
    out = {**headers, "x-ms-error-code": code}
    body = b"" if req.method == "HEAD" else xml.error(code, full, extra)
    return Reply(status, out, body, "application/xml").response()
