"""The portal's own SAML service-provider key pair, one per deployment, from the settings
``SAML_SP_PRIVATE_KEY`` and ``SAML_SP_CERTIFICATE`` (each PEM text, or the path of a PEM file).

With it, every SAML connection's metadata publishes the certificate (for signing and for
encryption), AuthnRequests are signed (RSA-SHA256), and encrypted assertions are decrypted and then
checked like plain ones. Without it (both unset, as on a development machine), nothing is signed
and an encrypted assertion is refused ("saml_encrypted").

The private key is a secret: it is read here and handed to the toolkit, never shown, logged or
audited; the system check below names only which setting is wrong.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core import checks

logger = logging.getLogger(__name__)

SETTINGS = ("SAML_SP_PRIVATE_KEY", "SAML_SP_CERTIFICATE")


class KeyPairError(Exception):
    """The settings name no usable key pair; the message names the setting, never its value."""


@dataclass(frozen=True)
class KeyPair:
    private_key: str
    certificate: str

    def __repr__(self):  # never the key
        return "<SAML service-provider key pair>"


def _pem(name: str) -> str:
    value = (getattr(settings, name, "") or "").strip()
    if not value or "-----BEGIN" in value:
        return value
    try:
        return Path(value).expanduser().read_text().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyPairError(f"{name} is neither PEM text nor a readable PEM file.") from exc


def read_key_pair() -> KeyPair | None:
    """The configured pair, checked (the key is the certificate's); None when neither is set.
    Raises ``KeyPairError``."""
    key_pem, cert_pem = _pem("SAML_SP_PRIVATE_KEY"), _pem("SAML_SP_CERTIFICATE")
    if not key_pem and not cert_pem:
        return None
    if not key_pem or not cert_pem:
        missing = "SAML_SP_PRIVATE_KEY" if not key_pem else "SAML_SP_CERTIFICATE"
        raise KeyPairError(f"{missing} is not set: set both SAML service-provider settings, or neither.")
    try:
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise KeyPairError("SAML_SP_PRIVATE_KEY is not an unencrypted PEM private key.") from exc
    try:
        certificate = x509.load_pem_x509_certificate(cert_pem.encode())
    except ValueError as exc:
        raise KeyPairError("SAML_SP_CERTIFICATE is not a PEM certificate.") from exc
    if not hasattr(key, "public_key") or key.public_key() != certificate.public_key():
        raise KeyPairError("SAML_SP_PRIVATE_KEY is not the key of SAML_SP_CERTIFICATE.")
    if not isinstance(certificate.public_key(), rsa.RSAPublicKey):
        raise KeyPairError("SAML_SP_CERTIFICATE must hold an RSA key (RSA-SHA256 signatures, RSA-OAEP encryption).")
    return KeyPair(private_key=key_pem, certificate=cert_pem)


def key_pair() -> KeyPair | None:
    """The pair for the toolkit, or None (unset, or unusable: the system check reports that)."""
    try:
        return read_key_pair()
    except KeyPairError as exc:
        logger.error("SAML service-provider key pair unusable, signing nothing: %s", exc)
        return None


@checks.register(checks.Tags.security)
def check_key_pair(app_configs=None, **kwargs):
    try:
        read_key_pair()
    except KeyPairError as exc:
        return [checks.Error(str(exc), id="sso.E001", hint="See README.md, single sign-on with SAML.")]
    return []
