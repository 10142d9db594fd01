"""IMDS: `GET /metadata/identity/oauth2/token` and `/metadata/instance` (azure-wire.md §1, sdk-compat §2.1).

A resource's IMDS lives at `http://127.0.0.1:PORT/<binding key>`; the key is unguessable and
is the only thing that says which resource is calling. `azmi run` puts it into
`AZURE_POD_IDENTITY_AUTHORITY_HOST`, which MSAL and azure-identity both honour.

Checks, in order: method (405), `Metadata: true` (400), no `X-Forwarded-For` (400),
no repeated parameter (400), api-version, resource, one selector at most, then the binding
and the identity (400 `Identity not found`). Numbers in the body are strings, as IMDS sends.
"""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import Future
from functools import lru_cache
from typing import Any, Awaitable

from azmi import errors as e
from azmi.domain.models import Resource
from azmi.domain.selection import Selector
from azmi.http import errors as wire_errors
from azmi.http.pending import settle
from azmi.http.wire import HEALTH_PATHS, WireRequest, WireResponse, duplicated, health, json_response
from azmi.services.system import Services
from azmi.services.tokens import IssuedToken

log = logging.getLogger("azmi.imds")

TOKEN_PATH = "/metadata/identity/oauth2/token"
INSTANCE_PATH = "/metadata/instance"
IDENTITY_API_VERSIONS = frozenset((
    "2018-02-01", "2018-04-02", "2018-10-01", "2019-02-01", "2019-03-11", "2019-04-30", "2019-06-01",
    "2019-06-04", "2019-08-01", "2019-08-15", "2019-11-01", "2020-06-01", "2020-07-15", "2020-09-01",
    "2020-10-01", "2020-12-01", "2021-01-01", "2021-02-01", "2021-03-01", "2021-05-01", "2021-10-01",
    "2021-11-01", "2021-11-15", "2021-12-13", "2023-07-01"))
INSTANCE_API_VERSIONS = IDENTITY_API_VERSIONS - {"2018-02-01"} | {"2017-03-01", "2017-04-02", "2017-08-01",
                                                                 "2017-12-01"}
NEWEST = ["2023-07-01", "2021-12-13", "2021-11-15"]
SELECTORS = {"client_id": "client_id", "object_id": "object_id", "msi_res_id": "resource_id",
             "mi_res_id": "resource_id", "resource_id": "resource_id"}
MAX_VALUE = 2048
SERVER = [(b"server", b"IMDS/150.870.65.1854")]
TOKEN_HEADERS = [(b"content-type", b"application/json; charset=utf-8")] + SERVER
SUCCESS = (b'{"access_token":"%s","client_id":"%s","expires_in":"%d","expires_on":"%d","ext_expires_in":"%d",'
           b'"not_before":"%d","resource":%s,"token_type":"Bearer"}')
FAILURES: dict[int, dict[str, str]] = {  # IMDS spec examples and the docs' texts (azure-wire.md §1.4)
    404: {"error": "not_found", "error_description": "Not found"},
    410: {"error": "service_unavailable", "error_description":
          "IMDS is going through updates; it will be available in a maximum of 70 seconds"},
    429: {"error": "too_many_requests", "error_description": "Too many requests"},
    500: {"error": "server_error", "error_description": "Server error"},
    503: {"error": "service_unavailable", "error_description": "Service unavailable"},
}
GENERIC = ("The request is missing a required parameter, includes an invalid parameter value, includes a "
           "parameter more than once, or is otherwise malformed.")


