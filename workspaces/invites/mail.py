"""The invitation e-mail: its link, its text and HTML parts, and queueing many at once.

The raw link token exists only here, in memory, between the service that made it and the mail
server (through the mail queue, ``kernel.mail``, which logs only how many messages a task holds):
it is never stored, logged or put in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import get_template

from kernel.mail import CHUNK, deliver

# Messages queued at a time, one mail task each (sent over one connection by the worker): big
# enough to be quick, small enough to report progress on a long run.
SEND_CHUNK = CHUNK


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
    """Queue one e-mail per (invite, token), in tasks of ``SEND_CHUNK``; returns how many were queued.

    Messages are built chunk by chunk, so 10,000 invitations never sit rendered in memory at once.
    Called after the commit: each chunk is queued as soon as it is built.
    """
    total = len(invites_and_tokens)
    if not total:
        return 0
    templates = _Templates()
    sent = 0
    for start in range(0, total, SEND_CHUNK):
        chunk = invites_and_tokens[start : start + SEND_CHUNK]
        messages = [
            templates.message(workspace=workspace, inviter=inviter, invite=invite, token=token)
            for invite, token in chunk
        ]
        sent += deliver(messages)
        if on_progress is not None:
            on_progress(start + len(chunk), total)
    return sent
