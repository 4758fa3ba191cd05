"""Passkeys: adding, listing and removing them, using one as the second step after the password,
and signing in with one alone; from the person's side and from an attacker's.

The browser and the authenticator are played by ``tests.passkey_factories.SoftPasskey``, which
answers the options the portal sends, so py_webauthn's real checks run on every answer."""

from __future__ import annotations

import json
import time

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django_otp_webauthn.models import WebAuthnCredential

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from tests.factories import PASSWORD, UserFactory, make_workspace
from tests.passkey_factories import SoftPasskey, add_passkey, b64u
from tests.twofactor_factories import code_for, enable_two_factor
from twofactor import services, session
from twofactor.models import WorkspaceSecurity

PASSKEYS = reverse("two_factor:passkeys")
REGISTER_BEGIN = reverse("two_factor:passkey_register_begin")
REGISTER_COMPLETE = reverse("two_factor:passkey_register_complete")
VERIFY = reverse("two_factor:verify")
VERIFY_BEGIN = reverse("two_factor:passkey_verify_begin")
VERIFY_COMPLETE = reverse("two_factor:passkey_verify_complete")
SIGN_IN_BEGIN = reverse("two_factor:passkey_sign_in_begin")
SIGN_IN_COMPLETE = reverse("two_factor:passkey_sign_in_complete")
LOGIN = reverse("accounts:login")


@pytest.fixture
def ada(db):
    user = UserFactory(email="ada@example.test", full_name="Ada Lovelace")
    enable_two_factor(user)
    return user


@pytest.fixture
def bob(db):
    user = UserFactory(email="bob@example.test")
    enable_two_factor(user)
    return user


def post_json(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def verified(client, user):
    """Signed in with the password (force_login) and the app's code: a recent, verified session."""
    client.force_login(user)
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=user, confirmed=True)
    assert client.post(VERIFY, {"code": code_for(device)}).status_code == 302
    return client


def register(client, name="Laptop", passkey=None):
    passkey = passkey or SoftPasskey()
    begun = post_json(client, REGISTER_BEGIN)
    assert begun.status_code == 200, begun.content
    answer = passkey.create(begun.json()["options"])
    return passkey, post_json(client, REGISTER_COMPLETE, {"name": name, "credential": answer})


def sign_in_with(client, passkey, next_url="", **kwargs):
    begun = post_json(client, SIGN_IN_BEGIN)
    assert begun.status_code == 200, begun.content
    answer = passkey.get(begun.json()["options"], **kwargs)
    return post_json(client, SIGN_IN_COMPLETE, {"credential": answer, "next": next_url})


def make_old(client):
    """The session's last proof of identity an hour ago."""
    store = client.session
    store[session.PROVED_AT] = int(time.time()) - 3600
    store.save()


# --- adding, listing, removing ----------------------------------------------------------------------


def test_a_person_adds_a_named_passkey_and_sees_it_listed(client, ada):
    verified(client, ada)
    _, response = register(client, name="  Work\tlaptop\x00 ")
    assert response.status_code == 200 and response.json()["redirect"] == PASSKEYS
    device = WebAuthnCredential.objects.get(user=ada)
    assert device.name == "Work laptop" and device.confirmed
    page = client.get(PASSKEYS).content.decode()
    assert "Work laptop" in page and "Never" in page  # added, not used yet
    event = AuditEvent.objects.get(action="account.passkey_add")
    assert event.after == {"passkey": "Work laptop", "passkeys": 1}
    assert "public_key" not in json.dumps(event.after) and b64u(device.credential_id) not in json.dumps(event.after)


def test_the_two_factor_page_links_the_passkeys(client, ada):
    verified(client, ada)
    assert PASSKEYS in client.get(reverse("two_factor:index")).content.decode()


def test_a_passkey_needs_a_name(client, ada):
    verified(client, ada)
    _, response = register(client, name="   ")
    assert response.status_code == 400 and "name" in response.json()["error"]
    assert not WebAuthnCredential.objects.exists()


