"""Billing writes: plan changes (upgrade at once, downgrade and cancellation as e-mailed requests),
billing details, billing e-mail addresses, and staff's request handling and invoices.

Each change writes exactly one audit event; a change that changes nothing writes none; bad input
gets its message and writes nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from billing.models import BillingAccount, BillingContact, Invoice, PlanChangeRequest
from billing.plans import all_plans, default_plan, plan_by_key
from billing.services import (
    billing_contact_add,
    billing_contact_remove,
    billing_details_update,
    plan_cancel,
    plan_change,
)
from billing.staff import invoice_create, invoice_set_status, plan_request_handle, plan_set
from kernel.errors import RuleViolation
from permissions import catalog
from tests.factories import UserFactory, add_member, make_workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing_admin(workspace):
    return add_member(workspace, catalog.BILLING_ADMIN, user=UserFactory(email="bill@acme.test")).user


@pytest.fixture
def on_business(workspace):
    plan_set(workspace=workspace, plan_key="business")
    return workspace


@pytest.fixture
def contacts(workspace):
    for email in ("ap@acme.test", "cfo@acme.test", "Finance@Acme.test"):
        billing_contact_add(actor=None, workspace=workspace, email=email)
    return ["ap@acme.test", "cfo@acme.test", "Finance@Acme.test"]


def events(action: str | None = None):
    events = AuditEvent.objects.all()
    return events.filter(action=action) if action else events


def plan_of(workspace) -> str:
    return BillingAccount.objects.get(workspace=workspace).plan


# --- the catalogue ---------------------------------------------------------------------------------


def test_the_catalogue_comes_from_settings_in_rank_order(settings):
    assert [plan.key for plan in all_plans()] == [row["key"] for row in settings.BILLING_PLANS]
    settings.BILLING_PLANS = [
        {"key": "basic", "name": "Basic", "monthly_price": "5", "limits": {"seats": 2}},
        {"key": "pro", "name": "Pro", "monthly_price": "5", "currency": "USD", "limits": {}},
    ]
    assert [(p.key, p.rank, p.monthly_price, p.currency) for p in all_plans()] == [
        ("basic", 0, Decimal("5"), "EUR"),
        ("pro", 1, Decimal("5"), "USD"),
    ]
    assert plan_by_key("basic").limit_rows == [("Seats", "2")]
    assert default_plan().key == "basic"


def test_without_the_setting_the_default_catalogue_applies(settings):
    del settings.BILLING_PLANS
    assert [plan.key for plan in all_plans()] == ["free", "growth", "business", "scale"]


# --- upgrade ---------------------------------------------------------------------------------------


def test_an_upgrade_takes_effect_at_once_with_one_event_and_no_mail(
    workspace, billing_admin, contacts, django_capture_on_commit_callbacks
):
    before = events().count()
    with django_capture_on_commit_callbacks(execute=True):
        change = plan_change(actor=billing_admin, workspace=workspace, plan_key="growth", reason="More sites")
    assert plan_of(workspace) == "growth"
    assert (change.kind, change.status, change.from_plan, change.to_plan) == ("upgrade", "done", "free", "growth")
    assert change.requested_by == billing_admin and change.handled_at is not None
    assert events().count() == before + 1
    event = events("billing.plan_upgrade").get()
    assert (event.actor, event.before, event.after) == (billing_admin, {"plan": "free"}, {"plan": "growth"})
    assert mail.outbox == []


def test_the_current_plan_again_changes_nothing(workspace, billing_admin):
    plan_change(actor=billing_admin, workspace=workspace, plan_key="growth")
    before = events().count()
    assert plan_change(actor=billing_admin, workspace=workspace, plan_key="growth") is None
    assert events().count() == before
    assert PlanChangeRequest.objects.count() == 1


def test_an_unknown_plan_is_refused_and_nothing_is_written(workspace, billing_admin):
    before = events().count()
    with pytest.raises(RuleViolation, match="There is no plan called “platinum”"):
        plan_change(actor=billing_admin, workspace=workspace, plan_key="platinum")
    assert not BillingAccount.objects.exists() and not PlanChangeRequest.objects.exists()
    assert events().count() == before


@pytest.mark.parametrize("role_key", [catalog.ADMIN, catalog.MEMBER, catalog.VIEWER])
def test_people_without_manage_billing_are_refused(workspace, role_key):
    person = add_member(workspace, role_key).user
    with pytest.raises(PermissionDenied):
        plan_change(actor=person, workspace=workspace, plan_key="growth")
    with pytest.raises(PermissionDenied):
        plan_cancel(actor=person, workspace=workspace)
    with pytest.raises(PermissionDenied):
        billing_details_update(actor=person, workspace=workspace, company_name="X", address="", vat_id="")
    with pytest.raises(PermissionDenied):
        billing_contact_add(actor=person, workspace=workspace, email="x@acme.test")
    assert not BillingAccount.objects.exists() and not BillingContact.objects.exists()


def test_an_outsider_is_refused(workspace):
    stranger = make_workspace(UserFactory(), "Other").memberships.get().user
    with pytest.raises(PermissionDenied):
        plan_change(actor=stranger, workspace=workspace, plan_key="growth")


# --- downgrade and cancellation requests -----------------------------------------------------------


def test_a_downgrade_is_a_request_mailed_to_every_billing_contact_and_staff(
    on_business, billing_admin, contacts, django_capture_on_commit_callbacks, settings
):
    before = events().count()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        request = plan_change(actor=billing_admin, workspace=on_business, plan_key="growth", reason="Fewer sites now")
    assert plan_of(on_business) == "business"  # nothing changes until staff act
    assert (request.kind, request.status, request.from_plan, request.to_plan) == (
        "downgrade",
        "open",
        "business",
        "growth",
    )
    assert events().count() == before + 1
    event = events("billing.plan_request").get()
    assert event.after == {
        "kind": "downgrade",
        "from_plan": "business",
        "to_plan": "growth",
        "reason": "Fewer sites now",
    }
    # The request's callback renders the mail, whose queueing is the second.
    assert len(callbacks) == 2 and len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == contacts
    assert message.cc == [settings.DEFAULT_FROM_EMAIL]
    assert message.reply_to == ["bill@acme.test"]
    assert message.subject == "Downgrade request for Acme"
    assert "a downgrade from the Business plan to the Growth plan" in message.body
    assert "Fewer sites now" in message.body
    assert "http://testserver/w/acme/billing/" in message.body


def test_a_cancellation_is_a_request_mailed_to_every_billing_contact(
    on_business, billing_admin, contacts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = plan_cancel(actor=billing_admin, workspace=on_business, reason="Budget")
    assert (request.kind, request.status, request.to_plan) == ("cancel", "open", "")
    assert plan_of(on_business) == "business"
    assert events("billing.plan_request").count() == 1
    assert [m.to for m in mail.outbox] == [contacts]
    assert mail.outbox[0].subject == "Cancellation request for Acme"
    assert "the cancellation of the Business plan" in mail.outbox[0].body


def test_without_billing_contacts_the_requester_gets_the_mail(
    on_business, billing_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        plan_cancel(actor=billing_admin, workspace=on_business)
    assert [m.to for m in mail.outbox] == [["bill@acme.test"]]


def test_no_mail_leaves_before_the_request_commits(
    on_business, billing_admin, contacts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        plan_cancel(actor=billing_admin, workspace=on_business)
        assert mail.outbox == []
    assert len(callbacks) == 1


def test_nothing_to_cancel_on_the_first_plan(workspace, billing_admin):
    with pytest.raises(RuleViolation, match="on the Free plan: there is nothing to cancel"):
        plan_cancel(actor=billing_admin, workspace=workspace)
    assert not PlanChangeRequest.objects.exists()


def test_while_a_request_is_open_no_other_plan_change_is_accepted(on_business, billing_admin):
    plan_cancel(actor=billing_admin, workspace=on_business)
    before = events().count()
    for attempt in (
        lambda: plan_change(actor=billing_admin, workspace=on_business, plan_key="free"),
        lambda: plan_change(actor=billing_admin, workspace=on_business, plan_key="scale"),
        lambda: plan_cancel(actor=billing_admin, workspace=on_business),
    ):
        with pytest.raises(RuleViolation, match="cancellation request of .* is still open"):
            attempt()
    assert plan_of(on_business) == "business"
    assert PlanChangeRequest.objects.count() == 1
    assert events().count() == before


def test_the_database_keeps_one_open_request_per_workspace(on_business):
    PlanChangeRequest.objects.create(workspace=on_business, kind="cancel", from_plan="business")
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanChangeRequest.objects.create(workspace=on_business, kind="downgrade", from_plan="business", to_plan="free")


def test_a_plan_that_left_the_catalogue_is_left_only_by_request(workspace, billing_admin, settings):
    BillingAccount.objects.create(workspace=workspace, plan="legacy-gold")
    request = plan_change(actor=billing_admin, workspace=workspace, plan_key="scale")
    assert (request.kind, request.status) == ("downgrade", "open")
    assert plan_of(workspace) == "legacy-gold"


# --- staff handle requests -------------------------------------------------------------------------


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@portal.test", is_staff=True)


def test_staff_carry_out_a_downgrade(on_business, billing_admin, contacts, staff, django_capture_on_commit_callbacks):
    request = plan_change(actor=billing_admin, workspace=on_business, plan_key="growth")
    before = events().count()
    with django_capture_on_commit_callbacks(execute=True):
        plan_request_handle(plan_request=request, status="done", note="Done from next month.", actor=staff)
    request.refresh_from_db()
    assert plan_of(on_business) == "growth"
    assert (request.status, request.handled_by, request.note) == ("done", staff, "Done from next month.")
    assert events().count() == before + 1
    event = events("billing.plan_request_done").get()
    assert event.actor == staff  # the staff member who acted is named
    assert event.before == {"status": "open", "plan": "business"}
    assert event.after == {"status": "done", "plan": "growth", "note": "Done from next month."}
    assert [m.to for m in mail.outbox] == [contacts]
    assert "carried out the downgrade request" in mail.outbox[0].body
    assert "It is on the Growth plan." in mail.outbox[0].body and "Done from next month." in mail.outbox[0].body


def test_a_done_cancellation_returns_to_the_first_plan(on_business, billing_admin, staff):
    request = plan_cancel(actor=billing_admin, workspace=on_business)
    plan_request_handle(plan_request=request, status="done", actor=staff)
    assert plan_of(on_business) == "free"


def test_a_declined_request_leaves_the_plan_and_a_second_handling_is_refused(on_business, billing_admin, staff):
    request = plan_change(actor=billing_admin, workspace=on_business, plan_key="free")
    plan_request_handle(plan_request=request, status="declined", note="Contract runs to June.", actor=staff)
    assert plan_of(on_business) == "business"
    assert events("billing.plan_request_declined").count() == 1
    before = events().count()
    with pytest.raises(RuleViolation, match="already handled"):
        plan_request_handle(plan_request=request, status="done", actor=staff)
    with pytest.raises(RuleViolation, match="done or declined"):
        plan_request_handle(plan_request=request, status="open", actor=staff)
    assert plan_of(on_business) == "business" and events().count() == before
    # once handled, the workspace may ask again
    assert plan_change(actor=billing_admin, workspace=on_business, plan_key="free").status == "open"


def test_staff_set_a_plan_at_once_with_one_event(workspace):
    plan_set(workspace=workspace, plan_key="scale")
    assert plan_of(workspace) == "scale"
    assert events("billing.plan_set").count() == 1
    plan_set(workspace=workspace, plan_key="scale")
    assert events("billing.plan_set").count() == 1
    with pytest.raises(RuleViolation):
        plan_set(workspace=workspace, plan_key="nope")


# --- billing details -------------------------------------------------------------------------------


def test_billing_details_are_saved_once_and_normalised(workspace, billing_admin):
    before = events().count()
    account = billing_details_update(
        actor=billing_admin,
        workspace=workspace,
        company_name=" Acme GmbH ",
        address="Hauptstr. 1\nBerlin",
        vat_id="de 123.456-789",
    )
    assert (account.company_name, account.address, account.vat_id, account.plan) == (
        "Acme GmbH",
        "Hauptstr. 1\nBerlin",
        "DE123456789",
        "free",
    )
    assert events().count() == before + 1
    event = events("billing.details_update").get()
    assert event.before == {"company_name": "", "address": "", "vat_id": ""}
    assert event.after["vat_id"] == "DE123456789"
    billing_details_update(
        actor=billing_admin,
        workspace=workspace,
        company_name="Acme GmbH",
        address="Hauptstr. 1\nBerlin",
        vat_id="DE123456789",
    )
    assert events().count() == before + 1


@pytest.mark.parametrize("vat_id", ["123456789", "D1", "DE12#45"])
def test_a_bad_vat_id_is_refused_and_nothing_is_written(workspace, billing_admin, vat_id):
    with pytest.raises(RuleViolation, match="VAT id with its country prefix"):
        billing_details_update(actor=billing_admin, workspace=workspace, company_name="Acme", address="", vat_id=vat_id)
    assert not BillingAccount.objects.exists()
    assert not events("billing.details_update").exists()


# --- billing e-mail addresses ----------------------------------------------------------------------


def test_a_contact_is_added_and_removed_with_one_event_each(workspace, billing_admin):
    contact = billing_contact_add(actor=billing_admin, workspace=workspace, email=" ap@acme.test ")
    assert (contact.email, contact.added_by) == ("ap@acme.test", billing_admin)
    assert events("billing.contact_add").get().after == {"email": "ap@acme.test"}
    billing_contact_remove(actor=billing_admin, contact=contact)
    assert not BillingContact.objects.exists()
    assert events("billing.contact_remove").get().before == {"email": "ap@acme.test"}


def test_duplicate_and_invalid_addresses_are_refused(workspace, billing_admin):
    billing_contact_add(actor=billing_admin, workspace=workspace, email="ap@acme.test")
    before = events().count()
    with pytest.raises(RuleViolation, match="already receives the billing e-mails"):
        billing_contact_add(actor=billing_admin, workspace=workspace, email="AP@Acme.TEST")
    for bad in ("not an address", "", "a@" + "b" * 250 + ".test"):
        with pytest.raises(RuleViolation, match="is not a valid e-mail address"):
            billing_contact_add(actor=billing_admin, workspace=workspace, email=bad)
    assert BillingContact.objects.count() == 1 and events().count() == before


def test_the_same_address_may_be_a_contact_of_two_workspaces(workspace, billing_admin):
    other = make_workspace(UserFactory(), "Other")
    billing_contact_add(actor=billing_admin, workspace=workspace, email="ap@acme.test")
    billing_contact_add(actor=None, workspace=other, email="ap@acme.test")
    assert BillingContact.objects.count() == 2


def test_the_database_refuses_a_case_variant_duplicate(workspace):
    BillingContact.objects.create(workspace=workspace, email="ap@acme.test")
    with pytest.raises(IntegrityError), transaction.atomic():
        BillingContact.objects.create(workspace=workspace, email="AP@acme.test")


# --- invoices --------------------------------------------------------------------------------------


def make_invoice(workspace, number="INV-1", **kwargs):
    values = {
        "period_start": datetime.date(2026, 1, 1),
        "period_end": datetime.date(2026, 1, 31),
        "amount": "199.00",
        **kwargs,
    }
    return invoice_create(workspace=workspace, number=number, **values)


def test_staff_create_an_invoice_with_one_event(workspace, staff):
    invoice = make_invoice(workspace, currency="eur", actor=staff)
    assert (invoice.amount, invoice.currency, invoice.status, invoice.created_by) == (
        Decimal("199.00"),
        "EUR",
        "open",
        staff,
    )
    event = events("billing.invoice_create").get()
    assert event.after == {
        "number": "INV-1",
        "period": "2026-01-01 – 2026-01-31",
        "amount": "199.00",
        "currency": "EUR",
        "status": "open",
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"number": "inv-1"}, "An invoice numbered inv-1 already exists."),
        ({"number": " "}, "Give the invoice a number"),
        ({"period_end": datetime.date(2025, 12, 31)}, "The period ends before it starts."),
        ({"amount": "-1"}, "between 0 and"),
        ({"amount": "lots"}, "is not an amount"),
        ({"currency": "euro"}, "three-letter code"),
        ({"status": "lost"}, "is not an invoice status"),
    ],
)
def test_bad_invoices_are_refused_and_nothing_is_written(workspace, changes, message):
    make_invoice(workspace)
    before = events().count()
    with pytest.raises(RuleViolation, match=message):
        make_invoice(workspace, **{"number": "INV-2", **changes})
    assert Invoice.objects.count() == 1 and events().count() == before


def test_invoice_status_changes_once_and_void_stays_void(workspace):
    invoice = make_invoice(workspace)
    invoice_set_status(invoice=invoice, status="paid")
    invoice_set_status(invoice=invoice, status="paid")
    assert events("billing.invoice_status").count() == 1
    invoice_set_status(invoice=invoice, status="void")
    with pytest.raises(RuleViolation, match="is void and stays void"):
        invoice_set_status(invoice=invoice, status="open")
    invoice.refresh_from_db()
    assert invoice.status == "void"
    assert events("billing.invoice_status").count() == 2
