"""Claims of the v1 access tokens Entra issues to managed identities (azure-wire.md §3).

Pure: the same inputs and clock give the same claims. `xms_mirid` is a first-party-only
claim, so it is emitted only when the audience is a Microsoft first-party resource.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlparse

from azmi.domain.models import Principal

FIRST_PARTY_SUFFIXES = (".azure.com", ".azure.net", ".windows.net", ".microsoft.com", ".core.windows.net")
AZURE_CLI_APP_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"


def issuer(tenant_id: str) -> str:
    return f"https://sts.windows.net/{tenant_id}/"


def is_first_party(audience: str) -> bool:
    host = (urlparse(audience).hostname or "").lower()
    return any(host.endswith(s) or host == s.lstrip(".") for s in FIRST_PARTY_SUFFIXES)


def _opaque(seed: str, n: int) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(seed.encode()).digest()[:n]).decode().rstrip("=")


def managed_identity_claims(*, tenant_id: str, principal: Principal, audience: str, issued_at: int,
                            lifetime: int, uti: str) -> dict[str, object]:
    iss = issuer(tenant_id)
    claims: dict[str, object] = {
        "aud": audience,
        "iss": iss,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + lifetime,
        "aio": _opaque("aio" + uti, 24),
        "appid": principal.client_id,
        "appidacr": "2",
        "idp": iss,
        "idtyp": "app",
        "oid": principal.object_id,
        "rh": _opaque("rh" + uti, 18),
        "sub": principal.object_id,
        "tid": tenant_id,
        "uti": uti,
        "ver": "1.0",
    }
    if principal.mi_resource_id and is_first_party(audience):
        claims["xms_mirid"] = principal.mi_resource_id
    return claims


def operator_claims(*, tenant_id: str, principal: Principal, audience: str, issued_at: int,
                    lifetime: int, uti: str, upn: str) -> dict[str, object]:
    """A delegated (user) token like the one `az login` gets through the Azure CLI app."""
    iss = issuer(tenant_id)
    return {
        "aud": audience,
        "iss": iss,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + lifetime,
        "acr": "1",
        "aio": _opaque("aio" + uti, 24),
        "amr": ["pwd"],
        "appid": AZURE_CLI_APP_ID,
        "appidacr": "0",
        "idtyp": "user",
        "name": principal.display_name,
        "oid": principal.object_id,
        "scp": "user_impersonation",
        "sub": _opaque("sub" + principal.object_id, 32),
        "tid": tenant_id,
        "unique_name": upn,
        "upn": upn,
        "uti": uti,
        "ver": "1.0",
    }
