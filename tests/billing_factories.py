"""Rows of the billing and privacy apps, made through their services (for the admin's world)."""

from __future__ import annotations

import datetime

from billing.services import billing_contact_add, plan_cancel
from billing.staff import invoice_create, plan_set
from privacy.services import data_request_create


def make_billing_and_privacy(workspace, owner, site) -> None:
    """An account on a paid plan, a billing contact, an open cancellation request, an invoice and a
    data request."""
    plan_set(workspace=workspace, plan_key="business")
    billing_contact_add(actor=None, workspace=workspace, email="billing@acme.test")
    plan_cancel(actor=owner, workspace=workspace, reason="Budget")
    invoice_create(
        workspace=workspace,
        number="INV-0001",
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 1, 31),
        amount="199.00",
    )
    data_request_create(actor=owner, workspace=workspace, site=site, kind="export", subject="visitor-1")
