"""Mail about membership: who is told what, and when.

- a join request was filed: to the people who may answer it (``invite_members``), at most
  ``JOIN_REQUEST_RECIPIENTS_MAX``, owners and admins first; setting ``notify_member_requests``;
- a join request was approved or declined: to the person who asked; ``notify_workspace_changes``;
- a member's role changed: to the member, unless they changed it themselves;
  ``notify_workspace_changes``;
- a member was removed: to the person removed; ``notify_workspace_changes``;
- an invitation was accepted: to whoever sent it; ``notify_member_requests``.

Each notice has two halves:

- the notice (``join_request_filed``, ``role_changed``, …) is called by the service that made the
  change, inside its transaction. It decides who is told, reads what the mail says from objects
  the service already holds (no query, except the one that finds who may answer a join request),
  and schedules the send for after the commit (``transaction.on_commit``): a change that rolls
  back mails nobody.
- the send (``send_join_request_filed``, ``send_role_changed``, …, one per notice) takes only
  addresses and strings, reads no database, renders ``templates/emails/membership/<name>``
  (subject, plain text, HTML) and hands the messages to the mail queue (``kernel.mail.deliver``),
  whose worker sends them.

Services call notices; views never do, so a change made from the browser, the admin, a command or
a bulk action mails the same people. No mail carries a token or anything else that grants access:
only names, roles, times (in UTC) and links to pages that ask the reader to sign in.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from kernel.mail import deliver
from permissions.policy import holders
from workspaces.models import Invite, JoinRequest, Membership, Workspace

# A join request is answered by anyone with invite_members; in a large workspace that can be
# hundreds of people. Mailing them all is noise (and one message each), so the first this many by
# role (owners, then admins, then the other roles in their list order), then by seniority, are told.
# The others still see the request on the people page and the join-requests page.
JOIN_REQUEST_RECIPIENTS_MAX = 10

TEMPLATE_DIR = "emails/membership"


# --- what the mails say ----------------------------------------------------------------------------


def _absolute(path: str) -> str:
    """Links in mail come from settings.PORTAL_BASE_URL, never from a request's Host header."""
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def in_utc(moment: datetime.datetime) -> str:
    """A time as the mails write it, always in UTC whatever the server's time zone: "1 December 2026, 09:30 UTC"."""
    moment = moment.astimezone(datetime.UTC)
    return f"{moment.day} {moment:%B %Y, %H:%M} UTC"


def person_label(user) -> str:
    """Who did it, as a mail names them; the system (None) is the portal's administrators."""
    if user is None:
        return "An administrator of the portal"
    return f"{user.full_name} ({user.email})" if user.full_name else user.email


def _workspace_context(workspace: Workspace) -> dict[str, str]:
    return {
        "workspace": workspace.name,
        "workspace_url": _absolute(workspace.get_absolute_url()),
        "settings_url": _absolute(reverse("accounts:profile")),
    }


# --- sending: plain data in, mail out; no database ----------------------------------------------------


def _send(name: str, recipients: Sequence[str], context: dict[str, str]) -> int:
    """One message per recipient (nobody sees who else was told), queued together; answers how many."""
    if not recipients:
        return 0
    subject = " ".join(render_to_string(f"{TEMPLATE_DIR}/{name}_subject.txt", context).split())
    text = render_to_string(f"{TEMPLATE_DIR}/{name}.txt", context)
    html = render_to_string(f"{TEMPLATE_DIR}/{name}.html", context)
    messages = []
    for address in recipients:
        message = EmailMultiAlternatives(subject, text, to=[address])
        message.attach_alternative(html, "text/html")
        messages.append(message)
    return deliver(messages)


def send_join_request_filed(*, recipients: Sequence[str], context: dict[str, str]) -> int:
    return _send("join_request_filed", recipients, context)


def send_join_request_answered(*, recipients: Sequence[str], context: dict[str, str]) -> int:
    return _send("join_request_answered", recipients, context)


def send_role_changed(*, recipients: Sequence[str], context: dict[str, str]) -> int:
    return _send("role_changed", recipients, context)


