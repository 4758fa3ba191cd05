"""E-mail verification links.

A link carries a signed, timestamped payload: the account's id and a keyed digest of the address
it was sent to. Nothing is stored, so a link stays valid until it expires; "once" comes from the
account itself (a verified address makes every later use a no-op). The digest ties a link to the
address, so a link sent before an address change cannot verify the new one, and keeps the address
itself out of URLs and server logs.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "accounts.email-verification"


class VerificationLinkError(Exception):
    """The link cannot be used."""


class VerificationLinkExpired(VerificationLinkError):
    """Authentic, but older than settings.EMAIL_VERIFICATION_MAX_AGE."""


class VerificationLinkInvalid(VerificationLinkError):
    """Tampered with, mangled, or made for another account or address."""


def address_digest(email: str) -> str:
    return salted_hmac(SALT, email).hexdigest()[:24]


def verification_payload(user) -> dict:
    return {"u": user.pk, "e": address_digest(user.email)}


def make_verification_token(user) -> str:
    return signing.TimestampSigner(salt=SALT).sign_object(verification_payload(user), compress=True)


def read_verification_token(token: str, *, allow_expired: bool = False):
    """The account a link was made for, or VerificationLinkExpired / VerificationLinkInvalid.

    ``allow_expired`` still demands an authentic signature; it lets an expired link ask for a new one.
    """
    max_age = None if allow_expired else settings.EMAIL_VERIFICATION_MAX_AGE
    try:
        payload = signing.TimestampSigner(salt=SALT).unsign_object(token, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise VerificationLinkExpired from exc
    except (signing.BadSignature, ValueError) as exc:
        raise VerificationLinkInvalid from exc
    if not isinstance(payload, dict):
        raise VerificationLinkInvalid
    user = get_user_model().objects.filter(pk=payload.get("u"), is_active=True).first()
    if user is None or not constant_time_compare(address_digest(user.email), str(payload.get("e", ""))):
        raise VerificationLinkInvalid
    return user
