"""Reads for the billing pages, each one query whatever the number of rows."""

from __future__ import annotations

from django.db.models import QuerySet
from django.db.models.functions import Lower

from workspaces.models import Workspace

from .models import BillingAccount, BillingContact, Invoice, PlanChangeRequest
from .plans import default_plan

HISTORY_SHOWN = 10


def billing_account(workspace: Workspace) -> BillingAccount:
    """The workspace's account, or an unsaved one on the first plan (reading never writes)."""
    account = BillingAccount.objects.filter(workspace=workspace).first()
    return account or BillingAccount(workspace=workspace, plan=default_plan().key)


def billing_contacts(workspace: Workspace) -> QuerySet[BillingContact]:
    return BillingContact.objects.filter(workspace=workspace).order_by(Lower("email"), "id")


def contact_in(workspace: Workspace, pk: int) -> BillingContact | None:
    return BillingContact.objects.filter(workspace=workspace, pk=pk).select_related("workspace").first()


def open_requests(workspace: Workspace) -> QuerySet[PlanChangeRequest]:
    return PlanChangeRequest.objects.filter(workspace=workspace, status=PlanChangeRequest.Status.OPEN).select_related(
        "requested_by"
    )


def recent_plan_changes(workspace: Workspace) -> QuerySet[PlanChangeRequest]:
    """The latest handled requests and upgrades, newest first."""
    handled = PlanChangeRequest.objects.filter(workspace=workspace).exclude(status=PlanChangeRequest.Status.OPEN)
    return handled.select_related("requested_by")[:HISTORY_SHOWN]


def invoices_of(workspace: Workspace) -> QuerySet[Invoice]:
    return Invoice.objects.filter(workspace=workspace).order_by("-issued_at", "-id")


def open_request(workspace: Workspace) -> PlanChangeRequest | None:
    return PlanChangeRequest.objects.filter(workspace=workspace, status=PlanChangeRequest.Status.OPEN).first()


def contact_emails(workspace: Workspace) -> list[str]:
    contacts = BillingContact.objects.filter(workspace=workspace).order_by(Lower("email"), "id")
    return list(contacts.values_list("email", flat=True))
