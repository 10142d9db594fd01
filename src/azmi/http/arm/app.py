"""The ARM application: authenticate, match the path, authorize, make one service call, render.

Every request needs `api-version` and a bearer token for `https://management.azure.com`
(verified fully against azmi's keyring); the caller's RBAC roles decide. Responses are
synchronous: PUT answers 201/200 with `provisioningState: Succeeded`, DELETE 200 (or 204 when
there was nothing to delete). An unexpected failure is logged and answered in ARM's error
shape, never as a bare 500 page.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from azmi import errors as e
from azmi.http import errors as wire_errors
from azmi.http.arm import admin, authorization, render, resources
from azmi.http.arm.environment import workload_environment
from azmi.http.arm.paths import Match, match
from azmi.http.endpoints import Endpoints
from azmi.http.wire import HEALTH_PATHS, health
from azmi.ids import parse_resource_id
from azmi.services.system import Services

log = logging.getLogger("azmi.arm")

MAX_BODY = 1024 * 1024
ARM_AUDIENCES = ("https://management.azure.com", "https://management.azure.com/",
                 "https://management.core.windows.net", "https://management.core.windows.net/")
ALLOWED_METHODS: dict[str, tuple[str, ...]] = {
    "group": ("GET", "PUT", "PATCH", "DELETE", "HEAD"), "resource": ("GET", "PUT", "PATCH", "DELETE"),
    "alias": ("GET", "PUT"), "access_policy": ("PUT",), "list_keys": ("POST",), "rotate_keys": ("POST",), "role_assignment": ("GET", "PUT", "DELETE"),
    "role_definition": ("GET", "PUT", "DELETE"), "faults": ("GET", "POST"), "clock_skew": ("PUT",),
    "clock": ("GET", "POST"),
    "bad_subscription": ("GET", "PUT", "PATCH", "DELETE", "HEAD", "POST")}  # all get 400 InvalidSubscriptionId
ADMIN = ("environment", "keys", "rotate_keys", "principal", "faults", "clock_skew", "clock", "stats")


def create_arm_app(svc: Services, endpoints: Endpoints, trust_bundle: str) -> Starlette:
    def handle(caller: Any, method: str, m: Match, version: str, body: Any, query: dict[str, str]) -> tuple[int, Any]:
        if m.kind in ADMIN:
            if m.kind != "principal":  # any signed-in principal may read the directory, as in Entra
                caller.require_operator()
            if m.kind == "environment":
                rid = parse_resource_id(query.get("resourceId", ""), what="resourceId")
                return 200, workload_environment(svc.control.get_resource(rid), endpoints, trust_bundle)
            if m.kind == "stats":
                return 200, {"tokensServed": svc.tokens.served, "tokensMinted": svc.tokens.minted}
            if m.kind in ("faults", "clock_skew", "clock"):
                return admin.handle(svc, m.kind, method, body, query)
            if m.kind == "rotate_keys":
                svc.keyring.rotate()
            if m.kind == "principal":
                return 200, render.principal(svc.control.principal(m.name))
            return 200, {"active": svc.keyring.active.kid, "keys": svc.keyring.jwks()["keys"]}
        if m.kind.startswith("role_"):
            return authorization.handle(svc, caller, method, m, version, body, query)
        return resources.handle(svc, caller, method, m, version, body)

    async def dispatch(request: Request) -> Response:
        if request.url.path in HEALTH_PATHS:
            res = await run_in_threadpool(health, request.url.path, svc.ready)
            return Response(res.body, res.status, media_type="application/json")
        headers = {"x-ms-request-id": str(uuid.uuid4()), "x-ms-correlation-request-id": str(uuid.uuid4())}
        try:
            m = match(request.url.path)
            if m is None:
                raise e.NotFound(f"No HTTP resource was found that matches the request URI '{request.url}'.",
                                 code="InvalidResourceType" if "/providers/" in request.url.path else "NotFound")
            if request.method not in ALLOWED_METHODS.get(m.kind, ("GET",)):
                return _json(405, {"error": {"code": "MethodNotAllowed", "message": "The requested resource does "
                                             f"not support http method '{request.method}'."}}, headers)
            claims = svc.authn.authenticate(request.headers.get("authorization"), ARM_AUDIENCES)
            query = _single_query(request)
            version = query.get("api-version", "")
            if not version and m.kind not in ADMIN:
                raise e.InvalidInput("The api-version query parameter (?api-version=) is required for all "
                                     "requests.", code="MissingApiVersionParameter")
            body = await _json_body(request) if request.method in ("PUT", "PATCH", "POST") else None
            status, out = await run_in_threadpool(handle, svc.caller(claims), request.method, m, version, body, query)
        except e.Unauthenticated as err:
            return _unauthenticated(err, endpoints, svc.settings.tenant_id, headers)
        except e.AzmiError as err:
            status, out = wire_errors.arm(err)
        except Exception:  # never a bare 500: log it, answer in ARM's shape
            log.exception("unexpected error on %s %s", request.method, request.url.path)
            status, out = 500, {"error": {"code": "InternalServerError", "message":
                                          "The server encountered an internal error; see the azmi log."}}
        if out is None:
            return Response(status_code=status, headers=headers)
        return _json(status, out, headers)

    methods = ["GET", "PUT", "PATCH", "DELETE", "HEAD", "POST"]
    return Starlette(routes=[Route("/{path:path}", dispatch, methods=methods)])


def _json(status: int, body: Any, headers: dict[str, str]) -> Response:
    return Response(json.dumps(body), status, headers=headers, media_type="application/json; charset=utf-8")


def _unauthenticated(err: e.Unauthenticated, endpoints: Endpoints, tenant: str, headers: dict[str, str]) -> Response:
    missing = err.code == "AuthenticationFailed"
    message = ("Authentication failed. The 'Authorization' header is missing." if missing
               else f"The access token is invalid. {err.message}")
    headers = dict(headers)
    headers["WWW-Authenticate"] = (f'Bearer authorization_uri="{endpoints.login}/{tenant}", error="invalid_token", '
                                   f'error_description="{message}"')
    code = "AuthenticationFailed" if missing else "InvalidAuthenticationToken"
    return _json(401, {"error": {"code": code, "message": message}}, headers)


def _single_query(request: Request) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in request.query_params.multi_items():
        if k in out:
            raise e.InvalidInput(f"The query parameter '{k}' is repeated.", code="InvalidQueryParameter")
        out[k] = v
    return out


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise e.InvalidInput("The request content size exceeds the maximum of 1 MB.", code="RequestTooLarge")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise e.InvalidInput(f"The request content was invalid and could not be deserialized: '{exc}'.",
                             code="InvalidRequestContent") from None
    except RecursionError:
        raise e.InvalidInput("The request content was invalid and could not be deserialized: it is nested "
                             "too deeply.", code="InvalidRequestContent") from None
    if not isinstance(body, dict):
        raise e.InvalidInput("The request content was invalid and could not be deserialized: an object is "
                             "expected.", code="InvalidRequestContent")
    return body
