"""The Entra side: OIDC discovery, JWKS and the operator's token endpoint (azure-wire.md §3.5, sdk-compat §3.3)."""

from __future__ import annotations

import base64
import hashlib

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from azmi.tokens.claims import AZURE_CLI_APP_ID
from tests.http.helpers import MGMT, VAULT, claims

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def tenant(wire) -> str:  # type: ignore[no-untyped-def]
    return wire.settings.tenant_id


def form(wire, **overrides: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    base = {"grant_type": "client_credentials", "client_id": AZURE_CLI_APP_ID,
            "client_secret": wire.azmi.services.operator.secret, "scope": "https://management.azure.com/.default"}
    return {**base, **overrides}


def oauth_error(r, status: int, code: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == code, body
    assert {"error", "error_description", "error_codes", "trace_id", "correlation_id"} <= set(body)
    assert "access_token" not in body
    return dict(body)


# -- discovery -------------------------------------------------------------------------------------------
def test_v1_discovery(wire):  # type: ignore[no-untyped-def]
    tid = tenant(wire)
    r = wire.login.get(f"/{tid}/.well-known/openid-configuration")
    assert r.status_code == 200
    doc = r.json()
    assert doc["issuer"] == f"https://sts.windows.net/{tid}/"
    assert doc["jwks_uri"] == "https://login.test/common/discovery/keys"
    assert doc["token_endpoint"] == f"https://login.test/{tid}/oauth2/token"
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]


def test_v2_discovery(wire):  # type: ignore[no-untyped-def]
    tid = tenant(wire)
    doc = wire.login.get(f"/{tid}/v2.0/.well-known/openid-configuration").json()
    assert doc["issuer"] == f"https://login.test/{tid}/v2.0"
    assert doc["token_endpoint"] == f"https://login.test/{tid}/oauth2/v2.0/token"
    assert doc["jwks_uri"].startswith("https://login.test/") and doc["jwks_uri"].endswith("/discovery/v2.0/keys")
    assert wire.login.get(doc["jwks_uri"].removeprefix("https://login.test")).status_code == 200


@pytest.mark.parametrize("alias", ["common", "organizations"])
def test_discovery_under_tenant_aliases(wire, alias):  # type: ignore[no-untyped-def]
    doc = wire.login.get(f"/{alias}/v2.0/.well-known/openid-configuration").json()
    assert doc["issuer"] == f"https://login.test/{tenant(wire)}/v2.0"


def test_discovery_of_the_tenant_is_case_insensitive(wire):  # type: ignore[no-untyped-def]
    r = wire.login.get(f"/{tenant(wire).upper()}/.well-known/openid-configuration")
    assert r.status_code == 200
    assert r.json()["issuer"] == f"https://sts.windows.net/{tenant(wire)}/"


def test_unknown_tenant_discovery_is_400(wire):  # type: ignore[no-untyped-def]
    r = wire.login.get("/11111111-2222-3333-4444-555555555555/v2.0/.well-known/openid-configuration")
    body = oauth_error(r, 400, "invalid_tenant")
    assert body["error_codes"] == [90002]


# -- JWKS ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/common/discovery/keys", "/common/discovery/v2.0/keys",
                                  "/{tid}/discovery/keys", "/{tid}/discovery/v2.0/keys"])
def test_jwks_has_public_members_only(wire, path):  # type: ignore[no-untyped-def]
    r = wire.login.get(path.format(tid=tenant(wire)))
    assert r.status_code == 200
    keys = r.json()["keys"]
    assert keys
    for k in keys:
        assert not PRIVATE_MEMBERS & set(k), k.keys()
        assert k["kty"] == "RSA" and k["use"] == "sig" and k["e"] == "AQAB"
        assert k["kid"] == k["x5t"]
        der = base64.b64decode(k["x5c"][0])
        thumb = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).decode().rstrip("=")
        assert k["x5t"] == thumb
        cert = x509.load_der_x509_certificate(der)
        cert_n = cert.public_key().public_numbers().n  # type: ignore[union-attr]
        jwk_n = int.from_bytes(base64.urlsafe_b64decode(k["n"] + "=" * (-len(k["n"]) % 4)), "big")
        assert cert_n == jwk_n


