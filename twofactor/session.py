"""Where a signed-in session stands with two-factor authentication.

django-otp's ``OTPMiddleware`` says whether the session is *verified* (``user.is_verified()``: a
code was accepted in this session). This module adds *pending*: the person signed in with their
password, has two-factor authentication on, and has not entered a code yet. Pending is decided
once, when the person signs in, and kept in the session, so that ordinary pages cost no query to
find out.

It also keeps *when* the person last proved who they are in this session (a password, a code or a
passkey), so that adding a passkey can ask for a recent sign-in (``signed_in_recently``).

A single sign-on whose identity provider said the sign-in was multi-factor, through a connection
that trusts it (``sso.mfa``), is *verified by the identity provider* for that connection's
workspace only (``mark_verified_by_identity_provider``, ``is_verified_for``): its pages open
without a code while the connection stays enabled and trusting. It is not django-otp's
verification, so it opens no other workspace and not the admin. Every sign-in forgets it
(``mark_pending`` runs inside Django's ``login``, before the single sign-on marks the session
again).
"""

from __future__ import annotations

import time

import django_otp
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from sso.models import Connection

from . import devices

PENDING = "two_factor_pending"
PROVED_AT = "two_factor_proved_at"
# The workspace whose trusted identity provider verified this sign-in, and how (for the record).
IDP_VERIFIED = "two_factor_idp_workspace"
IDP_CONNECTION = "two_factor_idp_connection"
VERIFIED_HOW = "two_factor_verified_how"
BY_IDENTITY_PROVIDER = "identity provider"


@receiver(user_logged_in, dispatch_uid="twofactor.mark_pending")
def mark_pending(sender, request, user, **kwargs) -> None:
    """After a correct password, someone with two-factor authentication still owes a code."""
    if request is None or not hasattr(request, "session"):
        return
    for key in (IDP_VERIFIED, IDP_CONNECTION, VERIFIED_HOW):
        request.session.pop(key, None)
    mark_proved(request)
    if devices.has_two_factor(user):
        request.session[PENDING] = True


def mark_proved(request) -> None:
    """The person just gave their password, a code or a passkey in this session."""
    request.session[PROVED_AT] = int(time.time())


def signed_in_recently(request) -> bool:
    """Whether the person proved who they are in this session within
    ``PASSKEY_RECENT_SIGN_IN_SECONDS``."""
    proved_at = request.session.get(PROVED_AT)
    if not isinstance(proved_at, int):
        return False
    return 0 <= time.time() - proved_at <= settings.PASSKEY_RECENT_SIGN_IN_SECONDS


def is_pending(request) -> bool:
    return bool(request.session.get(PENDING))


def is_verified(user) -> bool:
    """Whether a code was accepted in this session (False where OTPMiddleware did not run)."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def mark_verified(request, device) -> None:
    """The person proved they hold ``device``: the session is verified and no longer pending."""
    # A new session key for the higher level of trust, as Django does at sign-in.
    request.session.cycle_key()
    django_otp.login(request, device)
    request.session.pop(PENDING, None)
    mark_proved(request)


def mark_verified_by_identity_provider(request, connection) -> None:
    """The identity provider of ``connection`` (an ``sso.Connection`` that trusts it) said this
    sign-in was multi-factor: the session is verified for the connection's workspace, and owes no
    code (called right after ``login``)."""
    request.session.cycle_key()
    request.session[IDP_VERIFIED] = connection.workspace_id
    request.session[IDP_CONNECTION] = connection.pk
    request.session[VERIFIED_HOW] = BY_IDENTITY_PROVIDER
    request.session.pop(PENDING, None)
    mark_proved(request)


def verified_by_identity_provider(request) -> int | None:
    """The workspace whose identity provider verified this session, or None."""
    found = request.session.get(IDP_VERIFIED)
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def is_verified_for(request, workspace_id: int) -> bool:
    """Whether this session satisfies ``workspace_id``'s two-factor requirement: a code (or passkey)
    accepted in it, or that workspace's identity provider's multi-factor sign-in, as long as its
    connection is still enabled and still trusts it (one query, for such sessions only)."""
    if is_verified(request.user):
        return True
    connection_id = request.session.get(IDP_CONNECTION)
    if verified_by_identity_provider(request) != workspace_id or not isinstance(connection_id, int):
        return False
    return Connection.objects.filter(
        pk=connection_id, workspace_id=workspace_id, enabled=True, trust_idp_mfa=True
    ).exists()


def clear_pending(request) -> None:
    request.session.pop(PENDING, None)
