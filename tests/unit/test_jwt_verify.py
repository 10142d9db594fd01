"""tokens.jwt_codec.verify: the numbered checks, each failing with a code that names the step."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from azmi.errors import Unauthenticated
from azmi.tokens.jwt_codec import SKEW_TOLERANCE, sign, verify
from azmi.tokens.keys import SigningKey, generate_key

NOW = 1_800_000_000
ISS = "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/"
AUD = "https://vault.azure.net"


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return generate_key(NOW)


@pytest.fixture(scope="module")
def other_key() -> SigningKey:
    return generate_key(NOW)


def body(**changes: Any) -> dict[str, Any]:
    base = {"aud": AUD, "iss": ISS, "iat": NOW, "nbf": NOW, "exp": NOW + 3600, "oid": "o", "sub": "o"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def check(token: str, key: SigningKey, *, now: float = NOW) -> dict[str, object]:
    return verify(token, find_key=lambda kid: key if kid == key.kid else None, issuers={ISS}, audiences={AUD},
                  now=now)


def fails(token: str, key: SigningKey, code: str, *, now: float = NOW) -> None:
    with pytest.raises(Unauthenticated) as info:
        check(token, key, now=now)
    assert info.value.code == code, info.value.message


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def raw_token(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    return ".".join([b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature)])


def test_a_good_token_verifies(key: SigningKey) -> None:
    token = sign(body(), key)
    header = jwt.get_unverified_header(token)
    assert header == {"typ": "JWT", "alg": "RS256", "kid": key.kid, "x5t": key.kid}
    assert check(token, key)["oid"] == "o"


# 1. header and key
def test_malformed_token(key: SigningKey) -> None:
    fails("not.a.jwt", key, "MalformedToken")
    fails("", key, "MalformedToken")


def test_alg_none(key: SigningKey) -> None:
    fails(raw_token({"alg": "none", "typ": "JWT", "kid": key.kid}, body()), key, "InvalidAlgorithm")


def test_hs256_signed_with_the_public_key_pem(key: SigningKey) -> None:
    pem = key.public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    signing_input = ".".join([b64(json.dumps(header).encode()), b64(json.dumps(body()).encode())])
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    fails(f"{signing_input}.{b64(mac)}", key, "InvalidAlgorithm")


def test_unknown_kid(key: SigningKey, other_key: SigningKey) -> None:
    fails(sign(body(), other_key), key, "UnknownSigningKey")


def test_missing_kid(key: SigningKey) -> None:
    token = jwt.encode(body(), key.private_key, algorithm="RS256", headers={"typ": "JWT"})
    fails(token, key, "UnknownSigningKey")


# 2. signature
def test_forged_signature(key: SigningKey, other_key: SigningKey) -> None:
    forged = jwt.encode(body(), other_key.private_key, algorithm="RS256", headers={"kid": key.kid})
    fails(forged, key, "InvalidSignature")


def test_tampered_payload(key: SigningKey) -> None:
    head, _, sig = sign(body(), key).split(".")
    fails(".".join([head, b64(json.dumps(body(oid="attacker")).encode()), sig]), key, "InvalidSignature")


# 3. issuer, 4. audience
def test_wrong_issuer(key: SigningKey) -> None:
    fails(sign(body(iss="https://sts.windows.net/11111111-2222-3333-4444-555555555555/"), key), key, "InvalidIssuer")
    fails(sign(body(iss=ISS.rstrip("/")), key), key, "InvalidIssuer")
    fails(sign(body(iss=None), key), key, "InvalidIssuer")


def test_wrong_audience(key: SigningKey) -> None:
    fails(sign(body(aud="https://management.azure.com/"), key), key, "InvalidAudience")
    fails(sign(body(aud=AUD + "/"), key), key, "InvalidAudience")  # Key Vault rejects the trailing slash
    fails(sign(body(aud=[AUD]), key), key, "InvalidAudience")


# 5. lifetime with 5-minute skew
def test_expired_beyond_skew(key: SigningKey) -> None:
    token = sign(body(iat=NOW - 7200, nbf=NOW - 7200, exp=NOW - SKEW_TOLERANCE), key)
    fails(token, key, "TokenExpired")


def test_expired_within_skew_is_accepted(key: SigningKey) -> None:
    token = sign(body(iat=NOW - 7200, nbf=NOW - 7200, exp=NOW - SKEW_TOLERANCE + 1), key)
    assert check(token, key)["exp"] == NOW - SKEW_TOLERANCE + 1


def test_not_yet_valid_beyond_skew(key: SigningKey) -> None:
    fails(sign(body(nbf=NOW + SKEW_TOLERANCE + 1, exp=NOW + 7200), key), key, "TokenNotYetValid")


def test_not_yet_valid_within_skew_is_accepted(key: SigningKey) -> None:
    assert check(sign(body(nbf=NOW + SKEW_TOLERANCE, exp=NOW + 7200), key), key)


def test_missing_lifetime(key: SigningKey) -> None:
    fails(sign(body(exp=None), key), key, "InvalidLifetime")
    fails(sign(body(nbf="soon"), key), key, "InvalidLifetime")


def test_skew_is_five_minutes() -> None:
    assert SKEW_TOLERANCE == 300


# the order: the earlier step names the failure
def test_signature_is_checked_before_claims(key: SigningKey, other_key: SigningKey) -> None:
    forged = jwt.encode(body(iss="x", aud="y", exp=1), other_key.private_key, algorithm="RS256",
                        headers={"kid": key.kid})
    fails(forged, key, "InvalidSignature")


def test_issuer_is_checked_before_audience(key: SigningKey) -> None:
    fails(sign(body(iss="https://evil.test/", aud="https://other.test"), key), key, "InvalidIssuer")


def test_audience_is_checked_before_lifetime(key: SigningKey) -> None:
    fails(sign(body(aud="https://other.test", exp=NOW - 3600), key), key, "InvalidAudience")


def test_algorithm_is_checked_before_kid(key: SigningKey) -> None:
    fails(raw_token({"alg": "none", "kid": "unknown"}, body()), key, "InvalidAlgorithm")
