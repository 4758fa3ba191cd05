"""Throttles for what anyone may ask without signing in: sign-up and password reset.

Each action is limited per address and per client address (``kernel.client_ip``, so a forged
``X-Forwarded-For`` counts for nothing unless PROXY_COUNT trusts a proxy) over a sliding hour. The
limits are settings (``SIGNUP_LIMIT_PER_*_PER_HOUR``, ``PASSWORD_RESET_LIMIT_PER_*_PER_HOUR``), and
the requests are counted as ``ThrottleHit`` rows, so every worker process sees the same count.

A request is counted before it is judged: its rows are written and committed first, then the
rows of the last hour are counted. Two requests racing for the last place therefore both see each
other, and at worst both are refused; more than the limit never pass. A refused request takes its
rows back, so a flood of refused requests does not keep the limit closed once the flood stops, and
only the requests let through are counted.

The throttle never looks at whether an account exists, so its answer tells nothing about that.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .models import ThrottleHit

WINDOW = timedelta(hours=1)
SALT = "accounts.throttle"

# action → (setting of the limit per address, setting of the limit per client address)
LIMITS = {
    "signup": ("SIGNUP_LIMIT_PER_ADDRESS_PER_HOUR", "SIGNUP_LIMIT_PER_CLIENT_PER_HOUR"),
    "password_reset": ("PASSWORD_RESET_LIMIT_PER_ADDRESS_PER_HOUR", "PASSWORD_RESET_LIMIT_PER_CLIENT_PER_HOUR"),
    # An address change mails the new address a link, as a sign-up does: the same limits.
    "email_change": ("SIGNUP_LIMIT_PER_ADDRESS_PER_HOUR", "SIGNUP_LIMIT_PER_CLIENT_PER_HOUR"),
}

MESSAGE = "Too many requests for this address or from your network. Please try again in an hour."


class Throttled(ValidationError):
    """A limit was reached; nothing was done. The message is the same for every limit."""

    def __init__(self):
        super().__init__(MESSAGE, code="throttled")


def _digest(value: str) -> str:
    return salted_hmac(SALT, value, algorithm="sha256").hexdigest()


def hit(action: str, *, address: str, client: str | None) -> None:
    """Count one ``action`` request for the (canonical) ``address`` from ``client``; raise Throttled,
    and count nothing, when it would pass a limit."""
    address_setting, client_setting = LIMITS[action]
    buckets = [(f"{action}:address", _digest(address), getattr(settings, address_setting))]
    if client:
        buckets.append((f"{action}:client", _digest(client), getattr(settings, client_setting)))
    now = timezone.now()
    since = now - WINDOW
    with transaction.atomic():
        ThrottleHit.objects.filter(created_at__lt=since).delete()  # forget what no limit counts any more
        rows = ThrottleHit.objects.bulk_create([ThrottleHit(bucket=b, key=k, created_at=now) for b, k, _ in buckets])
    # Committed (unless a caller holds a transaction open): other processes count these rows now.
    for bucket, key, limit in buckets:
        if ThrottleHit.objects.filter(bucket=bucket, key=key, created_at__gte=since).count() > limit:
            ThrottleHit.objects.filter(pk__in=[row.pk for row in rows]).delete()
            raise Throttled
