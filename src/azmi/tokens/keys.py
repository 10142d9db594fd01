"""Signing keys: RSA-2048 with a self-signed certificate; `kid` = `x5t` = base64url(SHA-1(cert DER)).

The JWKS carries public members only (kty, use, kid, x5t, n, e, x5c, issuer), the shape
Entra publishes (azure-wire.md §3.5). Private keys never leave the store and this module.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _int_b64url(n: int) -> str:
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    cert_der: bytes
    created_at: float
    retired_at: float | None = None  # stopped signing at; published until retired_at + max lifetime

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())

    def jwk(self, issuer: str) -> dict[str, object]:
        nums = self.public_key.public_numbers()
        return {"kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.kid, "n": _int_b64url(nums.n),
                "e": _int_b64url(nums.e), "x5c": [base64.b64encode(self.cert_der).decode()], "issuer": issuer}


def generate_key(now: float) -> SigningKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accounts.accesscontrol.azmi.local")])
    start = dt.datetime.fromtimestamp(now, dt.timezone.utc) - dt.timedelta(days=1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=3650)).sign(key, hashes.SHA256()))
    der = cert.public_bytes(serialization.Encoding.DER)
    return SigningKey(kid=b64url(hashlib.sha1(der).digest()), private_key=key, cert_der=der, created_at=now)


def load_key(kid: str, private_pem: bytes, cert_der: bytes, created_at: float,
             retired_at: float | None) -> SigningKey:
    key = serialization.load_pem_private_key(private_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return SigningKey(kid, key, cert_der, created_at, retired_at)