def test_registration_without_a_recent_sign_in_is_refused(client, ada):
    verified(client, ada)
    make_old(client)
    assert post_json(client, REGISTER_BEGIN).status_code == 403
    # Nor can a ceremony begun while recent be finished once it is not.
    verified(client, ada)
    begun = post_json(client, REGISTER_BEGIN).json()["options"]
    make_old(client)
    response = post_json(client, REGISTER_COMPLETE, {"name": "x", "credential": SoftPasskey().create(begun)})
    assert response.status_code == 403
    assert not WebAuthnCredential.objects.exists()
    page = client.get(PASSKEYS).content.decode()
    assert "enter your password again" in page and "data-passkey" not in page


def test_the_password_again_makes_the_sign_in_recent(client, ada):
    verified(client, ada)
    make_old(client)
    wrong = client.post(PASSKEYS, {"password": "not it"})
    assert wrong.status_code == 200 and "That password is not right." in wrong.content.decode()
    assert post_json(client, REGISTER_BEGIN).status_code == 403
    assert client.post(PASSKEYS, {"password": PASSWORD}).status_code == 302
    _, response = register(client)
    assert response.status_code == 200


def test_the_password_again_counts_failures_for_lockouts(client, ada, settings):
    settings.AXES_FAILURE_LIMIT = 2
    verified(client, ada)
    make_old(client)
    for _ in range(2):
        client.post(PASSKEYS, {"password": "not it"})
    assert AccessAttempt.objects.filter(username=ada.email).exists()


def test_a_registration_answer_is_used_once_and_must_match_its_challenge(client, ada):
    verified(client, ada)
    passkey = SoftPasskey()
    begun = post_json(client, REGISTER_BEGIN).json()["options"]
    answer = passkey.create(begun)
    assert post_json(client, REGISTER_COMPLETE, {"name": "a", "credential": answer}).status_code == 200
    again = post_json(client, REGISTER_COMPLETE, {"name": "b", "credential": answer})
    assert again.status_code == 400 and WebAuthnCredential.objects.count() == 1
    # A fresh challenge with an answer to another one.
    post_json(client, REGISTER_BEGIN)
    other = SoftPasskey().create({**begun, "challenge": b64u(b"x" * 32)})
    assert post_json(client, REGISTER_COMPLETE, {"name": "c", "credential": other}).status_code == 400
    assert WebAuthnCredential.objects.count() == 1


def test_a_registration_from_another_origin_is_refused(client, ada):
    verified(client, ada)
    begun = post_json(client, REGISTER_BEGIN).json()["options"]
    answer = SoftPasskey().create(begun, origin="https://evil.test")
    assert post_json(client, REGISTER_COMPLETE, {"name": "x", "credential": answer}).status_code == 400
    assert not WebAuthnCredential.objects.exists()


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b'{"credential": 5}', b'{"credential": {"id": "x"}}', b'{"name": "x", "credential": {}}'],
)
def test_hostile_registration_answers_are_refused_without_error(client, ada, body):
    verified(client, ada)
    post_json(client, REGISTER_BEGIN)
    response = client.post(REGISTER_COMPLETE, data=body, content_type="application/json")
    assert response.status_code == 400 and "error" in response.json()


def test_another_persons_credential_id_cannot_be_registered(client, ada, bob):
    adas, adas_device = add_passkey(ada)
    verified(client, bob)
    # Bob's own key, presented under Ada's credential id: that id would then name his key.
    forged = SoftPasskey(credential_id=adas.credential_id)
    _, response = register(client, name="Hijack", passkey=forged)
    assert response.status_code == 400 and "error" in response.json()
    assert list(WebAuthnCredential.objects.values_list("user_id", flat=True)) == [ada.pk]
    adas_device.refresh_from_db()
    assert adas_device.public_key == bytes(WebAuthnCredential.objects.get().public_key)
    client.logout()
    assert sign_in_with(client, adas).status_code == 200  # Ada's passkey still works
    assert int(client.session["_auth_user_id"]) == ada.pk


