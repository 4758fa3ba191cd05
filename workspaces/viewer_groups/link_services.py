"""Outside viewers of a restricted published experience prove an address by a one-time e-mailed link.

- ``viewer_link_request``: if the address is in one of the experience's viewer groups (and under
  the rate limit) a link is made and mailed. Its outcome is for tests and logs only: the page
  shows the same words whatever happened, so it never reveals who may view.
- ``viewer_link_state`` (in ``selectors``, for the GET of the link, which changes nothing, so mail
  scanners that open links cannot use them up) and ``viewer_link_redeem`` (for the POST, which uses the link).
- ``grant_session`` / ``session_may_view`` (in ``selectors``): the session remembers which address was proven for
  which experience; the address is checked against the groups again on every view, so removing it
  from a group ends its access.

The token has 256 bits and exists only in the e-mail: the database holds its SHA-256. Opening an
experience is not a change to the workspace, so nothing here is audited, and nothing secret is
logged anywhere.
"""

from __future__ import annotations

import enum
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import normalize_email
from kernel.mail import deliver
from workspaces.models import Experience, ViewerLink
from workspaces.viewer_groups.selectors import (
    SESSION_KEY,
    LinkState,
    address_may_view,
    hash_token,
    is_restricted,
    link_state_of,
)

TOKEN_BYTES = 32  # 256 bits; at least 128 are asked for
# Rows are kept a day, for the "already used" / "expired" explanations and the rate limit; older
# ones are purged (they hold the addresses of outside people, so they do not stay forever).
KEEP_LINKS_FOR = timedelta(days=1)
RATE_WINDOW = timedelta(hours=1)


def link_max_age() -> timedelta:
    return timedelta(minutes=getattr(settings, "VIEWER_LINK_MAX_AGE_MINUTES", 30))


def sends_per_hour() -> int:
    return getattr(settings, "VIEWER_LINK_LIMIT_PER_HOUR", 5)


class LinkRequest(enum.StrEnum):
    SENT = "sent"
    NOT_ALLOWED = "not_allowed"
    RATE_LIMITED = "rate_limited"


class LinkUnusable(Exception):
    def __init__(self, state: LinkState):
        super().__init__(state)
        self.state = state


def viewer_link_request(*, experience: Experience, email: str) -> LinkRequest:
    """Mail a one-time link to ``email`` if it may view the restricted ``experience``."""
    address = normalize_email(email)
    with transaction.atomic():
        # Requests for one experience queue here, so two at once cannot both pass the rate limit.
        Experience.objects.select_for_update().filter(pk=experience.pk).first()
        if not is_restricted(experience) or not address_may_view(experience, address):
            return LinkRequest.NOT_ALLOWED
        now = timezone.now()
        ViewerLink.objects.filter(experience=experience, created_at__lt=now - KEEP_LINKS_FOR).delete()
        recent = ViewerLink.objects.filter(experience=experience, email=address, created_at__gte=now - RATE_WINDOW)
        if recent.count() >= sends_per_hour():
            return LinkRequest.RATE_LIMITED
        token = secrets.token_urlsafe(TOKEN_BYTES)
        link = ViewerLink.objects.create(
            experience=experience,
            email=address,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + link_max_age(),
        )
    _send_link_email(experience, link, token)
    return LinkRequest.SENT


def viewer_link_url(experience: Experience, token: str) -> str:
    path = reverse("public:link", args=[experience.public_token, token])
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{path}"


def _send_link_email(experience: Experience, link: ViewerLink, token: str) -> None:
    context = {
        "title": experience.title,
        "workspace": experience.workspace.name,
        "email": link.email,
        "url": viewer_link_url(experience, token),
        "expires_at": link.expires_at,
        "minutes": int(link_max_age().total_seconds() // 60),
    }
    subject = " ".join(render_to_string("emails/viewer_link_subject.txt", context).split())
    message = EmailMultiAlternatives(subject, render_to_string("emails/viewer_link.txt", context), to=[link.email])
    message.attach_alternative(render_to_string("emails/viewer_link.html", context), "text/html")
    # Queued, not sent: the answer does not wait for the mail server, so its timing does not tell
    # whether the address is in a viewer group.
    deliver([message])


@transaction.atomic
def viewer_link_redeem(*, experience: Experience, token: str) -> str:
    """Use the link up and return the address it proves; ``LinkUnusable`` says why it cannot be used.

    The row is locked, so two clicks at the same moment use it once.
    """
    link = ViewerLink.objects.select_for_update().filter(token_hash=hash_token(token)).first()
    state = link_state_of(experience, link)
    if state != LinkState.VALID:
        raise LinkUnusable(state)
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    return link.email


def grant_session(session, experience: Experience, email: str) -> None:
    granted = dict(session.get(SESSION_KEY, {}))
    granted[str(experience.pk)] = normalize_email(email)
    session[SESSION_KEY] = granted
    # A new session key once access is proven, so a session id planted before cannot ride on it.
    session.cycle_key()
