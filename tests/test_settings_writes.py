"""Details, integrations, user attributes and policies: each write checks
its capability, refuses bad input with a message and writes nothing, writes one audit event per
change and none for a change that changes nothing; the pages call the same services."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from tests.factories import add_member
from workspace_settings.models import IntegrationSetting, UserAttributeSetting, WorkspacePolicy
from workspace_settings.selectors import attribute_rows, policy_of
from workspace_settings.services import (
    integration_save,
    policy_update,
    user_attribute_set,
)


def events(action: str):
    return AuditEvent.objects.filter(action=action)


def url(workspace, name: str, *args) -> str:
    return reverse(f"settings:{name}", args=[workspace.slug, *args])


# --- details -------------------------------------------------------------------------------------


def test_details_page_saves_through_workspace_update(client, workspace, owner):
    client.force_login(owner)
    form = client.get(url(workspace, "details")).content.decode()
    assert 'value="Acme"' in form and "csrfmiddlewaretoken" in form
    data = {"name": "Acme Inc", "time_zone": "Europe/Paris", "description": "Shops"}
    response = client.post(url(workspace, "details"), data, follow=True)
    assert "The workspace details are saved." in response.content.decode()
    workspace.refresh_from_db()
    assert (workspace.name, workspace.time_zone, workspace.description) == ("Acme Inc", "Europe/Paris", "Shops")
    (event,) = events("workspace.update")
    assert event.after["time_zone"] == "Europe/Paris"
    client.post(url(workspace, "details"), data)  # the same again: no change, no event
    assert events("workspace.update").count() == 1


def test_details_bad_input_shows_messages_and_changes_nothing(client, workspace, owner):
    client.force_login(owner)
    response = client.post(url(workspace, "details"), {"name": "", "time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Give the workspace a name." in page and "Select a valid choice." in page
    workspace.refresh_from_db()
    assert workspace.name == "Acme" and not events("workspace.update").exists()


@pytest.mark.parametrize("role", [catalog.MEMBER, catalog.VIEWER, catalog.BILLING_ADMIN])
def test_details_post_refused_without_change_workspace(client, workspace, role):
    client.force_login(add_member(workspace, role).user)
    response = client.post(url(workspace, "details"), {"name": "Mine", "time_zone": "UTC"})
    assert response.status_code == 403
    workspace.refresh_from_db()
    assert workspace.name == "Acme"


# --- integrations --------------------------------------------------------------------------------


def test_switching_an_integration_on_stores_cleaned_settings_with_one_event(workspace, owner):
    row = integration_save(
        actor=owner,
        workspace=workspace,
        key="shopify",
        enabled=True,
        settings={"shop_domain": "  Acme-Store.MyShopify.com ", "spare": "dropped"},
    )
    row.refresh_from_db()
    assert row.enabled and row.settings == {"shop_domain": "acme-store.myshopify.com"}
    (event,) = events("integration.update")
    assert event.before == {"enabled": False, "settings": {"shop_domain": ""}}
    assert event.after == {"enabled": True, "settings": {"shop_domain": "acme-store.myshopify.com"}}


def test_saving_the_same_state_writes_nothing(workspace, owner):
    integration_save(actor=owner, workspace=workspace, key="hubspot", enabled=True, settings={"portal_id": "4815162"})
    integration_save(actor=owner, workspace=workspace, key="hubspot", enabled=True, settings={"portal_id": "4815162"})
    assert integration_save(actor=owner, workspace=workspace, key="wordpress", enabled=False, settings={}) is None
    assert events("integration.update").count() == 1
    assert IntegrationSetting.objects.count() == 1


def test_switching_off_keeps_the_settings(workspace, owner):
    settings = {"measurement_id": "G-ABC123XYZ9"}
    integration_save(actor=owner, workspace=workspace, key="google_analytics", enabled=True, settings=settings)
    row = integration_save(actor=owner, workspace=workspace, key="google_analytics", enabled=False, settings=settings)
    assert not row.enabled and row.settings == settings
    assert events("integration.update").count() == 2


@pytest.mark.parametrize(
    "key, enabled, settings, message",
    [
        ("google_analytics", True, {}, "Fill in the measurement id to switch Google Analytics on."),
        ("google_analytics", False, {"measurement_id": "UA-1234"}, "Enter a valid measurement id, like G-ABC123XYZ9."),
        ("shopify", True, {"shop_domain": "acme.com"}, "Enter a valid shop domain, like acme-store.myshopify.com."),
        ("hubspot", True, {"portal_id": "12ab"}, "Enter a valid hub id, like 4815162."),
        ("myspace", True, {}, "There is no integration called “myspace”."),
    ],
)
def test_bad_settings_are_refused_and_nothing_is_written(workspace, owner, key, enabled, settings, message):
    with pytest.raises(RuleViolation) as exc:
        integration_save(actor=owner, workspace=workspace, key=key, enabled=enabled, settings=settings)
    assert exc.value.messages == [message]
    assert not IntegrationSetting.objects.exists() and not events("integration.update").exists()


def test_integration_page_saves_and_shows_the_state(client, workspace, owner):
    client.force_login(owner)
    data = {"enabled": "on", "container_id": "GTM-5QX7K2"}
    response = client.post(url(workspace, "integration", "google_tag_manager"), data, follow=True)
    assert response.redirect_chain[-1][0] == url(workspace, "integrations")
    page = response.content.decode()
    assert "Google Tag Manager is on; its settings are saved." in page and "GTM-5QX7K2" in page
    assert IntegrationSetting.objects.get(key="google_tag_manager").enabled
    form = client.get(url(workspace, "integration", "google_tag_manager")).content.decode()
    assert 'value="GTM-5QX7K2"' in form and "checked" in form


def test_integration_page_shows_field_errors_and_writes_nothing(client, workspace, owner):
    client.force_login(owner)
    response = client.post(url(workspace, "integration", "zendesk"), {"enabled": "on", "subdomain": ""})
    assert response.status_code == 200
    assert "Fill in the zendesk subdomain to switch Zendesk on." in response.content.decode()
    response = client.post(url(workspace, "integration", "zendesk"), {"subdomain": "-bad-"})
    assert "Enter a valid zendesk subdomain, like acme." in response.content.decode()
    assert not IntegrationSetting.objects.exists() and not events("integration.update").exists()


@pytest.mark.parametrize("role", [catalog.MEMBER, catalog.VIEWER, catalog.BILLING_ADMIN])
def test_integrations_refused_without_the_capability(client, workspace, role):
    person = add_member(workspace, role).user
    with pytest.raises(PermissionDenied):
        integration_save(actor=person, workspace=workspace, key="wordpress", enabled=True, settings={})
    client.force_login(person)
    assert client.post(url(workspace, "integration", "wordpress"), {"enabled": "on"}).status_code == 403
    assert not IntegrationSetting.objects.exists()


def test_admin_may_manage_integrations(workspace):
    admin = add_member(workspace, catalog.ADMIN).user
    assert integration_save(actor=admin, workspace=workspace, key="wordpress", enabled=True, settings={}).enabled


# --- user attributes -----------------------------------------------------------------------------


def collected(workspace) -> dict[str, bool]:
    return {attribute.key: enabled for attribute, enabled in attribute_rows(workspace)}


def test_attributes_start_at_their_defaults(workspace):
    state = collected(workspace)
    assert state["user_id"] is True and state["email"] is False


def test_switching_an_attribute_writes_one_event_and_a_repeat_none(workspace, owner):
    user_attribute_set(actor=owner, workspace=workspace, key="email", enabled=True)
    user_attribute_set(actor=owner, workspace=workspace, key="email", enabled=True)
    assert user_attribute_set(actor=owner, workspace=workspace, key="user_id", enabled=True) is None  # the default
    assert collected(workspace)["email"] is True
    (event,) = events("user_attribute.update")
    assert event.before == {"attribute": "email", "enabled": False}
    assert event.after == {"attribute": "email", "enabled": True}
    user_attribute_set(actor=owner, workspace=workspace, key="user_id", enabled=False)
    assert collected(workspace)["user_id"] is False
    assert events("user_attribute.update").count() == 2


def test_unknown_attribute_is_refused(workspace, owner):
    with pytest.raises(RuleViolation):
        user_attribute_set(actor=owner, workspace=workspace, key="shoe_size", enabled=True)
    assert not UserAttributeSetting.objects.exists()


def test_attribute_page_toggles(client, workspace, owner):
    client.force_login(owner)
    response = client.post(url(workspace, "user_attribute_set", "company"), {"enabled": "on"}, follow=True)
    assert "Company is collected." in response.content.decode()
    assert collected(workspace)["company"] is True
    assert client.get(url(workspace, "user_attribute_set", "company")).status_code == 405
    assert client.post(url(workspace, "user_attribute_set", "shoe_size"), {"enabled": "on"}).status_code == 404
    response = client.post(url(workspace, "user_attribute_set", "company"), {"enabled": "sideways"}, follow=True)
    assert "Choose whether the attribute is collected or not." in response.content.decode()
    assert events("user_attribute.update").count() == 1


@pytest.mark.parametrize("role", [catalog.MEMBER, catalog.VIEWER, catalog.BILLING_ADMIN])
def test_attributes_refused_without_the_capability(client, workspace, role):
    person = add_member(workspace, role).user
    with pytest.raises(PermissionDenied):
        user_attribute_set(actor=person, workspace=workspace, key="email", enabled=True)
    client.force_login(person)
    assert client.post(url(workspace, "user_attribute_set", "email"), {"enabled": "on"}).status_code == 403
    assert not UserAttributeSetting.objects.exists()


# --- policies ------------------------------------------------------------------------------------

DEFAULTS = {
    "retention_days": 365,
    "anonymize_ip": True,
    "respect_do_not_track": True,
    "require_cookie_consent": False,
    "mask_text_input": True,
}


def test_policy_change_records_only_the_changed_fields(workspace, owner):
    assert policy_of(workspace).state() == DEFAULTS
    policy_update(actor=owner, workspace=workspace, **{**DEFAULTS, "retention_days": 90, "anonymize_ip": False})
    assert policy_of(workspace).state() == {**DEFAULTS, "retention_days": 90, "anonymize_ip": False}
    (event,) = events("policy.update")
    assert event.before == {"retention_days": 365, "anonymize_ip": True}
    assert event.after == {"retention_days": 90, "anonymize_ip": False}


def test_policy_without_a_change_writes_nothing(workspace, owner):
    policy_update(actor=owner, workspace=workspace, **DEFAULTS)
    assert not WorkspacePolicy.objects.exists() and not events("policy.update").exists()


def test_policy_refuses_an_unknown_retention(workspace, owner):
    with pytest.raises(RuleViolation) as exc:
        policy_update(actor=owner, workspace=workspace, **{**DEFAULTS, "retention_days": 12})
    assert "Choose how long to keep data" in exc.value.messages[0]
    assert not WorkspacePolicy.objects.exists() and not events("policy.update").exists()


def test_policy_page(client, workspace, owner):
    client.force_login(owner)
    page = client.get(url(workspace, "policies")).content.decode()
    assert "Respect Do-Not-Track" in page and "csrfmiddlewaretoken" in page
    data = {"retention_days": "730", "respect_do_not_track": "on", "require_cookie_consent": "on"}
    response = client.post(url(workspace, "policies"), data, follow=True)
    assert "The data-collection policies are saved." in response.content.decode()
    assert policy_of(workspace).state() == {
        "retention_days": 730,
        "anonymize_ip": False,
        "respect_do_not_track": True,
        "require_cookie_consent": True,
        "mask_text_input": False,
    }
    assert events("policy.update").count() == 1
    response = client.post(url(workspace, "policies"), {**data, "retention_days": "7"})
    assert response.status_code == 200 and "Select a valid choice." in response.content.decode()
    assert policy_of(workspace).retention_days == 730 and events("policy.update").count() == 1


@pytest.mark.parametrize("role", [catalog.MEMBER, catalog.VIEWER, catalog.BILLING_ADMIN])
def test_policies_refused_without_the_capability(client, workspace, role):
    person = add_member(workspace, role).user
    with pytest.raises(PermissionDenied):
        policy_update(actor=person, workspace=workspace, **{**DEFAULTS, "retention_days": 30})
    client.force_login(person)
    assert client.post(url(workspace, "policies"), {"retention_days": "30"}).status_code == 403
    assert not WorkspacePolicy.objects.exists()
