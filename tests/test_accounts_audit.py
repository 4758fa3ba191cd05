"""Account writes go through accounts.services and leave one audit event naming who acted: staff in
the admin (add, change, delete, password), the person themselves on the password-change page and
through a reset link, and the system for ``create_workspace``. No password or hash is recorded.
The admin shows the services' refusals as messages."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.management import call_command
from django.test import TestCase
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEvent
from tests.admin.conftest import admin_url, form_data, messages_of
from tests.factories import PASSWORD, UserFactory, add_member, make_workspace

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "an entirely new passphrase"


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@portal.test", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def assert_no_secret(event: AuditEvent, user: User, *secrets: str) -> None:
    text = json.dumps([event.before, event.after, event.target_repr])
    for secret in (*secrets, user.password):
        assert secret not in text


# --- staff in the admin ----------------------------------------------------------------------------


def test_admin_delete_of_a_member_shows_the_services_refusal_and_changes_nothing(staff_client, owner, workspace):
    member = add_member(workspace).user
    before = AuditEvent.objects.count()
    response = staff_client.post(admin_url(User, "delete", member.pk), {"post": "yes"}, follow=True)
    assert any(f"{member.email} is a member of “Acme”" in m for m in messages_of(response))
    assert User.objects.filter(pk=member.pk).exists()
    assert AuditEvent.objects.count() == before


def test_admin_delete_of_an_account_without_workspaces_names_the_staff_member(staff_client, staff):
    loner = UserFactory(email="loner@example.test")
    staff_client.post(admin_url(User, "delete", loner.pk), {"post": "yes"})
    assert not User.objects.filter(pk=loner.pk).exists()
    (event,) = events("account.delete")
    assert (event.actor, event.before) == (staff, {"email": "loner@example.test"})


def test_admin_add_refuses_an_address_taken_in_another_letter_case(staff_client, owner):
    data = {"email": owner.email.upper(), "usable_password": "false", "_save": "Save"}
    response = staff_client.post(admin_url(User, "add"), data)
    assert response.status_code == 200
    assert "An account with this e-mail address already exists." in response.content.decode()
    assert User.objects.filter(email__iexact=owner.email).count() == 1
    assert events("account.create") == []


def test_admin_add_without_password_names_the_staff_member(staff_client, staff):
    staff_client.post(
        admin_url(User, "add"), {"email": "New@Example.test", "usable_password": "false", "_save": "Save"}
    )
    user = User.objects.get(email="new@example.test")
    assert not user.has_usable_password()
    (event,) = events("account.create")
    assert (event.actor, event.after) == (staff, {"email": "new@example.test", "usable_password": False})


def test_admin_change_of_name_and_permissions_is_one_event_by_the_staff_member(staff_client, staff):
    person = UserFactory(email="pat@example.test", full_name="Pat")
    permission = Permission.objects.get(codename="view_auditevent")
    url = admin_url(User, "change", person.pk)
    data = form_data(staff_client.get(url), full_name="Patricia", user_permissions=[str(permission.pk)])
    staff_client.post(url, data)
    (event,) = events("account.update")
    assert event.actor == staff
    assert event.before == {"full_name": "Pat", "user_permissions": []}
    assert event.after == {"full_name": "Patricia", "user_permissions": ["audit.view_auditevent"]}
    assert list(User.objects.get(pk=person.pk).user_permissions.all()) == [permission]


def test_admin_password_set_names_the_staff_member_and_records_no_secret(staff_client, staff):
    person = UserFactory(email="pat@example.test")
    url = reverse("admin:auth_user_password_change", args=[person.pk])
    staff_client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "set_usable_password": "true"})
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    (event,) = events("account.password_set")
    assert (event.actor, event.after) == (staff, {"email": person.email, "usable_password": True, "via": "admin"})
    assert_no_secret(event, person, NEW_PASSWORD)


def test_admin_password_can_be_disabled_through_the_service(staff_client, staff):
    person = UserFactory(email="pat@example.test")
    url = reverse("admin:auth_user_password_change", args=[person.pk])
    staff_client.post(url, {"usable_password": "false", "unset-password": "1"})
    person.refresh_from_db()
    assert not person.has_usable_password()
    (event,) = events("account.password_set")
    assert (event.actor, event.after["usable_password"]) == (staff, False)


def test_admin_messages_say_the_audit_log_names_the_staff_member(staff_client, staff, owner, workspace):
    from permissions.keys import key_create
    from permissions.models import AccessKey

    key, _raw = key_create(actor=owner, workspace=workspace, name="Robot")
    response = staff_client.post(
        admin_url(AccessKey), {"action": "revoke", "_selected_action": [str(key.pk)]}, follow=True
    )
    text = " ".join(messages_of(response))
    assert "under your name" in text and "system change" not in text
    assert AuditEvent.objects.get(action="access_key.revoke").actor == staff


# --- the person themselves -------------------------------------------------------------------------


def test_changing_ones_own_password_is_one_event_by_oneself(client):
    person = UserFactory(email="grace@example.test")
    client.force_login(person)
    client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    (event,) = events("account.password_set")
    assert (event.actor, event.after) == (person, {"email": person.email, "usable_password": True, "via": "change"})
    assert_no_secret(event, person, NEW_PASSWORD, PASSWORD)


def test_a_refused_password_change_records_nothing(client):
    person = UserFactory(email="grace@example.test")
    client.force_login(person)
    response = client.post(
        reverse("accounts:password_change"), {"old_password": PASSWORD, "new_password1": "1", "new_password2": "1"}
    )
    assert response.status_code == 200
    assert events("account.password_set") == []


def test_resetting_ones_password_by_link_is_one_event_by_oneself(client):
    person = UserFactory(email="grace@example.test")
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": person.email})
    (url,) = re.findall(r"https?://\S+", mail.outbox[0].body)
    form_page = client.get(url.removeprefix(settings.PORTAL_BASE_URL), follow=True)
    client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    (event,) = events("account.password_set")
    assert (event.actor, event.after) == (person, {"email": person.email, "usable_password": True, "via": "reset"})
    assert_no_secret(event, person, NEW_PASSWORD)


# --- the command line ------------------------------------------------------------------------------


def test_create_workspace_makes_the_account_through_the_service(db):
    call_command("create_workspace", name="Globex", owner="Founder@Globex.test", verbosity=0)
    user = User.objects.get(email="founder@globex.test")
    (event,) = events("account.create")
    assert (event.actor, event.target_id) == (None, str(user.pk))  # the operator: the system
    assert event.after == {"email": "founder@globex.test", "usable_password": False}


def test_create_workspace_for_an_existing_account_creates_no_account(db):
    make_workspace(UserFactory(email="founder@globex.test"), "Other")
    call_command("create_workspace", name="Globex", owner="FOUNDER@globex.test", verbosity=0)
    assert events("account.create") == []
    assert User.objects.filter(email__iexact="founder@globex.test").count() == 1
