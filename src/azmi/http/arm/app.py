"""The ARM application: authenticate, match the path, make one service call, render.

Every request needs `api-version` and a bearer token for `https://management.azure.com`
(verified fully against azmi's keyring). Responses are synchronous: PUT answers 201/200 with
`provisioningState: Succeeded`, DELETE 200 (or 204 when there was nothing to delete).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from azmi import errors as e
from azmi.domain import resource_types
from azmi.http import errors as wire_errors
from azmi.http.arm import render
from azmi.http.arm.environment import workload_environment
from azmi.http.arm.paths import Match, match
from azmi.http.endpoints import Endpoints
from azmi.ids import ResourceId, parse_resource_id
from azmi.services.system import Services

MAX_BODY = 1024 * 1024
ARM_AUDIENCES = ("https://management.azure.com", "https://management.azure.com/",
                 "https://management.core.windows.net", "https://management.core.windows.net/")
RESOURCES_VERSIONS = ("2014-04-01", "2015-01-01", "2015-11-01", "2016-02-01", "2016-06-01", "2016-09-01",
                      "2017-05-10", "2018-02-01", "2018-05-01", "2019-05-01", "2019-05-10", "2019-06-01",
                      "2019-07-01", "2019-08-01", "2019-10-01", "2020-01-01", "2020-06-01", "2020-08-01",
                      "2020-10-01", "2021-01-01", "2021-04-01", "2022-01-01", "2022-09-01", "2022-12-01",
                      "2023-07-01", "2024-03-01", "2024-07-01", "2024-11-01", "2025-03-01", "2025-04-01")
ALIAS_VERSIONS = ("2020-09-01", "2021-10-01", "2024-08-01-preview")
MSI_VERSIONS = resource_types.lookup("Microsoft.ManagedIdentity", "userAssignedIdentities").api_versions


def _check_version(version: str, allowed: tuple[str, ...]) -> None:
    if version not in allowed:
        raise e.InvalidInput(f"The api-version '{version}' is invalid. The supported versions are "
                             f"'{','.join(reversed(allowed))}'.", code="InvalidApiVersionParameter")


def create_arm_app(svc: Services, endpoints: Endpoints, trust_bundle: str) -> Starlette:
    control = svc.control
    tenant = svc.settings.tenant_id

    def handle(method: str, m: Match, version: str, body: Any, query: dict[str, str]) -> tuple[int, Any]:
        if m.kind == "environment":
            rid = parse_resource_id(query.get("resourceId", ""), what="resourceId")
            return 200, workload_environment(control.get_resource(rid), endpoints, trust_bundle)
        if m.kind in ("keys", "rotate_keys"):
            if m.kind == "rotate_keys":
                svc.keyring.rotate()
            return 200, {"active": svc.keyring.active.kid, "keys": svc.keyring.jwks()["keys"]}
        if m.kind in ("alias", "aliases"):
            _check_version(version, ALIAS_VERSIONS)
            if m.kind == "aliases":
                return 200, {"value": [render.alias(s) for s in control.list_subscriptions() if s.alias]}
            if method == "PUT":
                props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
                s, created = control.create_subscription(m.name, props.get("displayName", m.name))
                return (201 if created else 200), render.alias(s)
            return 200, render.alias(control.get_alias(m.name))
        if m.kind == "bad_subscription":
            raise e.InvalidInput(f"The provided subscription identifier '{m.sub}' is malformed or invalid.",
                                 code="InvalidSubscriptionId")
        if m.kind in ("subscriptions", "subscription", "groups", "group", "resources"):
            _check_version(version, RESOURCES_VERSIONS)
        if m.kind == "subscriptions":
            return 200, {"value": [render.subscription(s) for s in control.list_subscriptions()]}
        if m.kind == "subscription":
            return 200, render.subscription(control.get_subscription(m.sub))
        if m.kind == "groups":
            return 200, {"value": [render.group(g) for g in control.list_groups(m.sub)]}
        if m.kind == "group":
            if method in ("PUT", "PATCH"):
                if method == "PATCH":
                    current = control.get_group(m.sub, m.group)
                    body = {"location": current.location, "tags": body.get("tags", current.tags)}
                g, created = control.put_group(m.sub, m.group, body)
                return (201 if created else 200), render.group(g)
            if method == "DELETE":
                return (200 if control.delete_group(m.sub, m.group) else 204), None
            if method == "HEAD":
                control.get_group(m.sub, m.group)
                return 204, None
            return 200, render.group(control.get_group(m.sub, m.group))
        if m.kind == "resources":
            items = control.list_resources(m.sub, m.group or None)
            return 200, {"value": [render.resource(r, tenant, version) for r in items]}
        rtype = resource_types.lookup(m.namespace, m.type)
        if m.kind == "system_identity":
            _check_version(version, MSI_VERSIONS)
            r, p = control.system_identity(str(m.resource_id))
            return 200, render.system_identity(r, p, tenant)
        rtype.check_api_version(version)
        if m.kind in ("list_by_sub", "list_by_group"):
            items = control.list_resources(m.sub, m.group or None, rtype.full)
            return 200, {"value": [render.resource(r, tenant, version) for r in items]}
        rid = ResourceId(m.sub.lower(), m.group, rtype.namespace, rtype.type, m.name)
        if method in ("PUT", "PATCH"):
            r, created = control.put_resource(rid, body, patch=method == "PATCH")
            return (201 if created else 200), render.resource(r, tenant, version)
        if method == "DELETE":
            return (200 if control.delete_resource(rid) else 204), None
        return 200, render.resource(control.get_resource(rid), tenant, version)

    allowed_methods: dict[str, tuple[str, ...]] = {
        "group": ("GET", "PUT", "PATCH", "DELETE", "HEAD"), "resource": ("GET", "PUT", "PATCH", "DELETE"),
        "alias": ("GET", "PUT"), "rotate_keys": ("POST",)}

    async def dispatch(request: Request) -> Response:
        headers = {"x-ms-request-id": str(uuid.uuid4()), "x-ms-correlation-request-id": str(uuid.uuid4())}
        try:
            m = match(request.url.path)
            if m is None:
                raise e.NotFound(f"No HTTP resource was found that matches the request URI "
                                 f"'{request.url}'.", code="InvalidResourceType" if "/providers/" in
                                 request.url.path else "NotFound")
            methods = allowed_methods.get(m.kind, ("GET",))
            if request.method not in methods:
                return _json(405, {"error": {"code": "MethodNotAllowed", "message":
                                             f"The requested resource does not support http method "
                                             f"'{request.method}'."}}, headers)
            svc.authn.authenticate(request.headers.get("authorization"), ARM_AUDIENCES)
            query = _single_query(request)
            version = query.get("api-version", "")
            if not version and m.kind not in ("environment", "keys", "rotate_keys"):
                raise e.InvalidInput("The api-version query parameter (?api-version=) is required for all "
                                     "requests.", code="MissingApiVersionParameter")
            body = await _json_body(request) if request.method in ("PUT", "PATCH") else None
            status, out = await run_in_threadpool(handle, request.method, m, version, body, query)
        except e.Unauthenticated as err:
            return _unauthenticated(err, endpoints, tenant, headers)
        except e.AzmiError as err:
            status, out = wire_errors.arm(err)
        if out is None:
            return Response(status_code=status, headers=headers)
        return _json(status, out, headers)

    methods = ["GET", "PUT", "PATCH", "DELETE", "HEAD", "POST"]
    return Starlette(routes=[Route("/{path:path}", dispatch, methods=methods)])


def _json(status: int, body: Any, headers: dict[str, str]) -> Response:
    return Response(json.dumps(body), status, headers=headers, media_type="application/json; charset=utf-8")


def _unauthenticated(err: e.Unauthenticated, endpoints: Endpoints, tenant: str,
                     headers: dict[str, str]) -> Response:
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
    except (ValueError, UnicodeDecodeError) as exc:
        raise e.InvalidInput(f"The request content was invalid and could not be deserialized: '{exc}'.",
                             code="InvalidRequestContent") from None
    if not isinstance(body, dict):
        raise e.InvalidInput("The request content was invalid and could not be deserialized: an object is "
                             "expected.", code="InvalidRequestContent")
    return body


