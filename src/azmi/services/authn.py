"""Bearer-token authentication for azmi's own services (ARM now; Key Vault and Blob later).

Verification runs the numbered checks of `azmi.tokens.jwt_codec.verify` against the shared
keyring. A verified token is remembered until it expires, so a hot data path pays for the
RSA verification once per token, not once per request.
"""

from __future__ import annotations

import threading
from typing import Collection

import jwt

from azmi.clock import Clock
from azmi.errors import Unauthenticated
from azmi.services.keyring import Keyring
from azmi.tokens import claims as claimset
from azmi.tokens.jwt_codec import SKEW_TOLERANCE, verify

MAX_REMEMBERED = 100_000


class Authenticator:
    def __init__(self, tenant_id: str, keyring: Keyring, clock: Clock) -> None:
        self._issuers = frozenset({claimset.issuer(tenant_id)})
        self._keyring = keyring
        self._clock = clock
        # (Authorization header, audiences) -> (claims, verified until: exp + skew tolerance, signing key id)
        self._verified: dict[tuple[str, frozenset[str]], tuple[dict[str, object], float, str]] = {}
        self._lock = threading.Lock()

    def authenticate(self, authorization: str | None, audiences: Collection[str]) -> dict[str, object]:
        if not authorization:
            raise Unauthenticated("Request is missing a Bearer or PoP token.", code="AuthenticationFailed")
        auds = audiences if isinstance(audiences, frozenset) else frozenset(audiences)
        now = self._clock.now()
        cached = self._verified.get((authorization, auds))  # by the header as sent: a client repeats it
        if cached is not None and now < cached[1] and self._keyring.find(cached[2]) is not None:
            return cached[0]  # still unexpired, and its signing key is still published
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("The authentication scheme of the Authorization header is not Bearer.",
                                  code="InvalidAuthenticationToken")
        token = token.strip()
        claims = verify(token, find_key=self._keyring.find, issuers=self._issuers, audiences=auds, now=now)
        claims["_kid"] = jwt.get_unverified_header(token).get("kid")
        kid = str(claims["_kid"])
        exp = claims["exp"]  # verify() checked it is a number
        with self._lock:
            if len(self._verified) >= MAX_REMEMBERED:
                self._verified.clear()
            self._verified[(authorization, auds)] = (claims, float(exp) + SKEW_TOLERANCE, kid)  # type: ignore[arg-type]
        return claims
