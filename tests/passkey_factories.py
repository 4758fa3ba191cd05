"""A software passkey for tests: what a browser and an authenticator answer in the WebAuthn
ceremonies (ES256 key, "none" attestation), built from the options the portal sends, so that
the real checks of py_webauthn run on them. And ``add_passkey``, a passkey added through the
service as the registration page would."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

from twofactor import services
from twofactor.passkeys import helper

FLAG_UP = 0x01  # user present
FLAG_UV = 0x04  # user verified
FLAG_AT = 0x40  # attested credential data follows


def b64u(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftPasskey:
    """One passkey on a software authenticator, bound to ``rp_id``."""

    rp_id: str = ""
    origin: str = ""
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    sign_count: int = 0
    user_handle: bytes = b""

    def __post_init__(self):
        self.rp_id = self.rp_id or settings.PASSKEY_RP_ID
        self.origin = self.origin or settings.PASSKEY_ORIGIN

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}
        ).encode()

    def create(self, options: dict, *, origin: str | None = None) -> dict:
        """The browser's answer to ``navigator.credentials.create()`` with these options."""
        self.user_handle = unb64u(options["user"]["id"])
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        auth_data = (
            hashlib.sha256(self.rp_id.encode()).digest()
            + bytes([FLAG_UP | FLAG_UV | FLAG_AT])
            + struct.pack(">I", self.sign_count)
            + bytes(16)  # AAGUID
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self._cose_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64u(self.credential_id),
            "rawId": b64u(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64u(client_data),
                "attestationObject": b64u(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {"credProps": {"rk": True}},
        }

    def get(self, options: dict, *, origin: str | None = None, user_verified: bool = True) -> dict:
        """The browser's answer to ``navigator.credentials.get()``: the challenge signed."""
        self.sign_count += 1
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        flags = FLAG_UP | (FLAG_UV if user_verified else 0)
        auth_data = hashlib.sha256(self.rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", self.sign_count)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64u(self.credential_id),
            "rawId": b64u(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64u(client_data),
                "authenticatorData": b64u(auth_data),
                "signature": b64u(signature),
                "userHandle": b64u(self.user_handle),
            },
            "clientExtensionResults": {},
        }


def registration_options(user) -> tuple[dict, dict]:
    """(options, state) as ``register/begin`` makes them, without a request."""
    return helper().register_begin(user=user)


def add_passkey(user, name: str = "Laptop") -> tuple[SoftPasskey, object]:
    """A passkey added to ``user`` through the service, as the registration page would: (the
    software passkey, its WebAuthnCredential row). For someone without two-factor authentication
    it is their first second factor (backup codes come with it: ``add_first_passkey``)."""
    passkey, device, _ = add_first_passkey(user, name)
    return passkey, device


def add_first_passkey(user, name: str = "Laptop") -> tuple[SoftPasskey, object, list[str]]:
    """``add_passkey`` with the backup codes the service answered ([] unless it was the first
    second factor)."""
    options, state = registration_options(user)
    passkey = SoftPasskey()
    device, codes = services.passkey_add(user=user, name=name, state=state, data=passkey.create(options))
    return passkey, device, codes
