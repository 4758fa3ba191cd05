"""Every billing write of a workspace's people (capability ``manage_billing``).

Each function checks the capability through the policy (``actor=None`` is the system), validates
its input before writing (bad input raises ``RuleViolation`` with a message and changes nothing),
writes one audit event per change in the same transaction, and nothing at all when nothing
changes. Writes take the workspace row's lock, so two billing admins acting at the same moment are
applied one after the other (one open plan request, no duplicate contact).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from audit.services import record
from kernel.errors import RuleViolation
from kernel.locks import lock_workspace
from permissions.policy import require
from workspaces.models import Workspace

from .mail import send_plan_request_email
from .models import BillingAccount, BillingContact, PlanChangeRequest
from .plans import default_plan, plan_by_key, plan_or_unknown
from .selectors import contact_emails, open_request

REASON_MAX = 2000
VAT_ID = re.compile(r"^[A-Z]{2}[A-Z0-9+*]{2,18}$")


def account_for_update(workspace: Workspace) -> BillingAccount:
    """The workspace's billing account, made on first use. Call with the workspace locked."""
    account, _created = BillingAccount.objects.get_or_create(workspace=workspace, defaults={"plan": default_plan().key})
    return account


def _refuse_while_open(workspace: Workspace) -> None:
    # Staff carry requests out in order; a second one would make the first one's outcome unclear.
    pending = open_request(workspace)
    if pending is not None:
        raise RuleViolation(
            f"Your {pending.get_kind_display().lower()} request of {pending.created_at:%d %B %Y} is still open. "
            "Our staff handle it first; write to them if it should be withdrawn."
        )


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise RuleViolation(f"Keep the reason under {REASON_MAX} characters.")
    return reason


# --- plan ------------------------------------------------------------------------------------------


@transaction.atomic
def plan_change(*, actor, workspace: Workspace, plan_key: str, reason: str = "") -> PlanChangeRequest | None:
    """Move to another plan of the catalogue.

    An upgrade takes effect at once (and is kept as a done request, for the history); a downgrade
    is a request that staff carry out, e-mailed to the billing contacts. The current plan again
    changes nothing and returns None.
    """
    require(actor, "manage_billing", workspace)
    target = plan_by_key(plan_key)
    if target is None:
        raise RuleViolation(f"There is no plan called “{plan_key}”.")
    reason = _clean_reason(reason)
    lock_workspace(workspace)
    account = account_for_update(workspace)
    if account.plan == target.key:
        return None
    _refuse_while_open(workspace)
    current = plan_or_unknown(account.plan)
    if target.rank > current.rank:
        return _upgrade(actor=actor, account=account, to_plan=target.key, reason=reason)
    return _file_request(
        actor=actor,
        account=account,
        kind=PlanChangeRequest.Kind.DOWNGRADE,
        to_plan=target.key,
        reason=reason,
    )


@transaction.atomic
def plan_cancel(*, actor, workspace: Workspace, reason: str = "") -> PlanChangeRequest:
    """Ask for the cancellation of the paid plan: a request that staff carry out."""
    require(actor, "manage_billing", workspace)
    reason = _clean_reason(reason)
    lock_workspace(workspace)
    account = account_for_update(workspace)
    if account.plan == default_plan().key:
        raise RuleViolation(f"The workspace is on the {default_plan().name} plan: there is nothing to cancel.")
    _refuse_while_open(workspace)
    return _file_request(actor=actor, account=account, kind=PlanChangeRequest.Kind.CANCEL, to_plan="", reason=reason)


def _upgrade(*, actor, account: BillingAccount, to_plan: str, reason: str) -> PlanChangeRequest:
    now = timezone.now()
    from_plan = account.plan
    done = PlanChangeRequest.objects.create(
        workspace=account.workspace,
        kind=PlanChangeRequest.Kind.UPGRADE,
        from_plan=from_plan,
        to_plan=to_plan,
        reason=reason,
        requested_by=actor,
        created_at=now,
        status=PlanChangeRequest.Status.DONE,
        handled_at=now,
    )
    account.plan, account.updated_at = to_plan, now
    account.save(update_fields=["plan", "updated_at"])
    record(
        action="billing.plan_upgrade",
        actor=actor,
        workspace=account.workspace,
        target=account,
        before={"plan": from_plan},
        after={"plan": to_plan},
    )
    return done


def _file_request(*, actor, account: BillingAccount, kind: str, to_plan: str, reason: str) -> PlanChangeRequest:
    workspace = account.workspace
    plan_request = PlanChangeRequest.objects.create(
        workspace=workspace, kind=kind, from_plan=account.plan, to_plan=to_plan, reason=reason, requested_by=actor
    )
    record(
        action="billing.plan_request",
        actor=actor,
        workspace=workspace,
        target=plan_request,
        after={"kind": kind, "from_plan": account.plan, "to_plan": to_plan, "reason": reason},
    )
    recipients = contact_emails(workspace) or ([actor.email] if actor is not None else [])
    transaction.on_commit(
        lambda: send_plan_request_email(workspace=workspace, plan_request=plan_request, recipients=recipients)
    )
    return plan_request


# --- billing details -------------------------------------------------------------------------------


def _details(account: BillingAccount) -> dict:
    return {"company_name": account.company_name, "address": account.address, "vat_id": account.vat_id}


def normalize_vat_id(vat_id: str) -> str:
    """``de 123.456-789`` → ``DE123456789``: the separators people type are not part of the id."""
    return re.sub(r"[\s.\-]", "", vat_id or "").upper()


@transaction.atomic
def billing_details_update(
    *, actor, workspace: Workspace, company_name: str, address: str, vat_id: str
) -> BillingAccount:
    require(actor, "manage_billing", workspace)
    vat_id = normalize_vat_id(vat_id)
    if vat_id and not VAT_ID.match(vat_id):
        raise RuleViolation("Enter the VAT id with its country prefix, e.g. DE123456789.")
    company_name, address = (company_name or "").strip(), (address or "").strip()
    if len(company_name) > 200 or len(address) > 1000:
        raise RuleViolation("Keep the company name under 200 and the address under 1,000 characters.")
    lock_workspace(workspace)
    account = account_for_update(workspace)
    before = _details(account)
    after = {"company_name": company_name, "address": address, "vat_id": vat_id}
    if before == after:
        return account
    for name, value in after.items():
        setattr(account, name, value)
    account.updated_at = timezone.now()
    account.save()
    record(
        action="billing.details_update", actor=actor, workspace=workspace, target=account, before=before, after=after
    )
    return account


# --- billing e-mail addresses ----------------------------------------------------------------------


@transaction.atomic
def billing_contact_add(*, actor, workspace: Workspace, email: str) -> BillingContact:
    require(actor, "manage_billing", workspace)
    email = (email or "").strip()
    try:
        if len(email) > 254:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        raise RuleViolation(f"“{email}” is not a valid e-mail address.") from None
    lock_workspace(workspace)
    if BillingContact.objects.filter(workspace=workspace, email__iexact=email).exists():
        raise RuleViolation(f"{email} already receives the billing e-mails.")
    contact = BillingContact.objects.create(workspace=workspace, email=email, added_by=actor)
    record(action="billing.contact_add", actor=actor, workspace=workspace, target=contact, after={"email": email})
    return contact


@transaction.atomic
def billing_contact_remove(*, actor, contact: BillingContact) -> None:
    workspace = contact.workspace
    require(actor, "manage_billing", workspace)
    lock_workspace(workspace)
    record(
        action="billing.contact_remove",
        actor=actor,
        workspace=workspace,
        target=contact,
        before={"email": contact.email},
    )
    contact.delete()