def test_removing_a_passkey_asks_first_then_it_no_longer_works(client, ada):
    passkey, device = add_passkey(ada)
    verified(client, ada)
    url = reverse("two_factor:passkey_remove", args=[device.pk])
    asked = client.post(url)
    assert asked.status_code == 200 and "Remove the passkey" in asked.content.decode()
    assert WebAuthnCredential.objects.filter(pk=device.pk).exists()
    assert client.post(url, {"confirm": "yes"}).status_code == 302
    assert not WebAuthnCredential.objects.filter(pk=device.pk).exists()
    assert AuditEvent.objects.get(action="account.passkey_remove").before == {"passkey": "Laptop"}
    client.logout()
    response = sign_in_with(client, passkey)
    assert response.status_code == 400 and "_auth_user_id" not in client.session


def test_another_persons_passkey_cannot_be_removed(client, ada, bob):
    _, device = add_passkey(bob)
    verified(client, ada)
    url = reverse("two_factor:passkey_remove", args=[device.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"confirm": "yes"}).status_code == 404
    assert client.post(reverse("two_factor:passkey_remove", args=[99999]), {"confirm": "yes"}).status_code == 404
    assert WebAuthnCredential.objects.filter(pk=device.pk).exists()
    with pytest.raises(RuleViolation):
        services.passkey_remove(user=ada, passkey=device)


def test_turning_two_factor_off_removes_the_passkeys(client, ada):
    add_passkey(ada)
    verified(client, ada)
    from django_otp.plugins.otp_totp.models import TOTPDevice

    code = code_for(TOTPDevice.objects.get(user=ada))
    assert client.post(reverse("two_factor:disable"), {"code": code}).status_code == 302
    assert not WebAuthnCredential.objects.filter(user=ada).exists()


def test_staff_reset_removes_the_passkeys(ada):
    add_passkey(ada)
    assert services.two_factor_reset(actor=UserFactory(is_staff=True), user=ada)
    assert not WebAuthnCredential.objects.filter(user=ada).exists()


# --- the second step after the password ---------------------------------------------------------------


def password_sign_in(client, user):
    assert client.post(LOGIN, {"username": user.email, "password": PASSWORD}).status_code == 302
    assert session.is_pending(client)  # the test client has a .session, as a request does


def test_after_the_password_a_passkey_stands_in_for_the_code(client, ada):
    passkey, device = add_passkey(ada)
    password_sign_in(client, ada)
    page = client.get(VERIFY + "?next=/accounts/profile/").content.decode()
    assert 'data-passkey="verify"' in page
    begun = post_json(client, VERIFY_BEGIN).json()["options"]
    assert [item["id"] for item in begun["allowCredentials"]] == [b64u(device.credential_id)]
    response = post_json(client, VERIFY_COMPLETE, {"credential": passkey.get(begun), "next": "/accounts/profile/"})
    assert response.status_code == 200 and response.json()["redirect"] == "/accounts/profile/"
    assert client.get(reverse("home")).status_code == 200  # no longer owing a code
    device.refresh_from_db()
    assert device.last_used_at is not None and device.sign_count == 1


def test_the_passkey_step_satisfies_a_workspaces_requirement(client, ada):
    workspace = make_workspace(owner=ada)
    services.two_factor_requirement_set(actor=ada, workspace=workspace, required=True)
    passkey, _ = add_passkey(ada)
    password_sign_in(client, ada)
    begun = post_json(client, VERIFY_BEGIN).json()["options"]
    assert post_json(client, VERIFY_COMPLETE, {"credential": passkey.get(begun)}).status_code == 200
    assert WorkspaceSecurity.objects.get(workspace=workspace).two_factor_required
    assert client.get(workspace.get_absolute_url()).status_code == 200


def test_the_code_page_offers_no_passkey_to_people_without_one(client, ada):
    password_sign_in(client, ada)
    assert "data-passkey" not in client.get(VERIFY).content.decode()
    assert post_json(client, VERIFY_BEGIN).status_code == 403


