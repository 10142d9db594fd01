"""azmi's local certificate authority, created once per data directory.

Every HTTPS surface is served with a leaf certificate from this CA covering the loopback
names and addresses. `ca-bundle.pem` is the public CAs (certifi) plus azmi's CA, so a process
given it through `REQUESTS_CA_BUNDLE` / `SSL_CERT_FILE` trusts azmi and still reaches the world.
Private keys are written with mode 0600 and never served.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LEAF_DAYS = 365


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    bundle: Path
    leaf_cert: Path
    leaf_key: Path


def _write(path: Path, data: bytes, private: bool = False) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _load_ca(directory: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert_path, key_path = directory / "ca.pem", directory / "ca-key.pem"
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return cert, key
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "azmi"),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"azmi local CA {os.urandom(4).hex()}")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    _write(key_path, _pem_key(key), private=True)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _covers(cert: x509.Certificate, names: list[str]) -> bool:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have = {str(v) for v in san.get_values_for_type(x509.DNSName)} | {
        str(v) for v in san.get_values_for_type(x509.IPAddress)}
    soon = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=7)
    return set(names) <= have and cert.not_valid_after_utc > soon


def ensure_tls(directory: Path, hosts: list[str]) -> TlsFiles:
    """Create (or reuse) the CA and a leaf for `hosts`; write the trust bundle."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _load_ca(directory)
    names = sorted({"localhost", "127.0.0.1", "::1", *hosts})
    files = TlsFiles(directory / "ca.pem", directory / "ca-bundle.pem", directory / "tls.pem", directory / "tls-key.pem")
    current = x509.load_pem_x509_certificate(files.leaf_cert.read_bytes()) if files.leaf_cert.exists() else None
    if current is None or not files.leaf_key.exists() or not _covers(current, names) or \
            current.issuer != ca_cert.subject:
        key = ec.generate_private_key(ec.SECP256R1())
        alt: list[x509.GeneralName] = []
        for n in names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                alt.append(x509.DNSName(n))
        now = dt.datetime.now(dt.timezone.utc)
        leaf = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "azmi")]))
                .issuer_name(ca_cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=LEAF_DAYS))
                .add_extension(x509.SubjectAlternativeName(alt), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        _write(files.leaf_key, _pem_key(key), private=True)
        _write(files.leaf_cert, leaf.public_bytes(serialization.Encoding.PEM))
    ca_pem = files.ca_cert.read_bytes()
    _write(files.bundle, Path(certifi.where()).read_bytes().rstrip(b"\n") + b"\n" + ca_pem)
    return files
