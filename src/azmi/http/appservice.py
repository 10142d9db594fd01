"""The App Service / Functions identity endpoint (azure-wire.md §2.1-2.2, sdk-compat §2.2-2.3).

`IDENTITY_ENDPOINT` + `X-IDENTITY-HEADER` (api-version 2019-08-01: `client_id`,
`principal_id`/`object_id`, `mi_res_id`; `expires_on` in epoch seconds) and the legacy
`MSI_ENDPOINT` + `secret` header (2017-09-01: `clientid`; `expires_on` a date string as on
Linux). The secret header identifies the app; it is compared through a constant-time-keyed
dict lookup of a 256-bit random value, so a wrong guess learns nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from concurrent.futures import Future
from functools import lru_cache
from typing import Awaitable

from azmi import errors as e
from azmi.domain.selection import Selector
from azmi.http import errors as wire_errors
from azmi.http.pending import settle
from azmi.http.wire import HEALTH_PATHS, JSON, WireRequest, WireResponse, duplicated, encode_json, health, json_response
from azmi.services.system import Services
from azmi.services.tokens import IssuedToken

log = logging.getLogger("azmi.appservice")

TOKEN_PATH = "/msi/token"
V2019 = "2019-08-01"
V2017 = "2017-09-01"
SELECTORS_2019 = {"client_id": "client_id", "principal_id": "object_id", "object_id": "object_id",
                  "mi_res_id": "resource_id", "resource_id": "resource_id", "msi_res_id": "resource_id"}
SELECTORS_2017 = {"clientid": "client_id", "client_id": "client_id", "msi_res_id": "resource_id",
                  "resource_id": "resource_id", "mi_res_id": "resource_id"}
MAX_VALUE = 2048


def _error(status: int, message: str) -> tuple[int, dict[str, object]]:
    return status, {"statusCode": status, "message": message, "correlationId": str(uuid.uuid4())}


class AppServiceHandler:
    """One App Service identity request -> one response; awaitable only when a token must be signed (on the
    signing pool, so cold minting uses every core) or a fault control must wait."""

    def __init__(self, services: Services) -> None:
        self._svc = services
        self._tokens = services.tokens
        self._faults = services.faults

    def __call__(self, req: WireRequest) -> WireResponse | Awaitable[WireResponse]:
        if req.too_long:
            return json_response(*_error(400, "The request is malformed."))
        if req.path in HEALTH_PATHS:
            return health(req.path, self._svc.ready)
        if self._faults.armed and req.path.rstrip("/").lower() == TOKEN_PATH:
            return self._with_fault(req)
        return self._respond(req)

    def _respond(self, req: WireRequest) -> WireResponse | Awaitable[WireResponse]:
        try:
            result = self._handle(req)
        except e.AzmiError as err:
            return json_response(*wire_errors.appservice(err))
        return json_response(*result) if isinstance(result, tuple) else result

    async def _after_mint(self, pending: Future[IssuedToken], legacy: bool) -> WireResponse:
        try:
            return _success(await settle(pending), legacy)
        except e.AzmiError as err:
            return json_response(*wire_errors.appservice(err))
        except Exception:  # a bug while signing: a 500 in the endpoint's shape, logged; never a dropped request
            log.exception("minting a token failed")
            return json_response(*_error(500, "An unexpected error occurred while issuing the token."))

    async def _with_fault(self, req: WireRequest) -> WireResponse:
        failure = self._faults.next_failure()
        if failure is not None and failure.delay_ms:
            await asyncio.sleep(failure.delay_ms / 1000)
        if failure is not None and failure.status:
            return json_response(*_error(failure.status, "An injected transient failure (azmi fault control)."))
        result = self._respond(req)
        return result if isinstance(result, WireResponse) else await result

    def _handle(self, req: WireRequest) -> tuple[int, dict[str, object]] | WireResponse | Awaitable[WireResponse]:
        if req.path.rstrip("/").lower() != TOKEN_PATH:
            return _error(404, "Not found.")
        if req.method != "GET":
            return _error(405, "The requested resource does not support http method '%s'." % req.method)
        if duplicated(req.query_pairs):
            return _error(400, "A query parameter was repeated.")
        params = dict(req.query_pairs)
        version = params.get("api-version", "")
        if version not in (V2019, V2017):
            url = f"http://{req.header('host') or 'localhost'}{req.path}" + (f"?{req.raw_query}" if req.raw_query else "")
            return 400, {"error": {"code": "UnsupportedApiVersion", "message":
                                   f"The HTTP resource that matches the request URI '{url}' does not support the "
                                   f"API version '{version}'.", "innerError": None}}
        legacy = version == V2017
        secret = req.header("secret") if legacy else req.header("x-identity-header")
        try:
            work = self._tokens.workload("identity_header", secret)
        except e.NoBinding:
            if legacy:
                return _error(401, "The 'secret' header is missing or invalid.")
            return _error(403, "The 'X-IDENTITY-HEADER' header is missing or invalid.")
        resource = params.get("resource")
        if not resource:
            return _error(400, "The 'resource' query parameter is required.")
        if any(len(v) > MAX_VALUE for v in params.values()):
            return _error(400, "A query parameter is too long.")
        names = SELECTORS_2017 if legacy else SELECTORS_2019
        given = [k for k in params if k in names]
        if len(given) > 1:
            return _error(400, f"Only one of {', '.join(given)} can be specified.")
        selector = Selector(**{names[k]: params[k] for k in given})
        tok = self._tokens.issue_nowait(work, selector, resource)
        if isinstance(tok, IssuedToken):  # a cached token: answered here, in the event loop
            return _success(tok, legacy)
        return self._after_mint(tok, legacy)


def _success(tok: IssuedToken, legacy: bool) -> WireResponse:
    if not legacy:  # the body of a cached token never changes: encoded once
        return WireResponse(200, _body_2019(tok.access_token, tok.expires_on, tok.resource, tok.principal.client_id),
                            [JSON])
    when = dt.datetime.fromtimestamp(tok.expires_on, dt.timezone.utc)  # 2017-09-01: a date, as on Linux
    return json_response(200, {"access_token": tok.access_token,
                               "expires_on": when.strftime("%m/%d/%Y %H:%M:%S +00:00"),
                               "resource": tok.resource, "token_type": "Bearer"})


@lru_cache(maxsize=4096)
def _body_2019(access_token: str, expires_on: int, resource: str, client_id: str) -> bytes:
    return encode_json({"access_token": access_token, "expires_on": str(expires_on), "resource": resource,
                        "token_type": "Bearer", "client_id": client_id})