def test_another_persons_passkey_is_refused_at_the_second_step(client, ada, bob):
    add_passkey(ada)
    bobs, _ = add_passkey(bob)
    password_sign_in(client, ada)
    begun = post_json(client, VERIFY_BEGIN).json()["options"]
    response = post_json(client, VERIFY_COMPLETE, {"credential": bobs.get(begun)})
    assert response.status_code == 400
    assert client.get(reverse("home")).status_code == 302  # still owes the second step


# --- signing in with a passkey alone ----------------------------------------------------------------


def test_the_sign_in_page_offers_a_passkey_only_through_the_script(client, db):
    page = client.get(LOGIN).content.decode()
    assert 'data-passkey="sign-in"' in page and "hidden" in page.split('data-passkey="sign-in"')[1].split(">")[0]
    assert "js/passkeys.js" in page and "<script>" not in page  # no inline script (CSP)
    assert 'name="password"' in page  # the password form is all there is without JavaScript


def test_a_passkey_alone_signs_in_verified(client, ada):
    workspace = make_workspace(owner=ada)
    services.two_factor_requirement_set(actor=ada, workspace=workspace, required=True)
    passkey, device = add_passkey(ada)
    response = sign_in_with(client, passkey)
    assert response.status_code == 200 and response.json()["redirect"] == workspace.get_absolute_url()
    assert int(client.session["_auth_user_id"]) == ada.pk
    assert not session.is_pending(client)
    assert client.get(workspace.get_absolute_url()).status_code == 200  # the requirement holds
    assert session.signed_in_recently(client)


def test_signing_in_asks_the_authenticator_to_verify_its_owner(client, ada):
    passkey, _ = add_passkey(ada)
    begun = post_json(client, SIGN_IN_BEGIN).json()["options"]
    assert begun["userVerification"] == "required" and begun["allowCredentials"] == []
    response = post_json(client, SIGN_IN_COMPLETE, {"credential": passkey.get(begun, user_verified=False)})
    assert response.status_code == 400 and "_auth_user_id" not in client.session


def test_next_is_followed_only_on_this_site(client, ada):
    passkey, _ = add_passkey(ada)
    assert sign_in_with(client, passkey, next_url="/accounts/profile/").json()["redirect"] == "/accounts/profile/"
    client.logout()
    assert sign_in_with(client, passkey, next_url="https://evil.test/").json()["redirect"] != "https://evil.test/"


def test_a_passkey_registered_by_one_person_signs_in_only_that_person(client, ada, bob):
    adas, _ = add_passkey(ada)
    # Bob's account's user handle put on Ada's passkey: the server goes by the credential, not the claim.
    from django_otp_webauthn.models import WebAuthnUserHandle

    adas.user_handle = WebAuthnUserHandle.get_handle_for_user(bob)
    assert sign_in_with(client, adas).status_code == 200
    assert int(client.session["_auth_user_id"]) == ada.pk


def test_a_replayed_assertion_is_refused(client, ada):
    passkey, _ = add_passkey(ada)
    begun = post_json(client, SIGN_IN_BEGIN).json()["options"]
    answer = passkey.get(begun)
    assert post_json(client, SIGN_IN_COMPLETE, {"credential": answer}).status_code == 200
    client.logout()
    # The same answer again: its challenge was used up.
    assert post_json(client, SIGN_IN_COMPLETE, {"credential": answer}).status_code == 400
    # ...and with a new challenge begun, an old answer does not match it.
    post_json(client, SIGN_IN_BEGIN)
    assert post_json(client, SIGN_IN_COMPLETE, {"credential": answer}).status_code == 400
    assert "_auth_user_id" not in client.session


