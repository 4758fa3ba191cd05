"""Billing: a workspace's plan and billing details, its billing e-mail addresses, its plan change
requests and its invoices.

Rows are written only through ``billing.services`` (the workspace's people) and
``billing.staff`` (platform staff in the admin): capability check, one audit event per change.
The plan is a key of the catalogue in ``settings.BILLING_PLANS`` (see ``billing.plans``), not a
choice list, so changing the catalogue needs no migration.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone


class BillingAccount(models.Model):
    """A workspace's plan and the details printed on its invoices. A workspace without one is on
    the catalogue's first plan with no details; the first billing change creates it."""

    workspace = models.OneToOneField("workspaces.Workspace", on_delete=models.CASCADE, related_name="billing_account")
    plan = models.CharField(max_length=40)
    company_name = models.CharField(max_length=200, blank=True)
    address = models.TextField(blank=True)
    vat_id = models.CharField("VAT id", max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["workspace__name"]

    def __str__(self):
        return f"Billing of workspace {self.workspace_id}"


class BillingContact(models.Model):
    """An address that receives billing e-mail (seed 002: "add another billing email")."""

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="billing_contacts")
    email = models.EmailField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["email", "id"]
        constraints = [models.UniqueConstraint("workspace", Lower("email"), name="billing_contact_unique")]

    def __str__(self):
        return self.email


class PlanChangeRequest(models.Model):
    """A plan change asked for in the browser. An upgrade takes effect at once and is stored as
    done, for the history; a downgrade or a cancellation stays open until staff handle it."""

    class Kind(models.TextChoices):
        UPGRADE = "upgrade", "Upgrade"
        DOWNGRADE = "downgrade", "Downgrade"
        CANCEL = "cancel", "Cancellation"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        DECLINED = "declined", "Declined"

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="plan_change_requests")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    from_plan = models.CharField(max_length=40)
    to_plan = models.CharField(max_length=40, blank=True, help_text="Empty for a cancellation.")
    reason = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="Staff's note on how the request was handled.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "status"])]
        constraints = [
            # One open request per workspace, also when two people ask at the same moment.
            models.UniqueConstraint(fields=["workspace"], condition=Q(status="open"), name="plan_request_one_open"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} request {self.pk}"


class Invoice(models.Model):
    """An invoice, created by staff in the admin and listed on the billing page."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="invoices")
    number = models.CharField(max_length=40, unique=True)
    period_start = models.DateField()
    period_end = models.DateField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    issued_at = models.DateField("issued on", default=timezone.localdate)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["workspace", "-issued_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="invoice_period_order"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="invoice_amount_not_negative"),
        ]

    def __str__(self):
        return self.number