class ImdsHandler:
    """One IMDS request -> one response; awaitable only when a token must be signed (on the signing pool,
    so cold minting uses every core) or a fault control must wait."""

    def __init__(self, services: Services) -> None:
        self._svc = services
        self._tokens = services.tokens
        self._faults = services.faults

    def __call__(self, req: WireRequest) -> WireResponse | Awaitable[WireResponse]:
        if req.too_long:
            return json_response(400, {"error": "invalid_request", "error_description": GENERIC}, SERVER)
        if req.path in HEALTH_PATHS:
            return health(req.path, self._svc.ready)
        binding, path = _split(req.path)
        try:
            if path == TOKEN_PATH:
                return self._token(req, binding)
            if path == INSTANCE_PATH or path.startswith(INSTANCE_PATH + "/"):
                status, body = self._instance(req, binding, path[len(INSTANCE_PATH):])
                if isinstance(body, str):
                    return WireResponse(status, body.encode(), [(b"content-type", b"text/plain; charset=utf-8")])
            else:
                status, body = 404, {"error": "not_found", "error_description": "Not found"}
        except e.AzmiError as err:
            status, body = wire_errors.imds(err)
        return json_response(status, body, SERVER)

    def _common(self, req: WireRequest, versions: frozenset[str]) -> dict[str, str] | tuple[int, dict[str, object]]:
        if req.method != "GET":
            return 405, {"error": "method_not_allowed", "error_description": "Not allowed"}
        if req.header("metadata") != "true":
            return 400, {"error": "invalid_request", "error_description": "Required metadata header not specified"}
        if "x-forwarded-for" in req.headers:
            return 400, {"error": "invalid_request", "error_description":
                         "Requests containing an X-Forwarded-For header are not allowed; IMDS cannot be used "
                         "behind a proxy."}
        if duplicated(req.query_pairs):
            return 400, {"error": "invalid_request", "error_description": GENERIC}
        params = dict(req.query_pairs)
        version = params.get("api-version")
        if not version:
            return 400, {"error": "invalid_request", "error_description":
                         "Bad request. api-version was not specified in the request. For more information "
                         "refer to aka.ms/azureimds", "newest-versions": NEWEST}
        if version not in versions:
            return 400, {"error": "invalid_request", "error_description": "Invalid 'api-version' requested",
                         "newest-versions": NEWEST}
        if any(len(v) > MAX_VALUE for v in params.values()):
            return 400, {"error": "invalid_request", "error_description": GENERIC}
        return params

    def _token(self, req: WireRequest, binding: str | None) -> WireResponse | Awaitable[WireResponse]:
        params = self._common(req, IDENTITY_API_VERSIONS)
        if isinstance(params, tuple):
            return json_response(*params, SERVER)
        resource = params.get("resource")
        if not resource:
            return json_response(400, {"error": "invalid_request", "error_description":
                                        "Required query variable 'resource' is missing"}, SERVER)
        chosen = {SELECTORS[k]: v for k, v in params.items() if k in SELECTORS}
        if sum(1 for k in params if k in SELECTORS) > 1:
            return json_response(400, {"error": "invalid_request", "error_description":
                                        "Only one of client_id, object_id or msi_res_id can be specified."}, SERVER)
        if "bypass_cache" in params and (params["bypass_cache"] != "true" or params["api-version"] < "2023-07-01"):
            return json_response(400, {"error": "invalid_request", "error_description": GENERIC}, SERVER)
        work = self._tokens.workload("binding_key", binding)
        selector, fresh = Selector(**chosen), "bypass_cache" in params
        if self._faults.rate_limit or self._faults.max_concurrent or self._faults.armed:
            return self._through_faults(work, selector, resource, fresh)  # throttling or injected failures are on
        tok = self._tokens.issue_nowait(work, selector, resource, fresh=fresh)
        if isinstance(tok, IssuedToken):  # a cached token: answered here, in the event loop
            return WireResponse(200, self._body(work, tok), TOKEN_HEADERS)
        return self._after_mint(work, tok)

    async def _after_mint(self, work: Any, pending: Future[IssuedToken]) -> WireResponse:
        try:
            return WireResponse(200, self._body(work, await settle(pending)), TOKEN_HEADERS)
        except e.AzmiError as err:
            return json_response(*wire_errors.imds(err), SERVER)
        except Exception:  # a bug while signing: IMDS's own 500, logged; never a dropped request
            log.exception("minting a token failed")
            return json_response(500, FAILURES[500], SERVER)

    async def _through_faults(self, work: Any, selector: Selector, resource: str, fresh: bool) -> WireResponse:
        retry_after = self._faults.admit(work.resource_key)
        if retry_after is not None:
            return json_response(429, FAILURES[429], SERVER + [(b"retry-after", str(retry_after).encode())])
        try:
            failure = self._faults.next_failure()
            if failure is not None and failure.delay_ms:
                await asyncio.sleep(failure.delay_ms / 1000)
            if failure is not None and failure.status:
                return json_response(failure.status, FAILURES.get(failure.status, FAILURES[500]),
                                     SERVER + [(b"x-azmi-injected-fault", b"1")])
            tok = self._tokens.issue_nowait(work, selector, resource, fresh=fresh)
            if not isinstance(tok, IssuedToken):
                tok = await settle(tok)
            return WireResponse(200, self._body(work, tok), TOKEN_HEADERS)
        except e.AzmiError as err:
            return json_response(*wire_errors.imds(err), SERVER)
        except Exception:
            log.exception("minting a token failed")
            return json_response(500, FAILURES[500], SERVER)
        finally:
            self._faults.release(work.resource_key)

    def _body(self, work: Any, tok: IssuedToken) -> bytes:
        """The success body, byte for byte what `encode_json` of the same fields gives, built without it:
        this is the hot path, and only the numbers change between two requests for a cached token."""
        now = int(self._svc.clock.now()) + work.clock_skew  # the VM's own (possibly skewed) clock
        left = max(tok.expires_on - now, 0)
        return SUCCESS % (tok.access_token.encode(), tok.principal.client_id.encode(), left, tok.expires_on, left,
                          tok.not_before, _json_string(tok.resource))

    def _instance(self, req: WireRequest, binding: str | None, sub: str) -> tuple[int, Any]:
        params = self._common(req, frozenset(INSTANCE_API_VERSIONS))
        if isinstance(params, tuple):
            return params
        work = self._tokens.workload("binding_key", binding)
        doc: Any = instance_document(self._svc.control.resource_by_key(work.resource_key))
        for part in [p for p in sub.split("/") if p]:
            if isinstance(doc, dict) and part in doc:
                doc = doc[part]
            elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
                doc = doc[int(part)]
            else:
                return 404, {"error": "not_found", "error_description": "Not found"}
        if params.get("format") == "text":
            if isinstance(doc, (dict, list)):
                return 400, {"error": "invalid_request", "error_description":
                             "Bad request. format=text is only supported for leaf nodes."}
            return 200, str(doc)
        if not isinstance(doc, (dict, list)):
            return 400, {"error": "invalid_request", "error_description":
                         "Bad request. Leaf nodes need format=text. For more information refer to aka.ms/azureimds"}
        return 200, doc


