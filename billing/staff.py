"""Billing writes of platform staff (the admin calls these): handling plan requests, invoices.

Staff are not members of the workspaces they serve, so these take no capability check; the admin
restricts who reaches them. The audit event names the staff member passed as ``actor`` (none
for a change made by the system); ``handled_by``/``created_by`` on the row name them too.
One audit event per change, none when nothing changes; bad input raises ``RuleViolation``.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from audit.services import record
from kernel.errors import RuleViolation
from kernel.locks import lock_workspace
from workspaces.models import Workspace

from .mail import send_plan_handled_email
from .models import Invoice, PlanChangeRequest
from .plans import default_plan, plan_by_key
from .selectors import contact_emails
from .services import account_for_update

CURRENCY = re.compile(r"^[A-Z]{3}$")


@transaction.atomic
def plan_request_handle(*, plan_request: PlanChangeRequest, status: str, note: str = "", actor=None):
    """Close an open downgrade or cancellation request: ``done`` carries it out (the plan changes;
    a cancellation returns the workspace to the first plan), ``declined`` leaves the plan."""
    Status = PlanChangeRequest.Status
    if status not in (Status.DONE, Status.DECLINED):
        raise RuleViolation("A request is handled as done or declined.")
    workspace = plan_request.workspace
    lock_workspace(workspace)
    plan_request = PlanChangeRequest.objects.select_for_update().get(pk=plan_request.pk)
    if plan_request.status != Status.OPEN:
        raise RuleViolation(f"Request {plan_request.pk} was already handled ({plan_request.get_status_display()}).")
    account = account_for_update(workspace)
    before = {"status": plan_request.status, "plan": account.plan}
    now = timezone.now()
    if status == Status.DONE:
        account.plan, account.updated_at = plan_request.to_plan or default_plan().key, now
        account.save(update_fields=["plan", "updated_at"])
    plan_request.status, plan_request.note = status, (note or "").strip()
    plan_request.handled_by, plan_request.handled_at = actor, now
    plan_request.save(update_fields=["status", "note", "handled_by", "handled_at"])
    record(
        actor=actor,
        action=f"billing.plan_request_{status}",
        workspace=workspace,
        target=plan_request,
        before=before,
        after={"status": status, "plan": account.plan, "note": plan_request.note},
    )
    recipients = contact_emails(workspace) or ([plan_request.requested_by.email] if plan_request.requested_by else [])
    if recipients:
        plan = account.plan
        transaction.on_commit(
            lambda: send_plan_handled_email(
                workspace=workspace, plan_request=plan_request, plan=plan, recipients=recipients
            )
        )
    return plan_request


@transaction.atomic
def plan_set(*, workspace: Workspace, plan_key: str, actor=None):
    """Put a workspace on a plan at once (a correction or an agreed change; no request)."""
    if plan_by_key(plan_key) is None:
        raise RuleViolation(f"There is no plan called “{plan_key}”.")
    lock_workspace(workspace)
    account = account_for_update(workspace)
    if account.plan == plan_key:
        return account
    before = account.plan
    account.plan, account.updated_at = plan_key, timezone.now()
    account.save(update_fields=["plan", "updated_at"])
    record(
        actor=actor,
        action="billing.plan_set",
        workspace=workspace,
        target=account,
        before={"plan": before},
        after={"plan": plan_key},
    )
    return account


# --- invoices --------------------------------------------------------------------------------------


def _invoice_state(invoice: Invoice) -> dict:
    return {
        "number": invoice.number,
        "period": f"{invoice.period_start:%Y-%m-%d} – {invoice.period_end:%Y-%m-%d}",
        "amount": str(invoice.amount),
        "currency": invoice.currency,
        "status": invoice.status,
    }


def _clean_amount(amount) -> Decimal:
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise RuleViolation(f"“{amount}” is not an amount.") from None
    if value < 0 or value >= Decimal("1e10"):
        raise RuleViolation("An invoice's amount is between 0 and 9,999,999,999.99.")
    return value


@transaction.atomic
def invoice_create(
    *,
    workspace: Workspace,
    number: str,
    period_start: datetime.date,
    period_end: datetime.date,
    amount,
    currency: str = "EUR",
    status: str = Invoice.Status.OPEN,
    issued_at: datetime.date | None = None,
    actor=None,
) -> Invoice:
    number, currency = (number or "").strip(), (currency or "").strip().upper()
    problems = []
    if not number or len(number) > 40:
        problems.append("Give the invoice a number of at most 40 characters.")
    if period_end < period_start:
        problems.append("The period ends before it starts.")
    if not CURRENCY.match(currency):
        problems.append("The currency is a three-letter code, e.g. EUR.")
    if status not in Invoice.Status.values:
        problems.append(f"“{status}” is not an invoice status.")
    if problems:
        raise RuleViolation(problems)
    amount = _clean_amount(amount)
    lock_workspace(workspace)
    if Invoice.objects.filter(number__iexact=number).exists():
        raise RuleViolation(f"An invoice numbered {number} already exists.")
    invoice = Invoice.objects.create(
        workspace=workspace,
        number=number,
        period_start=period_start,
        period_end=period_end,
        amount=amount,
        currency=currency,
        status=status,
        issued_at=issued_at or timezone.localdate(),
        created_by=actor,
    )
    record(
        actor=actor, action="billing.invoice_create", workspace=workspace, target=invoice, after=_invoice_state(invoice)
    )
    return invoice


@transaction.atomic
def invoice_set_status(*, invoice: Invoice, status: str, actor=None) -> Invoice:
    """Mark an invoice paid or void (or open again); a void invoice stays void."""
    if status not in Invoice.Status.values:
        raise RuleViolation(f"“{status}” is not an invoice status.")
    invoice = Invoice.objects.select_for_update().select_related("workspace").get(pk=invoice.pk)
    if invoice.status == status:
        return invoice
    if invoice.status == Invoice.Status.VOID:
        raise RuleViolation(f"Invoice {invoice.number} is void and stays void; issue a new one instead.")
    before = invoice.status
    invoice.status = status
    invoice.save(update_fields=["status"])
    record(
        actor=actor,
        action="billing.invoice_status",
        workspace=invoice.workspace,
        target=invoice,
        before={"status": before},
        after={"status": status},
    )
    return invoice
