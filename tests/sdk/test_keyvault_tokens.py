"""A vault rejects every token it should not accept, and a rejected request changes nothing.

Each bad token goes out as a raw `PUT /secrets/{name}` that would write a new version if it got
through; each answer must be Key Vault's 401: `WWW-Authenticate: Bearer authorization="…",
resource="https://vault.azure.net"` and `{"error": {"code": "Unauthorized", …}}`. Afterwards the
secret still has its value and exactly one version.

The forgeries are built with PyJWT from a valid token's claims. Without azmi's private key, a
forged expired / not-yet-valid / wrong-issuer token fails already at the signature step (the
order is kid, signature, iss, aud, lifetime); the lifetime and issuer checks proper are covered
in-process with a fixed clock in tests/http/test_keyvault.py. A wrong audience is a genuine token
(for `https://vault.azure.net/`, trailing slash), so it reaches the audience check (AKV10022).
A token from another tenant comes from a second azmi with its own tenant and keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import Server, start_server, stop_server
from tests.sdk.helpers import imds_get, imds_host
from tests.sdk.keyvault_helpers import create_vault, grant, operator_token

SECRET = "tamper-target"
ORIGINAL = "the-original-value"
API = "7.5"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())


def fresh_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def setup(server: Server) -> dict[str, Any]:
    group = server.new_group()
    vault = create_vault(server, group, rbac=True)
    grant(server, vault["id"], "Key Vault Secrets Officer", server.operator["object_id"])
    token = operator_token(server)
    uri = vault["properties"]["vaultUri"]
    r = server.client.put(f"{uri}secrets/{SECRET}", params={"api-version": API}, json={"value": ORIGINAL},
                          headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    jwks = server.client.get(f"{server.info['login']}/{server.info['tenant_id']}/discovery/v2.0/keys").json()
    return {"vault": vault, "uri": uri, "token": token, "group": group, "jwks": jwks}


@pytest.fixture(scope="module")
def other_tenant_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    other = str(uuid.uuid4())
    s = start_server(Path(tmp_path_factory.mktemp("azmi-other-tenant")), env={"AZMI_TENANT_ID": other})
    try:
        token = operator_token(s)
        assert jwt.decode(token, options={"verify_signature": False})["tid"] == other
        yield token
    finally:
        stop_server(s)


def forgeries(server: Server, setup: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    """name -> (token, a fragment the error message must contain, or None)."""
    valid = setup["token"]
    header = jwt.get_unverified_header(valid)
    claims = jwt.decode(valid, options={"verify_signature": False})
    now = int(time.time())
    out: dict[str, tuple[str, str | None]] = {}

    head, body, sig = valid.split(".")
    raw = bytearray(b64url_decode(sig))
    raw[len(raw) // 2] ^= 0x01
    out["forged signature"] = (f"{head}.{body}.{b64url(bytes(raw))}", "signature")

    out["unknown kid"] = (jwt.encode(claims, fresh_key(), algorithm="RS256",
                                     headers={"kid": "unknown-kid-1234", "x5t": "unknown-kid-1234"}), "signing key")
    out["alg none"] = (unsigned({"typ": "JWT", "alg": "none", "kid": header["kid"]}, claims) + ".", "algorithm")

    cert = x509.load_der_x509_certificate(base64.b64decode(
        next(k for k in setup["jwks"]["keys"] if k["kid"] == header["kid"])["x5c"][0]))
    pem = cert.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = unsigned({"typ": "JWT", "alg": "HS256", "kid": header["kid"]}, claims)
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    out["HS256 with the public key"] = (f"{signing_input}.{b64url(mac)}", "algorithm")

    def resigned(**changes: Any) -> str:  # the published kid, a key that is not azmi's
        return jwt.encode({**claims, **changes}, fresh_key(), algorithm="RS256",
                          headers={"kid": header["kid"], "x5t": header["kid"]})

    out["expired"] = (resigned(iat=now - 7200, nbf=now - 7200, exp=now - 301 - 60), "signature")
    out["not yet valid"] = (resigned(iat=now + 600, nbf=now + 600, exp=now + 4200), "signature")
    other = str(uuid.uuid4())
    out["wrong issuer"] = (resigned(iss=f"https://sts.windows.net/{other}/"), "signature")
    return out


def assert_unauthorized(r: httpx.Response, login: str, tenant: str) -> str:
    assert r.status_code == 401, r.text
    challenge = r.headers["WWW-Authenticate"]
    assert challenge.startswith(f'Bearer authorization="{login}/{tenant}"'), challenge
    assert 'resource="https://vault.azure.net"' in challenge
    error = r.json()["error"]
    assert error["code"] == "Unauthorized"
    return str(error["message"])


def test_every_bad_token_is_401_and_changes_nothing(server: Server, setup: dict[str, Any],
                                                    other_tenant_token: str) -> None:
    uri, login, tenant = setup["uri"], server.info["login"], server.info["tenant_id"]
    cases = forgeries(server, setup)

    # A genuine token whose audience carries a trailing slash (IMDS echoes the resource as asked).
    vm = server.put("vm", setup["group"], "vm-aud", {"identity": {"type": "SystemAssigned"}}, expect=201)
    grant(server, setup["vault"]["id"], "Key Vault Secrets Officer", vm["identity"]["principalId"])
    got = imds_get(imds_host(server, vm["id"]), resource="https://vault.azure.net/")
    assert got.status_code == 200, got.text
    slash = got.json()["access_token"]
    assert jwt.decode(slash, options={"verify_signature": False})["aud"] == "https://vault.azure.net/"
    cases["wrong audience"] = (slash, "AKV10022")
    cases["another tenant"] = (other_tenant_token, None)

    seen = {}
    for name, (token, fragment) in cases.items():
        r = server.client.put(f"{uri}secrets/{SECRET}", params={"api-version": API},
                              json={"value": f"pwned by {name}"}, headers={"Authorization": f"Bearer {token}"})
        message = assert_unauthorized(r, login, tenant)
        if fragment:
            assert fragment in message, (name, message)
        seen[name] = message
    assert seen["wrong audience"].startswith("AKV10022: Invalid audience.")
    assert "https://vault.azure.net/" in seen["wrong audience"]
    # Another tenant's azmi signs with keys this one never published (or, if shared, names another issuer).
    assert "signing key" in seen["another tenant"] or seen["another tenant"].startswith("AKV10032:")

    # Nothing reached the data: the value and the single version are what they were.
    auth = {"Authorization": f"Bearer {setup['token']}"}
    current = server.client.get(f"{uri}secrets/{SECRET}/", params={"api-version": API}, headers=auth)
    assert current.status_code == 200 and current.json()["value"] == ORIGINAL
    versions = server.client.get(f"{uri}secrets/{SECRET}/versions", params={"api-version": API}, headers=auth)
    assert versions.status_code == 200
    assert [v["id"] for v in versions.json()["value"]] == [current.json()["id"]]


def test_missing_or_non_bearer_authorization(server: Server, setup: dict[str, Any]) -> None:
    uri, login, tenant = setup["uri"], server.info["login"], server.info["tenant_id"]
    bare = server.client.get(f"{uri}secrets/{SECRET}/", params={"api-version": API})
    assert assert_unauthorized(bare, login, tenant) == "AKV10000: Request is missing a Bearer or PoP token."
    assert bare.headers["WWW-Authenticate"] == (f'Bearer authorization="{login}/{tenant}", '
                                                'resource="https://vault.azure.net"')
    basic = server.client.get(f"{uri}secrets/{SECRET}/", params={"api-version": API},
                              headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_unauthorized(basic, login, tenant)
    # An ARM token is a valid token, for the wrong audience.
    arm = server.client.get(f"{uri}secrets/{SECRET}/", params={"api-version": API},
                            headers={"Authorization": f"Bearer {server.token()}"})
    assert assert_unauthorized(arm, login, tenant).startswith("AKV10022:")