def instance_document(r: Resource) -> dict[str, Any]:
    """The instance metadata a VM sees; every primitive is a string, as IMDS renders it."""
    props = r.properties
    hardware = props.get("hardwareProfile")
    vm_size = str(hardware.get("vmSize", "Standard_D2s_v3")) if isinstance(hardware, dict) else "Standard_D2s_v3"
    compute = {
        "azEnvironment": "AzurePublicCloud", "location": r.location, "name": r.id.name,
        "osType": str(props.get("osType", "Linux")), "provider": r.id.namespace,
        "resourceGroupName": r.id.resource_group, "resourceId": str(r.id), "subscriptionId": r.id.subscription,
        "tags": ";".join(f"{k}:{v}" for k, v in r.tags.items()),
        "tagsList": [{"name": k, "value": v} for k, v in r.tags.items()],
        "vmId": str(props.get("vmId", "")), "vmSize": vm_size, "zone": "",
    }
    return {"compute": compute, "network": {"interface": []}}


@lru_cache(maxsize=4096)
def _json_string(value: str) -> bytes:
    return json.dumps(value).encode()


def _split(path: str) -> tuple[str | None, str]:
    """'/<key>/metadata/...' -> (key, '/metadata/...'); '/metadata/...' -> (None, same)."""
    if path.startswith("/metadata"):
        return None, path.rstrip("/") or "/"
    key, sep, rest = path[1:].partition("/")
    if not sep:
        return None, path
    return key, "/" + rest.rstrip("/")
