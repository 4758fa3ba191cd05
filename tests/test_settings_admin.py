"""The settings models in the admin: read-only lists for staff; removing an IP block rule goes
through the service and is audited; list query counts do not grow with rows."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tests.factories import UserFactory, make_workspace
from tests.settings_factories import make_settings
from workspace_settings.models import (
    IntegrationSetting,
    IPBlockRule,
    UserAttributeSetting,
    WorkspacePolicy,
)

MODELS = [IPBlockRule, IntegrationSetting, UserAttributeSetting, WorkspacePolicy]


def admin_url(model, view="changelist", *args) -> str:
    return reverse(f"admin:workspace_settings_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_pages_open_and_are_read_only(staff_client, workspace, owner, model):
    make_settings(workspace, owner)
    obj = model.objects.first()
    assert staff_client.get(admin_url(model)).status_code == 200
    assert staff_client.get(admin_url(model), {"q": "acme"}).status_code == 200
    assert staff_client.get(admin_url(model, "change", obj.pk)).status_code == 200
    assert staff_client.get(admin_url(model, "add")).status_code == 403
    response = staff_client.post(admin_url(model, "change", obj.pk), {"note": "changed", "enabled": ""})
    assert response.status_code == 403
    assert not IPBlockRule.objects.filter(note="changed").exists()


def test_removing_an_ip_rule_in_the_admin_goes_through_the_service(staff_client, staff, workspace, owner):
    make_settings(workspace, owner)
    rule = IPBlockRule.objects.get(network="10.0.0.0/8")
    response = staff_client.post(admin_url(IPBlockRule, "delete", rule.pk), {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert not IPBlockRule.objects.filter(pk=rule.pk).exists()
    event = AuditEvent.objects.get(action="ip_block.remove")
    assert (
        event.actor == staff and event.before
    )  # the staff member who acted is named == {"network": "10.0.0.0/8", "note": "Office"}


def test_settings_other_models_cannot_be_deleted_in_the_admin(staff_client, workspace, owner):
    make_settings(workspace, owner)
    policy = WorkspacePolicy.objects.get()
    assert staff_client.post(admin_url(WorkspacePolicy, "delete", policy.pk), {"post": "yes"}).status_code == 403
    assert WorkspacePolicy.objects.exists()


@pytest.mark.parametrize("size", [5, 300])
def test_ip_rule_changelist_query_count_does_not_grow(staff_client, owner, django_assert_num_queries, size):
    workspaces = [make_workspace(owner, f"W{n}") for n in range(3)]
    IPBlockRule.objects.bulk_create(
        IPBlockRule(workspace=workspaces[n % 3], network=f"10.{n // 256}.{n % 256}.0/24", created_by=owner)
        for n in range(size)
    )
    # session, staff user, count, count, rows with workspace and creator, workspaces for the filter
    with django_assert_num_queries(6):
        response = staff_client.get(admin_url(IPBlockRule))
    assert response.status_code == 200
