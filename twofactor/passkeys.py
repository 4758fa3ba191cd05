"""Passkeys: reading a person's passkeys and checking the two WebAuthn ceremonies.

A passkey is django-otp-webauthn's ``WebAuthnCredential``, a django-otp device like the
authenticator app: once one is used, ``django_otp.login`` marks the session verified and every
two-factor rule (``twofactor.session``, the middleware) treats it exactly as a code. The package's
``WebAuthnHelper`` runs the ceremonies through py_webauthn (challenge, origin, relying-party id,
signature, signature counter); ``PasskeyHelper`` gives it the portal's configuration. The package's
own views are not used: the portal's (``twofactor/passkey_views.py``) add the recent sign-in rule,
django-axes lockouts, the audit log and the session flags.

Each ceremony is two requests. ``*_begin`` answers the options for the browser and keeps the
challenge in the session; ``*_complete`` takes the challenge out of the session before anything
else, so it is used at most once, and checks the browser's answer against it. Writes (adding and
removing a passkey) are in ``twofactor.services``.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django_otp_webauthn import exceptions as package_errors
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from webauthn import base64url_to_bytes
from webauthn.helpers import exceptions as webauthn_errors
from webauthn.helpers.structs import UserVerificationRequirement

from kernel.errors import RuleViolation

NAME_MAX_LENGTH = 64  # django-otp's Device.name
REGISTER_STATE = "passkey_register_state"
VERIFY_STATE = "passkey_verify_state"
SIGN_IN_STATE = "passkey_sign_in_state"
# What may go wrong with a browser's answer: malformed JSON, bad CBOR, a wrong signature,
# challenge, origin or counter. All of them are the same refusal to the person.
CEREMONY_ERRORS = (
    webauthn_errors.WebAuthnException,
    package_errors.OTPWebAuthnApiError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
)
NOT_ACCEPTED = "That passkey was not accepted. Try again, or use another way to sign in."
EXPIRED = "The passkey request expired. Try again."


class PasskeyRefused(RuleViolation):
    """A passkey ceremony that did not succeed; the message is safe to show."""


class PasskeyHelper(WebAuthnHelper):
    """The package's helper with the portal's relying party, read from settings on every call
    (so a test may change them)."""

    def get_relying_party_domain(self) -> str:
        return settings.PASSKEY_RP_ID

    def get_relying_party_name(self) -> str:
        return settings.PASSKEY_RP_NAME

    def get_allowed_origins(self) -> list[str]:
        return [settings.PASSKEY_ORIGIN]

    def get_generate_registration_options_kwargs(self, *, user) -> dict:
        options = super().get_generate_registration_options_kwargs(user=user)
        # The passkey may sign in without a password: the authenticator must be able to check
        # that its owner is there (fingerprint, face, PIN).
        options["authenticator_selection"].user_verification = UserVerificationRequirement.REQUIRED
        return options


def helper() -> PasskeyHelper:
    # The package's helper keeps a request for its own settings hooks, which the portal's
    # overrides do not use: the ceremonies need none.
    return PasskeyHelper(request=None)


# --- reads ----------------------------------------------------------------------------------------


def passkeys_of(user) -> list[WebAuthnCredential]:
    """The person's passkeys, newest first."""
    return list(WebAuthnCredential.objects.filter(user=user).order_by("-created_at", "-pk"))


def passkey_count(user) -> int:
    """How many passkeys the person holds (confirmed ones: those that count as a second factor)."""
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).count()


def has_passkey(user) -> bool:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()


def owner_of_answer(data: dict):
    """The account whose passkey the browser's sign-in answer names, or None (unknown passkey,
    malformed answer). Only a hint for lockouts: the answer is not checked yet."""
    try:
        raw_id = _raw_id(data)
        return (
            WebAuthnCredential.objects.select_related("user")
            .get(credential_id_sha256=WebAuthnCredential.get_credential_id_sha256(raw_id))
            .user
        )
    except (WebAuthnCredential.DoesNotExist, *CEREMONY_ERRORS):
        return None


def _raw_id(data: dict) -> bytes:
    return base64url_to_bytes(str(data["rawId"]))


def parse_answer(body: bytes) -> dict:
    """The browser's JSON answer as a dict, or PasskeyRefused."""
    try:
        data = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise PasskeyRefused(NOT_ACCEPTED) from None
    if not isinstance(data, dict):
        raise PasskeyRefused(NOT_ACCEPTED)
    return data


def take_state(request, key: str) -> dict:
    """The ceremony's challenge, taken out of the session: used once whatever happens next."""
    state = request.session.pop(key, None)
    # Saved at once, so that even a failed check cannot leave the challenge usable again.
    request.session.save()
    if not isinstance(state, dict):
        raise PasskeyRefused(EXPIRED)
    return state


# --- registration (the browser makes a new passkey) -------------------------------------------------


def register_begin(request, user) -> dict:
    """The options for ``navigator.credentials.create()``; the challenge stays in the session."""
    options, state = helper().register_begin(user=user)
    request.session[REGISTER_STATE] = state
    return options


def register_verify(user, state: dict, data: dict) -> WebAuthnCredential:
    """The new passkey from the browser's answer, checked against ``state`` and saved (by the
    package). Only ``twofactor.services.passkey_add`` calls this, inside its transaction."""
    try:
        # A savepoint: a credential id already stored (for anyone) fails the unique constraint
        # on its hash, and must leave the caller's transaction usable.
        with transaction.atomic():
            return helper().register_complete(user=user, state=state, data=data)
    except IntegrityError:
        raise PasskeyRefused("This passkey cannot be added. Make a new one and try again.") from None
    except CEREMONY_ERRORS:
        raise PasskeyRefused("The passkey could not be added. Try again.") from None


# --- authentication (the browser signs a challenge with a passkey) ----------------------------------


def authenticate_begin(request, user=None) -> dict:
    """The options for ``navigator.credentials.get()``. With ``user`` (the second step after the
    password) the browser is told which passkeys are theirs; without (signing in with a passkey
    alone) any passkey of this site may answer, and the authenticator must verify its owner."""
    key = VERIFY_STATE if user is not None else SIGN_IN_STATE
    options, state = helper().authenticate_begin(user=user, require_user_verification=user is None)
    request.session[key] = state
    return options


def authenticate_check(request, data: dict, user=None) -> WebAuthnCredential:
    """The passkey that signed the session's challenge, or PasskeyRefused. With ``user``, only
    one of their passkeys is accepted. The signature counter and last use are saved."""
    state = take_state(request, VERIFY_STATE if user is not None else SIGN_IN_STATE)
    try:
        device = helper().authenticate_complete(user=user, state=state, data=data)
    except CEREMONY_ERRORS:
        raise PasskeyRefused(NOT_ACCEPTED) from None
    if not device.confirmed or not device.user.is_active:
        raise PasskeyRefused(NOT_ACCEPTED)
    return device
