"""The e-mail about a downgrade or cancellation request, to the workspace's billing contacts.

Platform staff get a copy at ``DEFAULT_FROM_EMAIL`` (the portal's own mailbox): they carry the
request out. Queued for the mail worker after the transaction commits (``kernel.mail.deliver``), so a
rolled-back request never mails anyone.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse

from kernel.mail import deliver

from .plans import plan_or_unknown


def billing_url(workspace) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("billing:index", args=[workspace.slug])


def plan_request_message(*, workspace, plan_request, recipients: list[str]) -> EmailMessage:
    context = {
        "workspace": workspace.name,
        "kind": plan_request.get_kind_display(),
        "is_cancel": plan_request.kind == plan_request.Kind.CANCEL,
        "from_plan": plan_or_unknown(plan_request.from_plan).name,
        "to_plan": plan_or_unknown(plan_request.to_plan).name if plan_request.to_plan else "",
        "reason": plan_request.reason,
        "requested_by": plan_request.requested_by.email if plan_request.requested_by_id else "",
        "created_at": plan_request.created_at,
        "url": billing_url(workspace),
    }
    subject = " ".join(render_to_string("emails/billing/plan_request_subject.txt", context).split())
    return EmailMessage(
        subject,
        render_to_string("emails/billing/plan_request.txt", context),
        to=recipients,
        cc=[settings.DEFAULT_FROM_EMAIL],
        reply_to=[context["requested_by"]] if context["requested_by"] else None,
    )


def send_plan_request_email(*, workspace, plan_request, recipients: list[str]) -> int:
    return deliver([plan_request_message(workspace=workspace, plan_request=plan_request, recipients=recipients)])


def send_plan_handled_email(*, workspace, plan_request, plan: str, recipients: list[str]) -> int:
    """Tell the billing contacts how staff handled a request, and the plan the workspace is on."""
    context = {
        "workspace": workspace.name,
        "kind": plan_request.get_kind_display().lower(),
        "status": plan_request.get_status_display().lower(),
        "is_done": plan_request.status == plan_request.Status.DONE,
        "plan": plan_or_unknown(plan).name,
        "note": plan_request.note,
        "url": billing_url(workspace),
    }
    subject = " ".join(render_to_string("emails/billing/plan_handled_subject.txt", context).split())
    return deliver([EmailMessage(subject, render_to_string("emails/billing/plan_handled.txt", context), to=recipients)])
