"""The usage page (view_usage) and the check API's per-key, per-day count that it reads."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from permissions import catalog
from permissions.keys import count_check_call, key_create, key_revoke
from permissions.models import AccessKeyDailyUse
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_experience, make_site, make_workspace
from workspaces.invites.services import invite_create

pytestmark = pytest.mark.django_db


def usage_url(workspace):
    return reverse("usage:index", args=[workspace.slug])


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def key_and_raw(workspace):
    return key_create(actor=None, workspace=workspace, name="Tracker")


def test_the_check_api_counts_calls_and_checks_per_key_and_day(client, workspace, owner, key_and_raw):
    key, raw = key_and_raw
    for _ in range(3):
        assert (
            client.get(
                "/api/v1/check", {"user": owner.email, "permission": "view_workspace"}, **bearer(raw)
            ).status_code
            == 200
        )
    batch = {"checks": [{"user": owner.email, "permission": "view_workspace"}] * 4}
    client.post("/api/v1/check", batch, content_type="application/json", **bearer(raw))
    client.get("/api/v1/check", {"user": owner.email, "permission": "nonsense"}, **bearer(raw))  # 400: not counted
    row = AccessKeyDailyUse.objects.get()
    assert (row.key, row.day, row.calls, row.checks) == (key, timezone.now().date(), 4, 7)


def test_a_bad_key_counts_nothing(client, owner):
    client.get("/api/v1/check", {"user": owner.email, "permission": "view_workspace"}, **bearer("pk_wrong"))
    assert not AccessKeyDailyUse.objects.exists()


def test_the_owner_and_admin_see_the_usage(client, workspace, owner, key_and_raw):
    key, _ = key_and_raw
    make_site(workspace, "Shop")
    make_experience(workspace)
    invite_create(actor=owner, workspace=workspace, emails=["ann@acme.test"], role=builtin_role(catalog.MEMBER))
    admin = add_member(workspace, catalog.ADMIN).user
    today = timezone.now().date()
    AccessKeyDailyUse.objects.create(key=key, day=today, calls=12, checks=40)
    AccessKeyDailyUse.objects.create(key=key, day=today - datetime.timedelta(days=29), calls=5, checks=5)
    AccessKeyDailyUse.objects.create(key=key, day=today - datetime.timedelta(days=30), calls=999, checks=999)
    for person in (owner, admin):
        client.force_login(person)
        response = client.get(usage_url(workspace))
        assert response.status_code == 200
        page = response.content.decode()
        assert "<dt>Sites</dt>\n    <dd>1 / unlimited" in page and "<dt>Members</dt>\n    <dd>2 / unlimited" in page
        assert "<dt>Experiences</dt><dd>1</dd>" in page and "<dt>Pending invitations</dt><dd>1 " in page
        assert "17 calls, 45 checks in all" in page  # the 31st day back is outside the period
        assert "Tracker: 12" in page
        assert len(response.context["days"]) == 30


def test_a_revoked_keys_calls_still_count(client, workspace, owner, key_and_raw):
    key, _ = key_and_raw
    count_check_call(key, checks=2)
    key_revoke(actor=None, key=key)
    client.force_login(owner)
    page = client.get(usage_url(workspace)).content.decode()
    assert "1 call, 2 checks in all" in page and "Revoked" in page


def test_another_workspaces_keys_are_not_shown(client, workspace, owner):
    other = make_workspace(UserFactory(), "Other")
    other_key, _ = key_create(actor=None, workspace=other, name="Theirs")
    count_check_call(other_key, checks=1)
    client.force_login(owner)
    page = client.get(usage_url(workspace)).content.decode()
    assert "Theirs" not in page and "No access key of Acme called the check API" in page


@pytest.mark.parametrize("role", [catalog.BILLING_ADMIN, catalog.MEMBER, catalog.VIEWER])
def test_roles_without_view_usage_get_403(client, workspace, role):
    client.force_login(add_member(workspace, role).user)
    assert client.get(usage_url(workspace)).status_code == 403


def test_another_workspace_gets_404(client, workspace):
    client.force_login(make_workspace(UserFactory(), "Other").memberships.get().user)
    assert client.get(usage_url(workspace)).status_code == 404


def test_the_settings_page_leads_to_usage(client, workspace, owner):
    client.force_login(owner)
    assert usage_url(workspace) in client.get(reverse("settings:index", args=[workspace.slug])).content.decode()


USAGE_QUERIES = 7  # session, user, membership, capabilities, contents, plan, key use


@pytest.mark.parametrize("keys, members", [(1, 1), (8, 20)])
def test_the_page_costs_the_same_at_any_size(client, workspace, owner, django_assert_num_queries, keys, members):
    today = timezone.now().date()
    for n in range(keys):
        key, _ = key_create(actor=None, workspace=workspace, name=f"Key {n}")
        for day in range(30):
            AccessKeyDailyUse.objects.create(key=key, day=today - datetime.timedelta(days=day), calls=n + 1, checks=n)
    for _ in range(members):
        add_member(workspace, catalog.MEMBER)
    client.force_login(owner)
    client.get(usage_url(workspace))
    with django_assert_num_queries(USAGE_QUERIES):
        response = client.get(usage_url(workspace))
    assert response.context["period_calls"] == 30 * sum(range(1, keys + 1))
