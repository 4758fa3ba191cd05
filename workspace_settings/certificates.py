"""Checking a pasted X.509 certificate in PEM form without a crypto library.

The portal only stores the identity provider's signing certificate for the platform's sign-in
service, so it checks what it can promise: one PEM block, valid base64, holding a complete DER
structure. It stores the certificate re-wrapped, and its SHA-256 fingerprint for people to compare
with their identity provider's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import textwrap

from kernel.errors import RuleViolation

PEM_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.DOTALL)
MIN_DER_LENGTH = 100  # even a tiny self-signed certificate is longer


def _der_length_matches(der: bytes) -> bool:
    """Whether ``der`` is exactly one DER SEQUENCE (a certificate's outer structure)."""
    if len(der) < 2 or der[0] != 0x30:
        return False
    first = der[1]
    if first < 0x80:
        header, length = 2, first
    else:
        size = first & 0x7F
        if not 1 <= size <= 4 or len(der) < 2 + size:
            return False
        header, length = 2 + size, int.from_bytes(der[2 : 2 + size], "big")
    return header + length == len(der)


def read_certificate(text: str) -> tuple[str, str]:
    """(normalised PEM, SHA-256 fingerprint) of one certificate; RuleViolation if it is not one."""
    blocks = PEM_BLOCK.findall(text or "")
    if len(blocks) != 1:
        raise RuleViolation(
            "Paste one certificate in PEM form, from “-----BEGIN CERTIFICATE-----” to “-----END CERTIFICATE-----”."
        )
    body = "".join(blocks[0].split())
    try:
        der = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise RuleViolation("The certificate is not valid base64 between its BEGIN and END lines.") from None
    if len(der) < MIN_DER_LENGTH or not _der_length_matches(der):
        raise RuleViolation("The certificate is incomplete or not an X.509 certificate.")
    digest = hashlib.sha256(der).hexdigest().upper()
    fingerprint = ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
    wrapped = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN CERTIFICATE-----\n{wrapped}\n-----END CERTIFICATE-----\n", fingerprint