def send_member_removed(*, recipients: Sequence[str], context: dict[str, str]) -> int:
    return _send("member_removed", recipients, context)


def send_invite_accepted(*, recipients: Sequence[str], context: dict[str, str]) -> int:
    return _send("invite_accepted", recipients, context)


def _after_commit(send, recipients: list[str], context: dict[str, str]) -> None:
    if recipients:
        transaction.on_commit(partial(send, recipients=recipients, context=context))


# --- notices: called by the services, inside their transaction ----------------------------------------


def join_request_recipients(workspace: Workspace) -> list[str]:
    """Who hears of a new join request: holders of invite_members who want such mail, owners and
    admins first, at most JOIN_REQUEST_RECIPIENTS_MAX. One query whatever the workspace's size."""
    found = (
        holders("invite_members", workspace)
        .filter(user__notify_member_requests=True)
        .order_by("role__position", "role__name", "joined_at", "pk")
        .values_list("user__email", flat=True)
    )
    return list(found[:JOIN_REQUEST_RECIPIENTS_MAX])


def join_request_filed(join_request: JoinRequest) -> None:
    workspace, person = join_request.workspace, join_request.user
    domain = join_request.domain
    context = {
        **_workspace_context(workspace),
        "person": person_label(person),
        "domain": domain.domain if domain is not None else "",
        "role": domain.role.name if domain is not None else "",
        "asked_at": in_utc(join_request.created_at),
        "requests_url": _absolute(reverse("join_requests:index", args=[workspace.slug])),
    }
    _after_commit(send_join_request_filed, join_request_recipients(workspace), context)


def join_request_answered(join_request: JoinRequest, *, membership: Membership | None) -> None:
    """Approved (``membership`` is what the person now holds) or declined (``membership`` None)."""
    person = join_request.user
    if not person.notify_workspace_changes or not person.is_active:
        return
    context = {
        **_workspace_context(join_request.workspace),
        "approved": "yes" if membership is not None else "",
        "role": membership.role.name if membership is not None else "",
        "answered_by": person_label(join_request.decided_by),
        "answered_at": in_utc(join_request.decided_at or timezone.now()),
    }
    _after_commit(send_join_request_answered, [person.email], context)


def role_changed(membership: Membership, *, previous_role, actor) -> None:
    """To the member whose role changed, unless they did it themselves (an owner stepping down)."""
    member = membership.user
    if not member.notify_workspace_changes or (actor is not None and actor.pk == member.pk):
        return
    context = {
        **_workspace_context(membership.workspace),
        "previous_role": previous_role.name,
        "role": membership.role.name,
        "changed_by": person_label(actor),
        "changed_at": in_utc(timezone.now()),
    }
    _after_commit(send_role_changed, [member.email], context)


def member_removed(membership: Membership, *, actor) -> None:
    """To the person removed (leaving is one's own doing: no mail). No link to the workspace:
    they cannot open it any more."""
    member = membership.user
    if not member.notify_workspace_changes or (actor is not None and actor.pk == member.pk):
        return
    workspace = membership.workspace
    context = {
        "workspace": workspace.name,
        "settings_url": _absolute(reverse("accounts:profile")),
        "role": membership.role.name,
        "removed_by": person_label(actor),
        "removed_at": in_utc(timezone.now()),
    }
    _after_commit(send_member_removed, [member.email], context)


def invite_accepted(invite: Invite, *, membership: Membership) -> None:
    """To whoever sent the invitation, if they want such mail."""
    inviter = invite.invited_by
    if inviter is None or not inviter.is_active or not inviter.notify_member_requests:
        return
    # An inviter who left the workspace is not told either: invite_accept refuses such an
    # invitation (it offers more than its inviter may give now), so no accept reaches here.
    context = {
        **_workspace_context(invite.workspace),
        "person": person_label(membership.user),
        "role": membership.role.name,
        "accepted_at": in_utc(invite.accepted_at or timezone.now()),
        "people_url": _absolute(reverse("people:index", args=[invite.workspace.slug])),
    }
    _after_commit(send_invite_accepted, [inviter.email], context)
