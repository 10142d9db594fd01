"""RS256 signing, and verification in a fixed, numbered order (DESIGN principle 9):

1. the token parses and its header names `alg: RS256` and a published `kid`;
2. the signature verifies with that key;
3. `iss` is an accepted issuer;
4. `aud` is an accepted audience;
5. `nbf` / `exp` hold, with a 5-minute clock-skew tolerance.

Each failure raises `Unauthenticated` whose `code` names the step that failed.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from typing import Callable, Collection, Mapping

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from azmi.errors import Unauthenticated
from azmi.tokens.keys import SigningKey

SKEW_TOLERANCE = 300


@lru_cache(maxsize=16)
def _header_segment(kid: str) -> bytes:
    """The JOSE header is the same for every token a key signs: encode it once."""
    header = {"typ": "JWT", "alg": "RS256", "x5t": kid, "kid": kid}  # the order Entra writes them in
    return base64.urlsafe_b64encode(json.dumps(header, separators=(",", ":")).encode()).rstrip(b"=")


def sign(claims: Mapping[str, object], key: SigningKey) -> str:
    """RS256 (RSASSA-PKCS1-v1_5 with SHA-256) over `header.payload`, as PyJWT does, minus per-token header work:
    minting is bounded by the RSA operation itself (the benchmark's cold-minting figure)."""
    payload = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=")
    signing_input = _header_segment(key.kid) + b"." + payload
    signature = key.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


def verify(token: str, *, find_key: Callable[[str], SigningKey | None], issuers: Collection[str],
           audiences: Collection[str], now: float) -> dict[str, object]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthenticated("The access token is malformed.", code="MalformedToken") from None
    if header.get("alg") != "RS256":
        raise Unauthenticated(f"The token signing algorithm '{header.get('alg')}' is not accepted; "
                              "RS256 is required.", code="InvalidAlgorithm")
    kid = header.get("kid")
    key = find_key(kid) if isinstance(kid, str) else None
    if key is None:
        raise Unauthenticated(f"The token's signing key '{kid}' is not a published key.", code="UnknownSigningKey")
    try:
        claims = jwt.decode(token, key.public_key, algorithms=["RS256"],
                            options={"verify_aud": False, "verify_iss": False, "verify_exp": False,
                                     "verify_nbf": False, "verify_iat": False})
    except jwt.PyJWTError:
        raise Unauthenticated("The token signature is invalid.", code="InvalidSignature") from None
    iss = claims.get("iss")
    if not isinstance(iss, str) or iss not in issuers:
        raise Unauthenticated(f"Invalid issuer. Expected one of {', '.join(sorted(issuers))}, found: {iss}.",
                              code="InvalidIssuer")
    aud = claims.get("aud")
    if not isinstance(aud, str) or aud not in audiences:
        raise Unauthenticated(f"Invalid audience. Expected {' or '.join(sorted(audiences))}, found: {aud}.",
                              code="InvalidAudience")
    nbf, exp = claims.get("nbf"), claims.get("exp")
    if not isinstance(exp, (int, float)) or not isinstance(nbf, (int, float)):
        raise Unauthenticated("The token has no valid lifetime (nbf/exp).", code="InvalidLifetime")
    if now + SKEW_TOLERANCE < nbf:
        raise Unauthenticated(f"The token is not valid yet (nbf {int(nbf)}, now {int(now)}).", code="TokenNotYetValid")
    if now - SKEW_TOLERANCE >= exp:
        raise Unauthenticated(f"The token is expired (exp {int(exp)}, now {int(now)}).", code="TokenExpired")
    return claims
