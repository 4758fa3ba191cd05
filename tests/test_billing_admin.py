"""Billing in the admin: staff create invoices, handle plan requests and correct accounts through
the billing services (one audit event per change), and the lists cost the same at 5 and 300 rows."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail

from audit.models import AuditEvent
from billing.models import BillingAccount, BillingContact, Invoice, PlanChangeRequest
from billing.services import billing_contact_add, plan_cancel
from billing.staff import invoice_create, plan_set
from tests.admin.conftest import admin_url, form_data, messages_of, run_action
from tests.factories import UserFactory, make_workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@portal.test", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def open_cancel(workspace, owner):
    plan_set(workspace=workspace, plan_key="business")
    billing_contact_add(actor=None, workspace=workspace, email="ap@acme.test")
    return plan_cancel(actor=owner, workspace=workspace, reason="Budget")


def test_staff_add_an_invoice_through_the_service(staff_client, staff, workspace):
    page = staff_client.get(admin_url(Invoice, "add"))
    data = form_data(
        page,
        workspace=str(workspace.pk),
        number="INV-2026-007",
        period_start="2026-02-01",
        period_end="2026-02-28",
        amount="49.00",
        currency="eur",
        status="open",
        issued_at="2026-03-01",
    )
    response = staff_client.post(admin_url(Invoice, "add"), data, follow=True)
    assert response.status_code == 200
    invoice = Invoice.objects.get()
    assert (invoice.number, invoice.currency, invoice.created_by, invoice.issued_at) == (
        "INV-2026-007",
        "EUR",
        staff,
        datetime.date(2026, 3, 1),
    )
    assert AuditEvent.objects.filter(action="billing.invoice_create").count() == 1


def test_a_bad_invoice_is_refused_in_the_admin(staff_client, workspace):
    page = staff_client.get(admin_url(Invoice, "add"))
    data = form_data(
        page,
        workspace=str(workspace.pk),
        number="INV-1",
        period_start="2026-02-28",
        period_end="2026-02-01",
        amount="49.00",
        currency="EUR",
        status="open",
        issued_at="2026-03-01",
    )
    response = staff_client.post(admin_url(Invoice, "add"), data)
    assert response.status_code == 200  # the form again, with the error
    assert not Invoice.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="billing.invoice").exists()


def test_invoice_status_changes_on_its_page_and_with_actions(staff_client, workspace):
    invoice = invoice_create(
        workspace=workspace,
        number="INV-1",
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 1, 31),
        amount="10",
    )
    page = staff_client.get(admin_url(Invoice, "change", invoice.pk))
    staff_client.post(admin_url(Invoice, "change", invoice.pk), form_data(page, status="paid"))
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    run_action(staff_client, Invoice, "mark_void", [invoice])
    invoice.refresh_from_db()
    assert invoice.status == "void"
    response = run_action(staff_client, Invoice, "mark_paid", [invoice])
    assert any("stays void" in message for message in messages_of(response))
    invoice.refresh_from_db()
    assert invoice.status == "void"
    assert AuditEvent.objects.filter(action="billing.invoice_status").count() == 2
    assert staff_client.get(admin_url(Invoice, "delete", invoice.pk)).status_code == 403


def test_staff_carry_out_a_request_with_a_note_that_is_mailed(
    staff_client, staff, workspace, open_cancel, django_capture_on_commit_callbacks
):
    page = run_action(staff_client, PlanChangeRequest, "mark_done", [open_cancel])
    assert "Carry out the requests" in page.content.decode()  # the intermediate page asks for a note
    assert PlanChangeRequest.objects.get().status == "open"
    with django_capture_on_commit_callbacks(execute=True):
        run_action(staff_client, PlanChangeRequest, "mark_done", [open_cancel], apply="Mark done", note="Refunded.")
    open_cancel.refresh_from_db()
    assert (open_cancel.status, open_cancel.handled_by, open_cancel.note) == ("done", staff, "Refunded.")
    assert BillingAccount.objects.get(workspace=workspace).plan == "free"
    assert AuditEvent.objects.filter(action="billing.plan_request_done").count() == 1
    assert [m.to for m in mail.outbox] == [["ap@acme.test"]] and "Refunded." in mail.outbox[0].body


def test_a_handled_request_cannot_be_handled_again_in_the_admin(staff_client, workspace, open_cancel):
    run_action(staff_client, PlanChangeRequest, "mark_declined", [open_cancel], apply="Mark declined", note="")
    response = run_action(staff_client, PlanChangeRequest, "mark_done", [open_cancel], apply="Mark done", note="")
    assert any("already handled" in message for message in messages_of(response))
    open_cancel.refresh_from_db()
    assert open_cancel.status == "declined"
    assert BillingAccount.objects.get(workspace=workspace).plan == "business"


def test_requests_are_read_only_in_the_admin(staff_client, open_cancel):
    assert staff_client.get(admin_url(PlanChangeRequest, "change", open_cancel.pk)).status_code == 200
    assert staff_client.get(admin_url(PlanChangeRequest, "add")).status_code == 403
    assert staff_client.get(admin_url(PlanChangeRequest, "delete", open_cancel.pk)).status_code == 403


def test_staff_set_the_plan_and_details_of_an_account(staff_client, workspace, open_cancel):
    account = BillingAccount.objects.get(workspace=workspace)
    page = staff_client.get(admin_url(BillingAccount, "change", account.pk))
    data = form_data(page, plan="scale", company_name="Acme GmbH", vat_id="de123456789")
    staff_client.post(admin_url(BillingAccount, "change", account.pk), data)
    account.refresh_from_db()
    assert (account.plan, account.company_name, account.vat_id) == ("scale", "Acme GmbH", "DE123456789")
    assert AuditEvent.objects.filter(action="billing.plan_set").count() == 2  # the fixture's and this one
    assert AuditEvent.objects.filter(action="billing.details_update").count() == 1


def test_staff_add_and_remove_billing_contacts_through_the_services(staff_client, workspace):
    page = staff_client.get(admin_url(BillingContact, "add"))
    staff_client.post(
        admin_url(BillingContact, "add"), form_data(page, workspace=str(workspace.pk), email="ap@acme.test")
    )
    contact = BillingContact.objects.get()
    response = staff_client.post(
        admin_url(BillingContact, "add"), form_data(page, workspace=str(workspace.pk), email="AP@acme.test")
    )
    assert response.status_code == 200 and BillingContact.objects.count() == 1
    staff_client.post(admin_url(BillingContact, "delete", contact.pk), {"post": "yes"})
    assert not BillingContact.objects.exists()
    assert AuditEvent.objects.filter(action__startswith="billing.contact").count() == 2


# --- lists -----------------------------------------------------------------------------------------


def _bulk(model, workspace, n):
    start = model.objects.count()
    if model is Invoice:
        rows = [
            Invoice(
                workspace=workspace,
                number=f"B-{start + i}",
                period_start=datetime.date(2026, 1, 1),
                period_end=datetime.date(2026, 1, 31),
                amount=1,
            )
            for i in range(n)
        ]
    elif model is BillingContact:
        rows = [BillingContact(workspace=workspace, email=f"b{start + i}@acme.test") for i in range(n)]
    elif model is PlanChangeRequest:
        rows = [
            PlanChangeRequest(workspace=workspace, kind="upgrade", from_plan="free", to_plan="scale", status="done")
            for _ in range(n)
        ]
    else:
        workspaces = [make_workspace(UserFactory(), f"W{start + i}") for i in range(n)]
        rows = [BillingAccount(workspace=ws, plan="growth") for ws in workspaces]
    model.objects.bulk_create(rows)


@pytest.mark.parametrize("model", [Invoice, BillingContact, PlanChangeRequest, BillingAccount])
def test_changelists_cost_the_same_at_5_and_300_rows(
    staff_client, workspace, model, django_assert_num_queries, django_assert_max_num_queries
):
    size = 300 if model is not BillingAccount else 60  # accounts need a workspace each
    _bulk(model, workspace, 5)
    staff_client.get(admin_url(model))
    with django_assert_max_num_queries(20) as small:
        assert staff_client.get(admin_url(model)).status_code == 200
    _bulk(model, workspace, size - 5)
    with django_assert_num_queries(len(small)):
        response = staff_client.get(admin_url(model))
    assert response.context["cl"].result_count == size
    for query in ("INV", "acme", "Acme"):
        assert staff_client.get(admin_url(model), {"q": query}).status_code == 200