def test_an_altered_assertion_is_refused(client, ada):
    passkey, _ = add_passkey(ada)
    begun = post_json(client, SIGN_IN_BEGIN).json()["options"]
    answer = passkey.get(begun)
    answer["response"]["signature"] = b64u(b"\x30\x06\x02\x01\x01\x02\x01\x01")
    assert post_json(client, SIGN_IN_COMPLETE, {"credential": answer}).status_code == 400
    assert "_auth_user_id" not in client.session


def test_a_cloned_passkey_with_an_old_counter_is_refused(client, ada):
    passkey, _ = add_passkey(ada)
    assert sign_in_with(client, passkey).status_code == 200
    client.logout()
    passkey.sign_count = 0  # the next answer carries counter 1 again, not more than the stored one
    assert sign_in_with(client, passkey).status_code == 400


def test_an_unknown_passkey_is_refused(client, ada):
    add_passkey(ada)
    stranger = SoftPasskey()
    assert sign_in_with(client, stranger).status_code == 400


def test_a_passkey_of_another_site_is_refused(client, ada):
    passkey, _ = add_passkey(ada)
    passkey.rp_id = "evil.test"
    assert sign_in_with(client, passkey).status_code == 400
    passkey.rp_id = "localhost"
    begun = post_json(client, SIGN_IN_BEGIN).json()["options"]
    wrong_origin = passkey.get(begun, origin="https://evil.test")
    assert post_json(client, SIGN_IN_COMPLETE, {"credential": wrong_origin}).status_code == 400


def test_a_deactivated_account_cannot_sign_in_with_its_passkey(client, ada):
    passkey, _ = add_passkey(ada)
    ada.is_active = False
    ada.save(update_fields=["is_active"])
    assert sign_in_with(client, passkey).status_code == 400


def test_failures_lock_the_account_out_as_wrong_passwords_do(client, ada, settings):
    settings.AXES_FAILURE_LIMIT = 3
    passkey, _ = add_passkey(ada)
    for _ in range(3):
        begun = post_json(client, SIGN_IN_BEGIN).json()["options"]
        bad = passkey.get(begun)
        bad["response"]["signature"] = b64u(b"\x30\x06\x02\x01\x01\x02\x01\x01")
        post_json(client, SIGN_IN_COMPLETE, {"credential": bad})
    locked = sign_in_with(client, passkey)
    assert locked.status_code == 429 and "_auth_user_id" not in client.session
    # The password form is locked out for that address too.
    assert client.post(LOGIN, {"username": ada.email, "password": PASSWORD}).status_code != 302


def test_a_signed_in_person_cannot_begin_a_passkey_sign_in(client, db):
    client.force_login(UserFactory())
    assert post_json(client, SIGN_IN_BEGIN).status_code == 403
    assert post_json(client, SIGN_IN_COMPLETE).status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b'"x"',
        b'{"credential": []}',
        b'{"credential": {"rawId": "%%%"}}',
        b'{"credential": {"id": "AA", "rawId": "AA", "type": "public-key", "response": {}}}',
    ],
)
def test_hostile_sign_in_answers_are_refused_without_error(client, db, body):
    post_json(client, SIGN_IN_BEGIN)
    response = client.post(SIGN_IN_COMPLETE, data=body, content_type="application/json")
    assert response.status_code == 400 and "error" in response.json()


@pytest.mark.parametrize("body", [b"", b"[1]", b'{"credential": [1]}', b'{"credential": {"rawId": 5}}'])
def test_hostile_second_step_answers_are_refused_without_error(client, ada, body):
    add_passkey(ada)
    password_sign_in(client, ada)
    post_json(client, VERIFY_BEGIN)
    response = client.post(VERIFY_COMPLETE, data=body, content_type="application/json")
    assert response.status_code == 400 and "error" in response.json()
    assert session.is_pending(client)


def test_a_huge_passkey_id_is_a_404(client, ada):
    verified(client, ada)
    url = PASSKEYS + "9" * 30 + "/remove/"
    assert client.post(url, {"confirm": "yes"}).status_code == 404


def test_the_ceremony_endpoints_answer_post_only(client, db):
    assert client.get(SIGN_IN_BEGIN).status_code == 405
