"""Staff changes to billing and privacy requests name the staff member in the audit log."""

import datetime

from audit.models import AuditEvent
from billing.models import Invoice
from billing.staff import invoice_create, invoice_set_status, plan_set
from privacy.models import DataRequest
from privacy.services import data_request_create, data_request_set_status
from tests.factories import UserFactory, make_site


def test_billing_staff_writes_name_the_staff_member(workspace):
    staff = UserFactory(is_staff=True, is_superuser=True)
    plan_set(workspace=workspace, plan_key="scale", actor=staff)
    invoice = invoice_create(
        workspace=workspace,
        number="INV-1",
        period_start=datetime.date(2026, 10, 1),
        period_end=datetime.date(2026, 10, 31),
        amount="799.00",
        actor=staff,
    )
    invoice_set_status(invoice=invoice, status=Invoice.Status.PAID, actor=staff)
    actions = ["billing.plan_set", "billing.invoice_create", "billing.invoice_status"]
    events = AuditEvent.objects.filter(action__in=actions)
    assert sorted(events.values_list("action", "actor_email")) == sorted((a, staff.email) for a in actions)


def test_privacy_staff_status_change_names_the_staff_member(workspace, owner):
    staff = UserFactory(is_staff=True, is_superuser=True)
    site = make_site(workspace)
    request = data_request_create(
        actor=owner, workspace=workspace, site=site, kind=DataRequest.Kind.EXPORT, subject="visitor-42"
    )
    data_request_set_status(data_request=request, status=DataRequest.Status.IN_PROGRESS, actor=staff)
    assert AuditEvent.objects.get(action="data_request.status").actor == staff
