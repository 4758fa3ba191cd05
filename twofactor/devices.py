"""Reading and checking a person's two-factor devices (django-otp's models).

A person has two-factor authentication on when they hold a second factor: a confirmed ``TOTPDevice``
(their authenticator app, at most one), or a confirmed passkey (django-otp-webauthn's
``WebAuthnCredential``), or both. With either comes one ``StaticDevice`` holding their unused
backup codes, made with the first factor. Set-up of the app in progress is one unconfirmed
``TOTPDevice``. Writes live in ``twofactor.services``.
"""

from __future__ import annotations

import math
import re
from base64 import b32encode

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from kernel.errors import RuleViolation

APP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
BACKUP_CODE_COUNT = 10


def second_factor(user_id):
    """A condition: the person (their id, or an ``OuterRef`` to it) holds a second factor, a
    confirmed authenticator app or a confirmed passkey. Two subqueries, for annotations and filters."""
    return Exists(TOTPDevice.objects.filter(user_id=user_id, confirmed=True)) | Exists(
        WebAuthnCredential.objects.filter(user_id=user_id, confirmed=True)
    )


def has_two_factor(user) -> bool:
    """Whether the person holds a second factor (an authenticator app, a passkey or both). One query."""
    return get_user_model().objects.filter(pk=user.pk).filter(second_factor(OuterRef("pk"))).exists()


def has_app(user) -> bool:
    """Whether the person has set up an authenticator app."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def is_last_factor(user, passkey: WebAuthnCredential) -> bool:
    """Whether ``passkey`` is the person's only second factor (no app, no other passkey)."""
    others = WebAuthnCredential.objects.filter(user=user, confirmed=True).exclude(pk=passkey.pk)
    return passkey.confirmed and not has_app(user) and not others.exists()


def pending_app_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()


def backup_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def manual_entry_key(device: TOTPDevice) -> str:
    """The secret as authenticator apps ask for it when typed in: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _clean(token: str) -> str:
    # People type codes with spaces or dashes ("123 456", "abcd-efgh"); backup codes are lower case.
    return re.sub(r"[\s-]", "", token or "").lower()


def _is_app_code(token: str, device: TOTPDevice | None) -> bool:
    return device is not None and token.isdigit() and len(token) == device.digits


class CodeRefused(RuleViolation):
    """A code that was not accepted; the message says why (wrong, or wait after too many)."""


WRONG_CODE = "That code is not right. Enter the code your authenticator app shows now, or one of your backup codes."
WRONG_APP_CODE = "That code is not right. Enter the 6-digit code your authenticator app shows now."


def _refusal(device) -> str | None:
    allowed, info = device.verify_is_allowed()
    if allowed:
        return None
    wait = max(1, math.ceil((info["locked_until"] - timezone.now()).total_seconds()))
    return f"Too many wrong codes. Wait {wait} second{'s' if wait != 1 else ''} and try again."


@transaction.atomic
def _match(user, token: str) -> tuple[TOTPDevice | StaticDevice | None, str]:
    # The device row is locked so that one code is not accepted twice by concurrent requests.
    app = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
    if _is_app_code(token, app):
        device = app
    else:
        device = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
    if device is None or not token:
        return None, WRONG_CODE
    refusal = _refusal(device)
    if refusal:
        return None, refusal
    return (device, "") if device.verify_token(token) else (None, WRONG_CODE)


def verify_code(user, token: str) -> TOTPDevice | StaticDevice:
    """The device that accepts ``token``: a code from the app, or an unused backup code (which is
    then used up). Raises ``CodeRefused`` otherwise.

    Only the device the code's shape points to is asked, so that a backup code typed in does not
    count as a failed app code in django-otp's throttling, and the other way round. Call this
    outside any transaction of your own: a failed attempt is counted in the database, and a
    rollback would forget it and so lift the throttling.
    """
    device, refusal = _match(user, _clean(token))
    if device is None:
        raise CodeRefused(refusal)
    return device


def verify_pending_code(device: TOTPDevice, token: str) -> None:
    """Accept ``token`` as the current code of a device being set up, or raise ``CodeRefused``.
    Same transaction rule as ``verify_code``."""
    token = _clean(token)
    refusal = _refusal(device)
    if refusal:
        raise CodeRefused(refusal)
    if not (_is_app_code(token, device) and device.verify_token(token)):
        raise CodeRefused(WRONG_APP_CODE)
