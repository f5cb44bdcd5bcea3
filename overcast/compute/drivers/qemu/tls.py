"""TLS for live migrations between machines (Nova's ``live_migration_with_native_tls``).

Each host has a directory (``compute.tls_dir``) laid out as QEMU's ``tls-creds-x509``
objects read it: ``ca-cert.pem`` (the CA every host trusts), ``server-cert.pem`` and
``server-key.pem`` (what this host shows when it receives a guest), ``client-cert.pem``
and ``client-key.pem`` (what it shows when it sends one). QEMU reads the files itself:
the directory's path goes over QMP, never a key. Both ends verify the other against the
CA (``verify-peer``); the source also checks that the destination's server certificate
names the address it connects to (``tls-hostname``, so certificates carry each host's
``my_ip`` as an IP address).

``make_ca`` and ``make_host`` (``overcast manage tls-ca`` / ``tls-host``) make such
directories for a test or small cloud; keys are written 0600, directories 0700.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from pathlib import Path

CA_CERT, CA_KEY = "ca-cert.pem", "ca-key.pem"
SERVER = ("server-cert.pem", "server-key.pem")
CLIENT = ("client-cert.pem", "client-key.pem")
FILES = (CA_CERT, *SERVER, *CLIENT)
CREDS_ID = "migration-tls"  # the tls-creds-x509 object in a QEMU taking part in a migration
DAYS = 3650


class TLSError(Exception):
    """The TLS directory is missing or incomplete."""


def check_dir(directory: str) -> str:
    """``directory`` if it holds every file QEMU needs (each readable), else TLSError."""
    if not directory:
        raise TLSError("live migration TLS is on but compute.tls_dir is not set on this host")
    missing = [name for name in FILES if not os.access(os.path.join(directory, name), os.R_OK)]
    if missing:
        raise TLSError(f"live migration TLS is on but {directory} lacks {', '.join(missing)} on this host")
    return str(Path(directory).resolve())


def add_creds(session, directory: str, endpoint: str) -> str:
    """A ``tls-creds-x509`` object for ``endpoint`` (server: receiving, client: sending)
    reading ``directory``, verifying the peer; its id. Replaces one left by an earlier try."""
    from .qmp import QMPError

    try:
        session.execute("object-del", id=CREDS_ID)
    except QMPError:
        pass  # none yet
    session.execute("object-add", **{"qom-type": "tls-creds-x509", "id": CREDS_ID, "dir": directory,
                                       "endpoint": endpoint, "verify-peer": True})
    return CREDS_ID


def drop_creds(session) -> None:
    from .qmp import QMPError

    try:
        session.execute("object-del", id=CREDS_ID)
    except QMPError:
        pass


# -- making certificates (a test or small cloud) ------------------------------------------------


def _write(path: Path, data: bytes, private: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600 if private else 0o644)


def _key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _builder(subject: str, issuer, public_key):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name).public_key(public_key)
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=DAYS)))


def make_ca(directory: str | Path, name: str = "overcast migration CA") -> Path:
    """A new CA in ``directory`` (``ca-cert.pem``, ``ca-key.pem``); refuses to overwrite one."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if (directory / CA_KEY).exists():
        raise TLSError(f"{directory / CA_KEY} exists already")
    key = _key()
    cert = (_builder(name, None, key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    _write(directory / CA_KEY, _pem_key(key), private=True)
    _write(directory / CA_CERT, cert.public_bytes(serialization.Encoding.PEM), private=False)
    return directory


def make_host(ca_dir: str | Path, directory: str | Path, host: str, addresses: list[str]) -> Path:
    """``directory`` for one host: the CA's certificate and a server and a client
    certificate signed by it, naming ``host`` and each of ``addresses`` (its ``my_ip``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID

    ca_dir, directory = Path(ca_dir), Path(directory)
    ca_cert = x509.load_pem_x509_certificate((ca_dir / CA_CERT).read_bytes())
    ca_key = serialization.load_pem_private_key((ca_dir / CA_KEY).read_bytes(), password=None)
    names = [x509.DNSName(host)] + [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    for (cert_name, key_name), purpose in ((SERVER, ExtendedKeyUsageOID.SERVER_AUTH),
                                           (CLIENT, ExtendedKeyUsageOID.CLIENT_AUTH)):
        key = _key()
        cert = (_builder(host, ca_cert.subject, key.public_key())
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                             crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.ExtendedKeyUsage([purpose]), critical=False)
                .add_extension(x509.SubjectAlternativeName(names), critical=False)
                .sign(ca_key, hashes.SHA256()))
        _write(directory / key_name, _pem_key(key), private=True)
        _write(directory / cert_name, cert.public_bytes(serialization.Encoding.PEM), private=False)
    _write(directory / CA_CERT, (ca_dir / CA_CERT).read_bytes(), private=False)
    return directory
