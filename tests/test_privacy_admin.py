"""Data requests in the admin: staff move them along through the privacy service (one audit event
per change, finished requests keep their status); the list costs the same at 5 and 300 rows."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from privacy.models import DataRequest
from privacy.services import data_request_create
from tests.admin.conftest import admin_url, form_data, messages_of, run_action
from tests.factories import UserFactory, make_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@portal.test", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def shop(workspace):
    return make_site(workspace, "Shop")


@pytest.fixture
def data_request(workspace, owner, shop):
    return data_request_create(actor=owner, workspace=workspace, site=shop, kind="deletion", subject="jane@shop.test")


def test_staff_update_status_and_note_on_the_change_page(staff_client, staff, data_request):
    url = admin_url(DataRequest, "change", data_request.pk)
    page = staff_client.get(url)
    assert "jane@shop.test" in page.content.decode()
    staff_client.post(url, form_data(page, status="in_progress", staff_note="Running the deletion."))
    data_request.refresh_from_db()
    assert (data_request.status, data_request.staff_note, data_request.handled_by) == (
        "in_progress",
        "Running the deletion.",
        staff,
    )
    assert AuditEvent.objects.filter(action="data_request.status").count() == 1
    staff_client.post(url, form_data(staff_client.get(url)))  # saved unchanged: no event
    assert AuditEvent.objects.filter(action="data_request.status").count() == 1


def test_actions_ask_for_a_note_and_apply_it(staff_client, data_request):
    response = run_action(staff_client, DataRequest, "mark_completed", [data_request])
    assert "Mark requests completed" in response.content.decode()
    assert DataRequest.objects.get().status == "received"
    run_action(staff_client, DataRequest, "mark_completed", [data_request], apply="Apply", staff_note="Deleted.")
    data_request.refresh_from_db()
    assert (data_request.status, data_request.staff_note) == ("completed", "Deleted.")


def test_a_finished_request_keeps_its_status_in_the_admin(staff_client, data_request):
    run_action(staff_client, DataRequest, "mark_rejected", [data_request], apply="Apply", staff_note="Unknown id.")
    before = AuditEvent.objects.count()
    response = run_action(staff_client, DataRequest, "mark_in_progress", [data_request], apply="Apply", staff_note="")
    assert any("its status no longer changes" in message for message in messages_of(response))
    data_request.refresh_from_db()
    assert (data_request.status, data_request.staff_note) == ("rejected", "Unknown id.")
    assert AuditEvent.objects.count() == before


def test_requests_are_filed_by_members_and_never_deleted(staff_client, data_request):
    assert staff_client.get(admin_url(DataRequest, "add")).status_code == 403
    assert staff_client.get(admin_url(DataRequest, "delete", data_request.pk)).status_code == 403


@pytest.mark.parametrize("filters", [{}, {"q": "jane"}, {"status__exact": "received"}, {"kind__exact": "export"}])
def test_the_list_costs_the_same_at_5_and_300_rows(
    staff_client, workspace, owner, shop, filters, django_assert_num_queries, django_assert_max_num_queries
):
    def grow(n):
        DataRequest.objects.bulk_create(
            [
                DataRequest(workspace=workspace, site=shop, site_name="Shop", kind="export", subject=f"v{i}@x.test")
                for i in range(n)
            ]
        )

    grow(5)
    staff_client.get(admin_url(DataRequest), filters)
    with django_assert_max_num_queries(20) as small:
        assert staff_client.get(admin_url(DataRequest), filters).status_code == 200
    grow(295)
    with django_assert_num_queries(len(small)):
        assert staff_client.get(admin_url(DataRequest), filters).status_code == 200
