"""The Entra ID side: OIDC discovery, JWKS and the token endpoint (azure-wire.md §3.5, sdk-compat §3.3).

Discovery documents name the v1 issuer `https://sts.windows.net/{tid}/` (what managed-identity
tokens carry) and azmi's own JWKS URL; the JWKS holds public members only. The token endpoint
serves the operator (client credentials through the Azure CLI app id); managed identities
never come here, they get tokens from IMDS or App Service.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from azmi import errors as e
from azmi.http import errors as wire_errors
from azmi.http.endpoints import Endpoints
from azmi.http.wire import duplicated, health
from azmi.services.system import Services
from azmi.tokens.claims import issuer

MAX_FORM = 64 * 1024
TENANT_ALIASES = ("common", "organizations")


def create_login_app(svc: Services, endpoints: Endpoints) -> Starlette:
    tenant_id = svc.settings.tenant_id

    def tenant_of(request: Request) -> str:
        tenant = request.path_params["tenant"].lower()
        if tenant != tenant_id and tenant not in TENANT_ALIASES:
            raise e.NotFound(f"AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct "
                             "tenant ID and are signing into the correct cloud.")
        return tenant_id

    def fail(err: e.AzmiError) -> Response:
        status, body = wire_errors.login(err)
        return JSONResponse(body, status)

    def discovery(v2: bool):  # type: ignore[no-untyped-def]
        async def handler(request: Request) -> Response:
            try:
                tid = tenant_of(request)
            except e.AzmiError as err:
                return fail(err)
            base = f"{endpoints.login}/{tid}"
            doc: dict[str, Any] = {
                "token_endpoint": f"{base}/oauth2/v2.0/token" if v2 else f"{base}/oauth2/token",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                          "client_secret_basic"],
                "jwks_uri": f"{endpoints.login}/{tid}/discovery/v2.0/keys" if v2
                else f"{endpoints.login}/common/discovery/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{endpoints.login}/{tid}/v2.0" if v2 else issuer(tid),
                "request_uri_parameter_supported": False,
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize" if v2 else f"{base}/oauth2/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode" if v2
                else f"{base}/oauth2/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{base}/oauth2/v2.0/logout" if v2 else f"{base}/oauth2/logout",
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "oid", "tid", "appid", "ver"],
                "tenant_region_scope": "NA",
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
                "rbac_url": endpoints.arm,
            }
            return JSONResponse(doc)
        return handler

    async def keys(request: Request) -> Response:
        if "tenant" in request.path_params:
            try:
                tenant_of(request)
            except e.AzmiError as err:
                return fail(err)
        return JSONResponse(svc.keyring.jwks())

    def token(v2: bool):  # type: ignore[no-untyped-def]
        async def handler(request: Request) -> Response:
            try:
                tenant_of(request)
                body = await request.body()
                if len(body) > MAX_FORM:
                    raise e.InvalidInput("AADSTS900144: The request body is too large.")
                pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
                if duplicated(pairs):
                    raise e.InvalidInput("AADSTS90015: Requested query string is too long or a parameter is "
                                         "repeated.")
                form = dict(pairs)
                grant = form.get("grant_type")
                if grant != "client_credentials":
                    raise e.InvalidInput(f"AADSTS70003: The app requested an unsupported grant type '{grant}'.",
                                         code="unsupported_grant_type")
                client_id, secret = str(form.get("client_id") or ""), str(form.get("client_secret") or "")
                if not client_id:
                    raise e.InvalidInput("AADSTS900144: The request body must contain the following parameter: "
                                         "'client_id'.")
                if v2:
                    scope = str(form.get("scope") or "")
                    if not scope.endswith("/.default") or " " in scope.strip():
                        raise e.InvalidInput("AADSTS1002012: The provided value for scope is not valid. Client "
                                             "credential flows must have a scope value with /.default suffixed "
                                             "to the resource identifier (application ID URI).",
                                             code="invalid_scope")
                    resource = scope.strip()[: -len("/.default")]
                else:
                    resource = str(form.get("resource") or "")
                access_token, expires_on = svc.operator.token(client_id, secret, resource)
            except e.AzmiError as err:
                return fail(err)
            now = int(svc.clock.now())
            out: dict[str, Any] = {"token_type": "Bearer", "expires_in": expires_on - now,
                                   "ext_expires_in": expires_on - now, "access_token": access_token}
            if not v2:
                out.update(expires_on=str(expires_on), not_before=str(now), resource=resource)
            return JSONResponse(out)
        return handler

    async def probe(request: Request) -> Response:
        res = await run_in_threadpool(health, request.url.path, svc.ready)
        return Response(res.body, res.status, media_type="application/json")

    routes = [
        Route("/healthz", probe),
        Route("/readyz", probe),
        Route("/{tenant}/v2.0/.well-known/openid-configuration", discovery(True)),
        Route("/{tenant}/.well-known/openid-configuration", discovery(False)),
        Route("/common/discovery/keys", keys),
        Route("/common/discovery/v2.0/keys", keys),
        Route("/{tenant}/discovery/keys", keys),
        Route("/{tenant}/discovery/v2.0/keys", keys),
        Route("/{tenant}/oauth2/v2.0/token", token(True), methods=["POST"]),
        Route("/{tenant}/oauth2/token", token(False), methods=["POST"]),
    ]
    return Starlette(routes=routes)
