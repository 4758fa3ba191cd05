"""The billing pages: who may open them (manage_billing: Owner and Billing admin), what they show,
what their forms do, and what a query costs at 5 and at 300 rows.

Also the billing admin's narrow view (seed 002: "billing admins only can see the Overview tab"):
billing and the settings overview, nothing of the people or the data."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from audit.models import AuditEvent
from billing.models import BillingAccount, BillingContact, PlanChangeRequest
from billing.services import billing_contact_add, plan_cancel
from billing.staff import invoice_create, plan_request_handle, plan_set
from permissions import catalog
from tests.factories import UserFactory, add_member, make_site, make_workspace

pytestmark = pytest.mark.django_db

GET_PAGES = ["index", "plan", "cancel", "details"]


def url(name, workspace, *args):
    return reverse(f"billing:{name}", args=[workspace.slug, *args])


@pytest.fixture
def people(workspace, owner):
    """One person per built-in role, and someone from another workspace."""
    found = {"owner": owner}
    for key in (catalog.ADMIN, catalog.BILLING_ADMIN, catalog.MEMBER, catalog.VIEWER):
        found[key] = add_member(workspace, key, user=UserFactory(email=f"{key}@acme.test")).user
    found["outsider"] = make_workspace(UserFactory(email="out@other.test"), "Other").memberships.get().user
    return found


@pytest.fixture
def billing_admin(people):
    return people[catalog.BILLING_ADMIN]


def as_(client, user):
    client.force_login(user)
    return client


# --- who may open what -----------------------------------------------------------------------------

EXPECTED = {"owner": 200, catalog.BILLING_ADMIN: 200, catalog.ADMIN: 403, catalog.MEMBER: 403, catalog.VIEWER: 403}


@pytest.mark.parametrize("page", GET_PAGES)
@pytest.mark.parametrize("who", [*EXPECTED, "outsider"])
def test_billing_pages_open_for_manage_billing_only(client, workspace, people, page, who):
    plan_set(workspace=workspace, plan_key="growth")  # so that the cancel page has something to cancel
    response = as_(client, people[who]).get(url(page, workspace))
    assert response.status_code == EXPECTED.get(who, 404)


@pytest.mark.parametrize("who", [catalog.ADMIN, catalog.MEMBER, catalog.VIEWER, "outsider"])
def test_forged_posts_from_people_without_manage_billing_change_nothing(client, workspace, people, who):
    contact = billing_contact_add(actor=None, workspace=workspace, email="ap@acme.test")
    plan_set(workspace=workspace, plan_key="business")
    before = AuditEvent.objects.count()
    client = as_(client, people[who])
    status = 404 if who == "outsider" else 403
    posts = [
        (url("plan", workspace), {"plan": "scale"}),
        (url("cancel", workspace), {"reason": "x"}),
        (url("details", workspace), {"company_name": "Evil", "address": "", "vat_id": ""}),
        (url("contact_add", workspace), {"email": "evil@evil.test"}),
        (url("contact_remove", workspace, contact.pk), {"confirm": "yes"}),
    ]
    for target, data in posts:
        assert client.post(target, data).status_code == status, target
    assert BillingAccount.objects.get().plan == "business"
    assert BillingAccount.objects.get().company_name == ""
    assert list(BillingContact.objects.values_list("email", flat=True)) == ["ap@acme.test"]
    assert not PlanChangeRequest.objects.filter(status="open").exists()
    assert AuditEvent.objects.count() == before


def test_another_workspaces_contact_is_not_found(client, workspace, billing_admin):
    other = make_workspace(UserFactory(), "Other")
    theirs = billing_contact_add(actor=None, workspace=other, email="ap@other.test")
    response = as_(client, billing_admin).post(url("contact_remove", workspace, theirs.pk), {"confirm": "yes"})
    assert response.status_code == 404
    assert BillingContact.objects.filter(pk=theirs.pk).exists()


def test_the_billing_pages_need_a_signed_in_person(client, workspace):
    response = client.get(url("index", workspace))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- the billing admin's narrow view ---------------------------------------------------------------


def test_the_billing_admin_sees_billing_and_the_settings_overview_and_nothing_of_people_or_data(
    client, workspace, people, billing_admin
):
    site = make_site(workspace, "Shop")
    client = as_(client, billing_admin)
    allowed = [
        reverse("billing:index", args=[workspace.slug]),
        reverse("settings:index", args=[workspace.slug]),
        reverse("workspaces:detail", args=[workspace.slug]),
        reverse("roles:matrix", args=[workspace.slug]),  # the capability matrix, no people on it
    ]
    refused = [
        reverse("people:index", args=[workspace.slug]),  # the member list: no view_members
        reverse("teams:index", args=[workspace.slug]),
        reverse("activity:index", args=[workspace.slug]),
        reverse("access_keys:list", args=[workspace.slug]),
        reverse("join_domains:index", args=[workspace.slug]),
        reverse("privacy:index", args=[workspace.slug]),
        reverse("workspaces:site_detail", args=[workspace.slug, site.slug]),
        reverse("workspaces:site_create", args=[workspace.slug]),
        reverse("site_access:index", args=[workspace.slug, site.slug]),
    ]
    for target in allowed:
        assert client.get(target).status_code == 200, target
    for target in refused:
        assert client.get(target).status_code == 403, target
    overview = client.get(reverse("workspaces:detail", args=[workspace.slug])).content.decode()
    assert "Shop" not in overview  # no site, no data
    assert "member@acme.test" not in overview and "viewer@acme.test" not in overview


def test_billing_is_reached_through_the_settings_hub_by_manage_billing_only(client, workspace, people):
    link = f'href="{url("index", workspace)}"'
    for who, shown in (("owner", True), (catalog.BILLING_ADMIN, True), (catalog.ADMIN, False), (catalog.MEMBER, False)):
        as_(client, people[who])
        overview = client.get(reverse("workspaces:detail", args=[workspace.slug])).content.decode()
        hub = client.get(reverse("settings:index", args=[workspace.slug]))
        assert link not in overview, who  # a settings page: not in the top navigation
        assert (hub.status_code == 200 and link in hub.content.decode()) is shown, who
    page = as_(client, people[catalog.BILLING_ADMIN]).get(url("index", workspace)).content.decode()
    assert ">People<" not in page and ">Teams<" not in page and "Data &amp; privacy" not in page


# --- the index page --------------------------------------------------------------------------------


def test_the_index_shows_plan_details_contacts_open_requests_and_invoices(client, workspace, billing_admin):
    plan_set(workspace=workspace, plan_key="business")
    billing_contact_add(actor=None, workspace=workspace, email="ap@acme.test")
    plan_cancel(actor=billing_admin, workspace=workspace, reason="Budget cut")
    invoice_create(
        workspace=workspace,
        number="INV-2026-001",
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 1, 31),
        amount="199.00",
    )
    other = make_workspace(UserFactory(), "Other")
    invoice_create(
        workspace=other,
        number="INV-OTHER",
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 1, 31),
        amount="1",
    )
    page = as_(client, billing_admin).get(url("index", workspace)).content.decode()
    assert "<strong>Business</strong> · 199.00 EUR a month" in page
    assert "<dt>Sites</dt>\n    <dd>0 / 25 used" in page
    assert "ap@acme.test" in page and 'aria-label="Remove ap@acme.test"' in page
    assert "Cancel the Business plan" in page and "Budget cut" in page
    assert "INV-2026-001" in page and "199.00 EUR" in page and "1 Jan 2026 – 31 Jan 2026" in page
    assert "INV-OTHER" not in page
    assert "Request cancellation" not in page  # one request at a time


def test_a_new_workspace_is_on_the_first_plan_and_reading_writes_nothing(client, workspace, billing_admin):
    page = as_(client, billing_admin).get(url("index", workspace)).content.decode()
    assert "<strong>Free</strong>" in page and "No invoices yet." in page and "No open requests." in page
    assert "Request cancellation" not in page
    assert not BillingAccount.objects.exists()


# --- the forms -------------------------------------------------------------------------------------


def test_an_upgrade_from_the_page_takes_effect_at_once(client, workspace, billing_admin):
    response = as_(client, billing_admin).post(
        url("plan", workspace), {"plan": "growth", "reason": "", "confirm": "yes"}, follow=True
    )
    assert response.redirect_chain == [(url("index", workspace), 302)]
    assert "You are now on the Growth plan." in response.content.decode()
    assert BillingAccount.objects.get().plan == "growth"
    assert AuditEvent.objects.filter(action="billing.plan_upgrade").count() == 1


def test_a_downgrade_from_the_page_is_recorded_and_mailed(
    client, workspace, billing_admin, django_capture_on_commit_callbacks
):
    plan_set(workspace=workspace, plan_key="scale")
    for email in ("ap@acme.test", "cfo@acme.test"):
        billing_contact_add(actor=None, workspace=workspace, email=email)
    with django_capture_on_commit_callbacks(execute=True):
        response = as_(client, billing_admin).post(
            url("plan", workspace), {"plan": "growth", "reason": "Smaller team", "confirm": "yes"}, follow=True
        )
    assert "Your request to move to the Growth plan is recorded" in response.content.decode()
    assert BillingAccount.objects.get().plan == "scale"
    assert PlanChangeRequest.objects.get().status == "open"
    assert [m.to for m in mail.outbox] == [["ap@acme.test", "cfo@acme.test"]]
    assert AuditEvent.objects.filter(action="billing.plan_request").count() == 1


def test_the_plan_form_shows_the_catalogue_and_refuses_what_is_not_in_it(client, workspace, billing_admin):
    client = as_(client, billing_admin)
    page = client.get(url("plan", workspace)).content.decode()
    for text in ("Free", "Growth — 49.00 EUR a month", "Business", "Scale", "Sites: Unlimited"):
        assert text in page
    response = client.post(url("plan", workspace), {"plan": "platinum"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not BillingAccount.objects.exists()


def test_a_second_request_is_refused_on_the_form(client, workspace, billing_admin):
    plan_set(workspace=workspace, plan_key="scale")
    plan_cancel(actor=billing_admin, workspace=workspace)
    response = as_(client, billing_admin).post(url("plan", workspace), {"plan": "growth", "confirm": "yes"})
    assert response.status_code == 200
    assert "is still open" in response.content.decode()
    assert PlanChangeRequest.objects.count() == 1


def test_a_cancellation_from_the_page(client, workspace, billing_admin, django_capture_on_commit_callbacks):
    plan_set(workspace=workspace, plan_key="growth")
    client = as_(client, billing_admin)
    page = client.get(url("cancel", workspace)).content.decode()
    assert "the workspace is on the Free plan" in page
    assert not PlanChangeRequest.objects.exists()  # opening the page changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("cancel", workspace), {"reason": "Too expensive"}, follow=True)
    assert "Your cancellation request is recorded" in response.content.decode()
    assert PlanChangeRequest.objects.get().kind == "cancel"
    assert len(mail.outbox) == 1


def test_cancelling_the_free_plan_is_refused_with_its_message(client, workspace, billing_admin):
    client = as_(client, billing_admin)
    response = client.post(url("cancel", workspace), {"reason": ""}, follow=True)
    assert response.redirect_chain == [(url("index", workspace), 302)]
    assert "there is nothing to cancel" in response.content.decode()
    page = client.get(url("cancel", workspace), follow=True).content.decode()
    assert "there is nothing to cancel" in page and "Send cancellation request" not in page
    assert not PlanChangeRequest.objects.exists()


def test_billing_details_form(client, workspace, billing_admin):
    client = as_(client, billing_admin)
    data = {"company_name": "Acme GmbH", "address": "Hauptstr. 1\nBerlin", "vat_id": "DE 123 456 789"}
    response = client.post(url("details", workspace), data, follow=True)
    assert "The billing details are saved." in response.content.decode()
    assert "Hauptstr. 1<br>Berlin" in response.content.decode()
    assert BillingAccount.objects.get().vat_id == "DE123456789"
    page = client.get(url("details", workspace)).content.decode()
    assert 'value="Acme GmbH"' in page and '<label for="id_vat_id">VAT id</label>' in page
    before = AuditEvent.objects.count()
    response = client.post(url("details", workspace), {**data, "vat_id": "12345"})
    assert "VAT id with its country prefix" in response.content.decode()
    assert BillingAccount.objects.get().vat_id == "DE123456789"
    assert AuditEvent.objects.count() == before


def test_adding_and_removing_billing_addresses(client, workspace, billing_admin):
    client = as_(client, billing_admin)
    response = client.post(url("contact_add", workspace), {"email": "ap@acme.test"}, follow=True)
    assert "ap@acme.test now receives the billing e-mails." in response.content.decode()
    response = client.post(url("contact_add", workspace), {"email": "AP@acme.test"})
    assert response.status_code == 200
    assert "AP@acme.test already receives the billing e-mails." in response.content.decode()
    response = client.post(url("contact_add", workspace), {"email": "nope"})
    assert "Enter a valid e-mail address." in response.content.decode()
    assert BillingContact.objects.count() == 1
    contact = BillingContact.objects.get()
    assert client.post(url("contact_remove", workspace, contact.pk)).status_code == 200  # asks first
    assert BillingContact.objects.exists()
    response = client.post(url("contact_remove", workspace, contact.pk), {"confirm": "yes"}, follow=True)
    assert "ap@acme.test no longer receives the billing e-mails." in response.content.decode()
    assert not BillingContact.objects.exists()
    assert client.get(url("contact_add", workspace)).status_code == 405
    assert AuditEvent.objects.filter(action__startswith="billing.contact").count() == 2


def test_forms_carry_csrf_tokens(client, workspace, billing_admin):
    billing_contact_add(actor=None, workspace=workspace, email="ap@acme.test")
    client = as_(client, billing_admin)
    for page in GET_PAGES:
        if page == "cancel":
            continue
        html = client.get(url(page, workspace)).content.decode()
        assert html.count('name="csrfmiddlewaretoken"') >= html.count('method="post"') >= 1, page


def test_a_post_without_csrf_token_is_refused(workspace, billing_admin):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(billing_admin)
    assert client.post(url("contact_add", workspace), {"email": "ap@acme.test"}).status_code == 403
    assert not BillingContact.objects.exists()


# --- query counts ----------------------------------------------------------------------------------

# session, user, membership with its workspace, workspace permissions, account, contacts,
# open requests with requester, recent changes with requester, invoices
INDEX_QUERIES = 10  # … and the counts of members and sites for the plan's limits (one query)


def fill(workspace, size: int, staff_user) -> None:
    for n in range(size):
        billing_contact_add(actor=None, workspace=workspace, email=f"billing{n}@acme.test")
        invoice_create(
            workspace=workspace,
            number=f"INV-{n:04d}",
            period_start=datetime.date(2026, 1, 1),
            period_end=datetime.date(2026, 1, 31),
            amount=str(10 + n),
        )
    for _n in range(min(size, 12)):  # handled requests; the page shows the latest few
        plan_set(workspace=workspace, plan_key="scale")
        request = plan_cancel(actor=None, workspace=workspace)
        plan_request_handle(plan_request=request, status="declined", actor=staff_user)
    plan_cancel(actor=None, workspace=workspace)  # the one open request


@pytest.mark.parametrize("size", [5, 300])
def test_index_query_count_does_not_grow(client, workspace, billing_admin, django_assert_num_queries, size):
    fill(workspace, size, UserFactory(is_staff=True))
    client = as_(client, billing_admin)
    with django_assert_num_queries(INDEX_QUERIES):
        response = client.get(url("index", workspace))
    page = response.content.decode()
    assert page.count('aria-label="Remove billing') == size
    assert page.count(">INV-") == size
    assert len(response.context["recent_changes"]) == min(size, 10)
    assert len(response.context["open_requests"]) == 1
