"""The Blob service data plane on one HTTPS listener, path-style: `https://127.0.0.1:PORT/<account>/...`.

Order, as the service: account, `x-ms-version` (any date from 2019-02-02 on, sdk-compat §6), then
authentication (bearer token or Shared Key), the operation, authorization -- all before a body is
read or anything is touched -- then the operation. Errors are XML with `x-ms-error-code`; a 401
carries the bearer challenge the SDK parses (`authorization_uri=<login>/<tenant>/oauth2/authorize
resource_id=https://storage.azure.com`; the SDK takes only the tenant segment of the URI).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from azmi import errors as e
from azmi.domain import blobs as rules
from azmi.domain.blobs import http_date
from azmi.http import errors as wire_errors
from azmi.http.blob import operations, xml
from azmi.http.blob.routes import route
from azmi.services.system import Services

log = logging.getLogger("azmi.blob")
LATEST_VERSION = "2026-10-06"


def raw_query(request: Request) -> list[tuple[str, str]]:
    """Query pairs as sent (values still percent-encoded), what Shared Key canonicalization starts from."""
    qs = request.scope.get("query_string", b"").decode("latin-1")
    return [(k, v) for k, _, v in (p.partition("=") for p in qs.split("&") if p)]


def single_query(request: Request) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in request.query_params.multi_items():
        if k in out:
            raise e.InvalidInput("Value for one of the query parameters specified in the request URI is invalid.",
                                 code="InvalidQueryParameterValue", target=k)
        out[k] = v
    return out


def create_blob_app(svc: Services, login_authority: str) -> Starlette:
    tenant = svc.settings.tenant_id
    challenge = (f"Bearer authorization_uri={login_authority}/{tenant}/oauth2/authorize "
                 "resource_id=https://storage.azure.com")

    async def dispatch(request: Request) -> Response:
        request_id = str(uuid.uuid4())
        version = request.headers.get("x-ms-version")
        headers = {"x-ms-request-id": request_id, "Server": "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0",
                   "x-ms-version": LATEST_VERSION, "Date": http_date(svc.clock.now())}
        if "x-ms-client-request-id" in request.headers:
            headers["x-ms-client-request-id"] = request.headers["x-ms-client-request-id"][:1024]
        try:
            query = single_query(request)
            name, op = route(request.method, request.url.path, query)
            acct = svc.blobs.cached_account(name) or await run_in_threadpool(svc.blobs.account, name)
            if acct is None:
                raise e.NotFound("The specified resource does not exist.", code="ResourceNotFound")
            headers["x-ms-version"] = rules.check_version(version)
            lowered = {k.lower(): v for k, v in request.headers.items()}
            raw_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
            pairs = raw_query(request)
            caller = svc.blob_auth.authenticate(acct, request.method, lowered, raw_path, pairs)
            svc.blob_auth.authorize(caller, acct, op.action, op.container)
            return await operations.run(svc, acct, op, request, query, headers)
        except e.AzmiError as err:
            return render_error(err, request, headers, request_id, challenge)
        except Exception:  # never a bare 500 page: log it, answer in the service's shape
            log.exception("unexpected error on %s %s", request.method, request.url.path)
            return _xml(500, "InternalError", "The server encountered an internal error. Please retry the request.",
                        {}, request, headers, request_id)

    methods = ["GET", "PUT", "DELETE", "HEAD", "POST", "PATCH", "OPTIONS"]
    return Starlette(routes=[Route("/{path:path}", dispatch, methods=methods)])


def render_error(err: e.AzmiError, request: Request, headers: dict[str, str], request_id: str,
                 challenge: str) -> Response:
    status, code, message, extra = wire_errors.blob(err)
    if status == 304:
        return Response(status_code=304, headers=headers)
    if status == 401:
        headers = {**headers, "WWW-Authenticate": challenge}
    if code == "InvalidRange":
        headers = {**headers, "Content-Range": "bytes */0"}
    if "HeaderName" in extra and extra["HeaderName"].lower() in request.headers:
        extra["HeaderValue"] = request.headers[extra["HeaderName"].lower()][:256]
    if "QueryParameterName" in extra and extra["QueryParameterName"] in request.query_params:
        extra["QueryParameterValue"] = request.query_params[extra["QueryParameterName"]][:256]
    hint = err.inner if code == "AuthorizationPermissionMismatch" and err.inner else ""
    return _xml(status, code, message, extra, request, headers, request_id, hint)


def _xml(status: int, code: str, message: str, extra: dict[str, str], request: Request, headers: dict[str, str],
         request_id: str, hint: str = "") -> Response:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    full = f"{message}\nRequestId:{request_id}\nTime:{now}{hint}"
    out: dict[str, Any] = {**headers, "x-ms-error-code": code}
    body = b"" if request.method == "HEAD" else xml.error(code, full, extra)
    return Response(body, status, headers=out, media_type="application/xml")