def test_jwks_verifies_a_workload_token(wire):  # type: ignore[no-untyped-def]
    from tests.http.helpers import imds_token, new_group, with_system
    vm = with_system(wire, "vm", new_group(wire))
    token = imds_token(wire, vm["id"], VAULT).json()["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["kid"] == header["x5t"]
    jwk = next(k for k in wire.login.get("/common/discovery/keys").json()["keys"] if k["kid"] == header["kid"])
    public = jwt.PyJWK(jwk).key
    assert isinstance(public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
                      bytes)
    verified = jwt.decode(token, public, algorithms=["RS256"], audience=VAULT,
                          issuer=f"https://sts.windows.net/{tenant(wire)}/", options={"verify_exp": False,
                                                                                      "verify_iat": False,
                                                                                      "verify_nbf": False})
    assert verified["oid"] == vm["identity"]["principalId"]


# -- token endpoint ------------------------------------------------------------------------------------------
def test_v2_token_for_the_operator(wire):  # type: ignore[no-untyped-def]
    r = wire.login.post(f"/{tenant(wire)}/oauth2/v2.0/token", data=form(wire))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == wire.settings.token_lifetime
    c = claims(body["access_token"])
    assert c["aud"] == "https://management.azure.com"  # the scope minus "/.default"
    assert c["iss"] == f"https://sts.windows.net/{tenant(wire)}/"
    assert c["appid"] == AZURE_CLI_APP_ID
    assert c["oid"] == wire.azmi.services.operator.principal.object_id
    # the token works on ARM
    arm = wire.arm.get(f"/subscriptions/{wire.sub}/resourcegroups", params={"api-version": "2022-09-01"},
                       headers={"Authorization": f"Bearer {body['access_token']}"})
    assert arm.status_code == 200, arm.text


def test_v1_token_for_the_operator(wire):  # type: ignore[no-untyped-def]
    data = form(wire, resource=MGMT)
    del data["scope"]
    r = wire.login.post(f"/{tenant(wire)}/oauth2/token", data=data)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["resource"] == MGMT
    now = int(wire.clock.now())
    assert body["expires_on"] == str(now + wire.settings.token_lifetime)
    assert body["not_before"] == str(now)
    assert claims(body["access_token"])["aud"] == MGMT


def test_token_under_common_alias(wire):  # type: ignore[no-untyped-def]
    r = wire.login.post("/organizations/oauth2/v2.0/token", data=form(wire))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("secret", ["wrong", "", None])
def test_wrong_secret_is_401_invalid_client(wire, secret):  # type: ignore[no-untyped-def]
    data = form(wire)
    if secret is None:
        del data["client_secret"]
    else:
        data["client_secret"] = secret
    body = oauth_error(wire.login.post(f"/{tenant(wire)}/oauth2/v2.0/token", data=data), 401, "invalid_client")
    assert body["error_codes"] == [7000215]


def test_other_client_id_is_401(wire):  # type: ignore[no-untyped-def]
    r = wire.login.post(f"/{tenant(wire)}/oauth2/v2.0/token",
                        data=form(wire, client_id="11111111-2222-3333-4444-555555555555"))
    oauth_error(r, 401, "invalid_client")


def test_unknown_tenant_is_400(wire):  # type: ignore[no-untyped-def]
    r = wire.login.post("/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token", data=form(wire))
    assert oauth_error(r, 400, "invalid_tenant")["error_codes"] == [90002]


@pytest.mark.parametrize("grant", ["password", "authorization_code", ""])
def test_bad_grant_type_is_400(wire, grant):  # type: ignore[no-untyped-def]
    r = wire.login.post(f"/{tenant(wire)}/oauth2/v2.0/token", data=form(wire, grant_type=grant))
    assert oauth_error(r, 400, "unsupported_grant_type")["error_codes"] == [70003]


@pytest.mark.parametrize("scope", ["https://management.azure.com/", "https://management.azure.com/user_impersonation",
                                   "openid https://management.azure.com/.default", ""])
def test_scope_without_default_is_400(wire, scope):  # type: ignore[no-untyped-def]
    r = wire.login.post(f"/{tenant(wire)}/oauth2/v2.0/token", data=form(wire, scope=scope))
    assert oauth_error(r, 400, "invalid_scope")["error_codes"] == [1002012]


def test_scope_that_is_no_resource_is_400(wire):  # type: ignore[no-untyped-def]
    r = wire.login.post(f"/{tenant(wire)}/oauth2/v2.0/token", data=form(wire, scope="management/.default"))
    assert oauth_error(r, 400, "invalid_resource")["error_codes"] == [500011]


def test_repeated_form_parameter_is_400(wire):  # type: ignore[no-untyped-def]
    body = "&".join(f"{k}={v}" for k, v in form(wire).items()) + "&scope=https%3A%2F%2Fvault.azure.net%2F.default"
    r = wire.login.post(f"/{tenant(wire)}/oauth2/v2.0/token", content=body,
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    oauth_error(r, 400, "invalid_request")


def test_oversize_form_is_400(wire):  # type: ignore[no-untyped-def]
    r = wire.login.post(f"/{tenant(wire)}/oauth2/v2.0/token", data=form(wire, pad="x" * 70_000))
    oauth_error(r, 400, "invalid_request")


def test_token_endpoint_is_post_only(wire):  # type: ignore[no-untyped-def]
    r = wire.login.get(f"/{tenant(wire)}/oauth2/v2.0/token")
    assert r.status_code == 405
