"""The invitation e-mail: its link, its text and HTML parts, and sending many over one connection.

The raw link token exists only here, in memory, between the service that made it and the mail
server: it is never stored, logged or put in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import get_template

# Messages handed to the connection at a time: big enough to be quick, small enough to report
# progress on a long run.
SEND_CHUNK = 100


def invite_url(token: str) -> str:
    """The accept page of an invitation; the only place that knows its path."""
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}/invites/{token}/"


def inviter_label(workspace, inviter) -> str:
    """How the e-mail names who invited: the person, or the workspace when the system did."""
    if inviter is None:
        return f"The administrators of {workspace.name}"
    if inviter.full_name:
        return f"{inviter.full_name} ({inviter.email})"
    return inviter.email


class _Templates:
    """The three templates, loaded once for a whole batch."""

    def __init__(self):
        self.subject = get_template("emails/invite_subject.txt")
        self.text = get_template("emails/invite.txt")
        self.html = get_template("emails/invite.html")

    def message(self, *, workspace, inviter, invite, token: str) -> EmailMultiAlternatives:
        context = {
            "workspace": workspace.name,
            "inviter": inviter_label(workspace, inviter),
            "role": invite.role.name,
            "email": invite.email,
            "url": invite_url(token),
            "expires_at": invite.expires_at,
        }
        subject = " ".join(self.subject.render(context).split())
        message = EmailMultiAlternatives(
            subject,
            self.text.render(context),
            to=[invite.email],
            reply_to=[inviter.email] if inviter is not None else None,
        )
        message.attach_alternative(self.html.render(context), "text/html")
        return message


def send_invite_emails(
    *,
    workspace,
    inviter,
    invites_and_tokens: Sequence[tuple[object, str]],
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Send one e-mail per (invite, token) over ONE connection; returns how many were sent.

    Messages are built chunk by chunk, so 10,000 invitations never sit rendered in memory at once.
    """
    total = len(invites_and_tokens)
    if not total:
        return 0
    templates = _Templates()
    sent = 0
    # The context manager opens the connection once; send_messages on an open connection reuses it.
    with get_connection() as connection:
        for start in range(0, total, SEND_CHUNK):
            chunk = invites_and_tokens[start : start + SEND_CHUNK]
            messages = [
                templates.message(workspace=workspace, inviter=inviter, invite=invite, token=token)
                for invite, token in chunk
            ]
            sent += connection.send_messages(messages) or 0
            if on_progress is not None:
                on_progress(start + len(chunk), total)
    return sent
