"""A passkey as a person's first (or only) second factor: set up without an authenticator app,
counted as two-factor authentication everywhere (the workspace requirement in the policy and the
middleware, the admin, the code page, the people page), removable under the same rule as turning
two-factor authentication off, and audited.

The browser and the authenticator are played by ``tests.passkey_factories.SoftPasskey``."""

from __future__ import annotations

import json

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp_webauthn.models import WebAuthnCredential

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.models import AccessVersion
from permissions.policy import access_of, holders
from tests.factories import PASSWORD, UserFactory, add_member, make_workspace
from tests.passkey_factories import SoftPasskey, add_first_passkey, add_passkey
from tests.twofactor_factories import app_code, enable_two_factor, key_from_manual_entry
from twofactor import devices, selectors, services, session, views
from workspaces.people.selectors import members_matching

SETUP = reverse("two_factor:setup")
VERIFY = reverse("two_factor:verify")
INDEX = reverse("two_factor:index")
PASSKEYS = reverse("two_factor:passkeys")
NEW_CODES = reverse("two_factor:new_backup_codes")
REGISTER_BEGIN = reverse("two_factor:passkey_register_begin")
REGISTER_COMPLETE = reverse("two_factor:passkey_register_complete")
VERIFY_BEGIN = reverse("two_factor:passkey_verify_begin")
VERIFY_COMPLETE = reverse("two_factor:passkey_verify_complete")
LOGIN = reverse("accounts:login")


