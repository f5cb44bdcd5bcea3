"""Keypairs: a user's SSH (or x509) public keys, by name."""

from __future__ import annotations

import base64
import hashlib
import re

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from overcast.common.db import Database
from overcast.compute import errors
from overcast.compute.models import KeyPair

NAME = re.compile(r"^[A-Za-z0-9 _.@-]{1,255}$")


def ssh_fingerprint(public_key: str) -> str:
    """The MD5 fingerprint OpenSSH printed for years (aa:bb:...); BadRequest if not a key."""
    try:
        serialization.load_ssh_public_key(public_key.strip().encode())
        blob = base64.b64decode(public_key.split()[1])
    except (ValueError, IndexError, TypeError):
        raise errors.ComputeInvalid("Keypair data is invalid: failed to generate fingerprint") from None
    digest = hashlib.md5(blob).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def x509_fingerprint(certificate: str) -> str:
    try:
        cert = x509.load_pem_x509_certificate(certificate.encode())
    except ValueError:
        raise errors.ComputeInvalid("Keypair data is invalid: failed to generate fingerprint") from None
    digest = hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def generate() -> tuple[str, str]:
    """A new RSA key: (OpenSSH public key, PEM private key), for clients below 2.92."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return public.decode() + " Generated-by-overcast", private


def generate_x509(name: str) -> tuple[str, str]:
    """A new self-signed certificate for an x509 keypair: (PEM certificate, PEM key)."""
    import datetime

    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=3650)).sign(key, hashes.SHA256()))
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), private


class Keypairs:
    def __init__(self, db: Database, quotas):
        self.db = db
        self.quotas = quotas

    def create(self, user_id: str, name: str, key_type: str, public_key: str | None,
               project_id: str | None = None) -> tuple[KeyPair, str | None]:
        """Import (or generate, when ``public_key`` is None) a keypair; returns (row, private key)."""
        if not isinstance(name, str) or not NAME.match(name) or name.strip() != name:
            raise errors.ComputeInvalid("Keypair data is invalid: Keypair name contains unsafe characters")
        private = None
        if public_key is None:
            public_key, private = generate_x509(name) if key_type == "x509" else generate()
        fingerprint = x509_fingerprint(public_key) if key_type == "x509" else ssh_fingerprint(public_key)
        self.quotas.check_key_pairs(project_id, user_id)
        with self.db.session() as session:
            row = KeyPair(user_id=user_id, name=name, type=key_type, fingerprint=fingerprint,
                          public_key=public_key.strip())
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise errors.ComputeConflict(f"Key pair '{name}' already exists.") from None
            return row, private

    def get(self, user_id: str, name: str) -> KeyPair:
        with self.db.session() as session:
            row = session.scalars(select(KeyPair).where(KeyPair.user_id == user_id, KeyPair.name == name)).first()
            if row is None:
                raise errors.KeypairNotFound(name, user_id)
            return row

    def list(self, user_id: str, limit: int | None = None, marker: str | None = None) -> list[KeyPair]:
        query = select(KeyPair).where(KeyPair.user_id == user_id).order_by(KeyPair.name)
        with self.db.session() as session:
            if marker is not None:
                if session.scalars(query.where(KeyPair.name == marker)).first() is None:
                    raise errors.ComputeInvalid(f"Marker {marker} could not be found.")
                query = query.where(KeyPair.name > marker)
            if limit is not None:
                query = query.limit(limit)
            return list(session.scalars(query))

    def delete(self, user_id: str, name: str) -> None:
        with self.db.session() as session:
            row = session.scalars(select(KeyPair).where(KeyPair.user_id == user_id, KeyPair.name == name)).first()
            if row is None:
                raise errors.KeypairNotFound(name, user_id)
            session.delete(row)
