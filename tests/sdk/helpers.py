"""Shared helpers for the black-box SDK tests.

- ARM look-ups a user would do (`identity_of`: principal and client id of a resource's
  system-assigned identity; `uami`: create a user-assigned identity).
- Child-process snippets that run the unmodified SDK and print what it got (`TOKEN <jwt>` or
  `ERROR <type> <message>`); `token_from` / `error_from` read them back.
- `verify`: check a token the way a relying party does, with PyJWT against the JWKS named by
  the server's OIDC discovery document (signature, iss, aud, exp).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import jwt

from tests.conftest import Server

VAULT = "https://vault.azure.net"
VAULT_SCOPE = VAULT + "/.default"
MSI_API = "2024-11-30"
SYSTEM_IDENTITY = "/providers/Microsoft.ManagedIdentity/identities/default"


# --- ARM --------------------------------------------------------------------------------------

def identity_of(server: Server, resource_id: str) -> dict[str, str]:
    """`GET {resource}/providers/Microsoft.ManagedIdentity/identities/default` -> properties."""
    r = server.arm("GET", resource_id + SYSTEM_IDENTITY, MSI_API, expect=200)
    props = r.json()["properties"]
    return {"principalId": props["principalId"], "clientId": props["clientId"], "tenantId": props["tenantId"]}


def uami(server: Server, group: str, name: str | None = None) -> dict[str, Any]:
    """Create a user-assigned identity; returns its ARM body (id, properties.principalId/clientId)."""
    body = server.put("msi", group, name or f"id-{uuid.uuid4().hex[:8]}", {}, expect=201)
    return body


def user_assigned(*uamis: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {u["id"]: {} for u in uamis}


# --- tokens -----------------------------------------------------------------------------------

def discovery(server: Server) -> dict[str, Any]:
    tenant = server.info["tenant_id"]
    r = server.client.get(f"{server.info['login']}/{tenant}/.well-known/openid-configuration")
    r.raise_for_status()
    return dict(r.json())


def jwks(server: Server) -> jwt.PyJWKSet:
    r = server.client.get(discovery(server)["jwks_uri"])
    r.raise_for_status()
    return jwt.PyJWKSet.from_dict(r.json())


def verify(server: Server, token: str, audience: str = VAULT) -> dict[str, Any]:
    """Verify like a relying party: key by kid from the published JWKS, RS256, iss, aud, exp."""
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert header.get("x5t") == header["kid"]
    keys = {k.key_id: k for k in jwks(server).keys}
    assert header["kid"] in keys, f"kid {header['kid']} not in the published JWKS"
    issuer = discovery(server)["issuer"]
    assert issuer == f"https://sts.windows.net/{server.info['tenant_id']}/"
    claims = jwt.decode(token, keys[header["kid"]].key, algorithms=["RS256"], audience=audience, issuer=issuer,
                        options={"require": ["exp", "iat", "nbf", "iss", "aud", "oid", "sub"]})
    assert claims["exp"] > time.time()
    assert claims["oid"] == claims["sub"]
    assert claims["tid"] == server.info["tenant_id"]
    return dict(claims)


def assert_principal(claims: dict[str, Any], principal_id: str, client_id: str) -> None:
    assert claims["oid"] == principal_id, "token is not for the expected identity"
    assert claims["appid"] == client_id


# --- code run "on" a resource -----------------------------------------------------------------

PROD = "import os\nos.environ['AZURE_TOKEN_CREDENTIALS'] = 'prod'\n"

SYNC = """
from azure.identity import {cls}
try:
    cred = {cls}({kwargs})
    print("TOKEN", cred.get_token({scope!r}).token)
except Exception as exc:
    print("ERROR", type(exc).__name__, str(exc).replace("\\n", " "))
"""

ASYNC = """
import asyncio
from azure.identity.aio import {cls}

async def main():
    try:
        async with {cls}({kwargs}) as cred:
            print("TOKEN", (await cred.get_token({scope!r})).token)
    except Exception as exc:
        print("ERROR", type(exc).__name__, str(exc).replace("\\n", " "))

asyncio.run(main())
"""


def snippet(cls: str = "ManagedIdentityCredential", kwargs: str = "", *, use_async: bool = False,
            scope: str = VAULT_SCOPE) -> str:
    """Code that builds `cls(kwargs)` from azure.identity (or .aio) and prints its token or error."""
    body = (ASYNC if use_async else SYNC).format(cls=cls, kwargs=kwargs, scope=scope)
    return (PROD if cls == "DefaultAzureCredential" else "") + body


def _outcome(server: Server, resource_id: str, code: str) -> tuple[str, str]:
    p = server.run_python(resource_id, code)
    assert p.returncode == 0, p.stderr[-3000:]
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith(("TOKEN ", "ERROR "))]
    assert len(lines) == 1, f"stdout={p.stdout!r} stderr={p.stderr[-2000:]!r}"
    kind, _, rest = lines[0].partition(" ")
    return kind, rest


def token_from(server: Server, resource_id: str, code: str) -> str:
    kind, rest = _outcome(server, resource_id, code)
    assert kind == "TOKEN", rest
    return rest.strip()


def error_from(server: Server, resource_id: str, code: str) -> tuple[str, str]:
    """(exception type name, message) of a snippet that is expected to fail."""
    kind, rest = _outcome(server, resource_id, code)
    assert kind == "ERROR", "expected an error, got a token"
    name, _, message = rest.partition(" ")
    return name, message


def imds_host(server: Server, resource_id: str) -> str:
    return str(server.environment(resource_id)["set"]["AZURE_POD_IDENTITY_AUTHORITY_HOST"])


def imds_get(url: str, resource: str = VAULT, headers: dict[str, str] | None = None,
             **params: str) -> httpx.Response:
    """A raw, curl-like IMDS token request against `url` (the AZURE_POD_IDENTITY_AUTHORITY_HOST)."""
    return httpx.get(url.rstrip("/") + "/metadata/identity/oauth2/token",
                     params={"api-version": "2018-02-01", "resource": resource, **params},
                     headers={"Metadata": "true"} if headers is None else headers, timeout=10)