def post_json(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def register(client, name="Phone", next_url="", passkey=None):
    passkey = passkey or SoftPasskey()
    begun = post_json(client, REGISTER_BEGIN)
    assert begun.status_code == 200, begun.content
    answer = passkey.create(begun.json()["options"])
    return passkey, post_json(client, REGISTER_COMPLETE, {"name": name, "credential": answer, "next": next_url})


def passkey_step(client, passkey):
    begun = post_json(client, VERIFY_BEGIN)
    assert begun.status_code == 200, begun.content
    return post_json(client, VERIFY_COMPLETE, {"credential": passkey.get(begun.json()["options"])})


@pytest.fixture
def requiring(workspace, owner):
    enable_two_factor(owner)
    services.two_factor_requirement_set(actor=owner, workspace=workspace, required=True)
    return workspace


# --- a first passkey -----------------------------------------------------------------------------------


def test_the_set_up_page_offers_a_passkey_and_an_app(client, db):
    person = UserFactory()
    client.force_login(person)
    page = client.get(f"{SETUP}?next=/w/acme/").content.decode()
    assert 'data-passkey="register"' in page and 'data-next="/w/acme/"' in page
    assert 'id="manual-key"' in page and "js/passkeys.js" in page


def test_the_passkeys_page_lets_a_person_without_two_factor_add_one(client, db):
    client.force_login(UserFactory())
    page = client.get(PASSKEYS).content.decode()
    assert "Your first passkey turns two-factor authentication on" in page and 'data-passkey="register"' in page


def test_a_first_passkey_turns_two_factor_on_with_backup_codes_shown_once(client, db):
    person = UserFactory()
    client.force_login(person)
    assert not devices.has_two_factor(person)
    _, response = register(client, next_url="/accounts/profile/")
    assert response.status_code == 200, response.content
    assert response.json()["redirect"] == f"{NEW_CODES}?next=%2Faccounts%2Fprofile%2F"
    assert devices.has_two_factor(person) and not devices.has_app(person)
    codes = list(StaticToken.objects.filter(device__user=person).values_list("token", flat=True))
    assert len(codes) == 10
    page = client.get(response.json()["redirect"]).content.decode()
    assert all(code in page for code in codes) and 'href="/accounts/profile/"' in page
    # Shown once: the page again leads to the two-factor page, with no code on it.
    again = client.get(NEW_CODES)
    assert again.status_code == 302 and again.url == INDEX
    assert views.NEW_CODES not in client.session
    event = AuditEvent.objects.get(action="account.passkey_add")
    assert event.before == {"two_factor": False}
    assert event.after == {"passkey": "Phone", "passkeys": 1, "two_factor": True, "backup_codes": 10}
    assert not any(code in json.dumps(event.after) for code in codes)


def test_the_first_passkey_verifies_the_session(client, requiring):
    member = add_member(requiring, catalog.MEMBER).user
    client.force_login(member)
    assert client.get(f"/w/{requiring.slug}/").url.startswith(SETUP)
    register(client)
    assert client.get(f"/w/{requiring.slug}/").status_code == 200


def test_a_second_passkey_adds_no_backup_codes(client, db):
    person = UserFactory()
    client.force_login(person)
    register(client, name="Phone")
    before = set(StaticToken.objects.filter(device__user=person).values_list("token", flat=True))
    _, response = register(client, name="Laptop")
    assert response.json()["redirect"] == PASSKEYS
    assert set(StaticToken.objects.filter(device__user=person).values_list("token", flat=True)) == before


def test_with_a_second_factor_a_passkey_needs_the_second_step_first(client, db):
    """An attacker with the password only cannot add their passkey to an account with an app."""
    person = UserFactory()
    enable_two_factor(person)
    client.force_login(person)  # password only: the code is owed
    session_store = client.session
    session_store.pop(session.PENDING, None)  # even a session that is not marked pending
    session_store.save()
    response = post_json(client, REGISTER_BEGIN)
    assert response.status_code == 403 and "first" in response.json()["error"]
    assert post_json(client, REGISTER_COMPLETE, {"name": "x", "credential": {}}).status_code == 403
    assert not WebAuthnCredential.objects.exists()
    assert "enter a code or use a passkey" in client.get(PASSKEYS).content.decode()


def test_a_person_with_a_passkey_only_may_add_an_app_and_keeps_their_codes(client, db):
    person = UserFactory()
    client.force_login(person)
    register(client)
    codes = set(StaticToken.objects.filter(device__user=person).values_list("token", flat=True))
    page = client.get(SETUP).content.decode()
    assert "Add an authenticator app" in page and 'data-passkey="register"' not in page
    key = key_from_manual_entry(page.split('id="manual-key" aria-label="Key for manual entry">')[1].split("<")[0])
    response = client.post(SETUP, {"code": app_code(key)})
    assert response.status_code == 302 and response.url == INDEX
    assert devices.has_app(person)
    assert set(StaticToken.objects.filter(device__user=person).values_list("token", flat=True)) == codes
    event = AuditEvent.objects.get(action="account.two_factor_enable")
    assert event.before == {"two_factor": True} and event.after == {"two_factor": True, "backup_codes": 0}
    # Now the set-up page has nothing left to offer.
    assert client.get(SETUP).status_code == 302


# --- counted as two-factor authentication ---------------------------------------------------------------


def test_the_policy_lets_a_member_with_only_a_passkey_hold_their_permissions(requiring):
    member = add_member(requiring, catalog.MEMBER).user
    assert not access_of(member).has("add_experience", requiring)
    assert member not in [m.user for m in holders("add_experience", requiring)]
    add_first_passkey(member)
    assert access_of(member).has("add_experience", requiring)
    assert member in [m.user for m in holders("add_experience", requiring)]


def test_an_unconfirmed_passkey_does_not_count(requiring):
    member = add_member(requiring, catalog.MEMBER).user
    _, device = add_passkey(member)
    WebAuthnCredential.objects.filter(pk=device.pk).update(confirmed=False)
    assert not access_of(member).has("add_experience", requiring)
    assert not devices.has_two_factor(member)


def test_a_passkey_added_or_removed_changes_the_workspaces_access_version(requiring):
    member = add_member(requiring, catalog.MEMBER).user
    version = AccessVersion.objects.get(workspace_id=requiring.pk).version
    _, device = add_passkey(member)
    added = AccessVersion.objects.get(workspace_id=requiring.pk).version
    assert added != version
    WebAuthnCredential.objects.filter(pk=device.pk).delete()
    assert AccessVersion.objects.get(workspace_id=requiring.pk).version != added


def test_after_the_password_a_passkey_only_person_is_asked_for_the_passkey(client, requiring):
    member = add_member(requiring, catalog.MEMBER).user
    passkey, _ = add_passkey(member)
    assert client.post(LOGIN, {"username": member.email, "password": PASSWORD}).status_code == 302
    assert session.is_pending(client)
    response = client.get(f"/w/{requiring.slug}/")
    assert response.status_code == 302 and response.url.startswith(VERIFY)
    page = client.get(VERIFY).content.decode()
    assert 'data-passkey="verify"' in page and "Use your passkey" in page
    assert "A backup code" in page and "Code from your authenticator app" not in page
    assert passkey_step(client, passkey).status_code == 200
    assert client.get(f"/w/{requiring.slug}/").status_code == 200


def test_a_passkey_only_person_may_use_a_backup_code_instead(client, requiring):
    member = add_member(requiring, catalog.MEMBER).user
    _, _, codes = add_first_passkey(member)
    client.post(LOGIN, {"username": member.email, "password": PASSWORD})
    assert client.post(VERIFY, {"code": codes[0], "next": f"/w/{requiring.slug}/"}).status_code == 302
    assert client.get(f"/w/{requiring.slug}/").status_code == 200


def test_the_middleware_leads_a_passkey_only_member_to_the_code_page_not_set_up(client, requiring):
    member = add_member(requiring, catalog.MEMBER).user
    client.force_login(member)
    add_passkey(member)  # in another session, after this one signed in
    response = client.get(f"/w/{requiring.slug}/sites/new/")
    assert response.status_code == 302
    assert response.url == f"{VERIFY}?next=%2Fw%2F{requiring.slug}%2Fsites%2Fnew%2F"
    # and the set-up page sends them on to the code page too
    assert client.get(SETUP).url.startswith(VERIFY)


def test_the_code_page_of_a_person_with_both_offers_the_code_form_and_the_passkey(client, db):
    person = UserFactory()
    enable_two_factor(person)
    add_passkey(person)
    client.post(LOGIN, {"username": person.email, "password": PASSWORD})
    page = client.get(VERIFY).content.decode()
    assert "Code from your authenticator app, or a backup code" in page and 'data-passkey="verify"' in page


@override_settings(ADMIN_REQUIRE_TWO_FACTOR=True)
def test_the_admin_takes_a_passkey_as_the_second_factor(db):
    staff = UserFactory(is_staff=True, is_superuser=True)
    passkey, _ = add_passkey(staff)
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/").url.startswith(VERIFY)
    assert passkey_step(client, passkey).status_code == 200
    assert client.get("/admin/").status_code == 200


def test_the_people_page_and_the_requirement_page_count_a_passkey(client, requiring, owner):
    member = add_member(requiring, catalog.MEMBER).user
    assert selectors.members_without_two_factor(requiring) == (1, 0)
    add_passkey(member)
    assert selectors.members_without_two_factor(requiring) == (0, 0)
    row = members_matching(requiring, {"q": member.email}).get()
    assert row.has_two_factor
    assert members_matching(requiring, {"two_factor": "no"}).count() == 0


def test_the_two_factor_page_shows_on_for_a_passkey_only_person(client, db):
    person = UserFactory()
    client.force_login(person)
    register(client)
    page = client.get(INDEX).content.decode()
    assert "badge verified" in page and "Add an authenticator app" in page


def test_a_workspace_requirement_may_be_turned_on_by_someone_with_only_a_passkey(workspace, owner):
    add_passkey(owner)
    services.two_factor_requirement_set(actor=owner, workspace=workspace, required=True)
    assert access_of(owner).has("manage_two_factor_policy", workspace)


# --- removing the last factor -------------------------------------------------------------------------


def test_the_last_passkey_cannot_be_removed_while_a_workspace_requires_two_factor(client, requiring):
    member = add_member(requiring, catalog.MEMBER).user
    passkey, device = add_passkey(member)
    client.force_login(member)
    passkey_step(client, passkey)
    url = reverse("two_factor:passkey_remove", args=[device.pk])
    asked = client.get(url).content.decode()
    assert "only second factor" in asked
    response = client.post(url, {"confirm": "yes"}, follow=True)
    assert "You cannot remove your last passkey: Acme requires two-factor authentication" in response.content.decode()
    assert WebAuthnCredential.objects.filter(pk=device.pk).exists()
    assert not AuditEvent.objects.filter(action="account.passkey_remove").exists()
    with pytest.raises(RuleViolation):
        services.passkey_remove(user=member, passkey=device)


def test_with_another_factor_the_passkey_may_go_under_the_requirement(requiring, owner):
    _, device = add_passkey(owner)  # the owner has an app too
    services.passkey_remove(user=owner, passkey=device)
    assert devices.has_two_factor(owner)
    event = AuditEvent.objects.get(action="account.passkey_remove")
    assert event.after == {"passkeys": 0} and "two_factor" not in event.before


def test_removing_the_last_passkey_elsewhere_turns_two_factor_off_with_the_codes(db):
    person = UserFactory()
    _, device = add_passkey(person)
    services.passkey_remove(user=person, passkey=device)
    assert not devices.has_two_factor(person)
    assert not StaticDevice.objects.filter(user=person).exists()
    event = AuditEvent.objects.get(action="account.passkey_remove")
    assert event.before == {"passkey": "Laptop", "two_factor": True}
    assert event.after == {"passkeys": 0, "two_factor": False}


def test_one_of_two_passkeys_may_go_under_the_requirement(requiring):
    member = add_member(requiring, catalog.MEMBER).user
    add_passkey(member, "Phone")
    _, laptop = add_passkey(member, "Laptop")
    services.passkey_remove(user=member, passkey=laptop)
    assert devices.has_two_factor(member) and StaticToken.objects.filter(device__user=member).count() == 10


def test_another_workspace_does_not_stop_the_removal(db):
    person = UserFactory()
    make_workspace(person, "Mine")  # not requiring
    _, device = add_passkey(person)
    services.passkey_remove(user=person, passkey=device)
    assert not WebAuthnCredential.objects.filter(user=person).exists()
