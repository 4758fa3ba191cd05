"""Sign-up and e-mail verification (docs/RULES.md 4.1)."""

import re
import time

import pytest
from django.conf import settings
from django.core import mail, signing
from django.db import IntegrityError, transaction
from django.test import TestCase
from django.urls import reverse

from accounts import tokens
from accounts.models import User
from accounts.services import DUPLICATE_EMAIL_MESSAGE, account_signup, email_verify
from audit.models import AuditEvent
from tests.factories import UserFactory

PASSWORD = "a long and unusual passphrase"
SIGNUP = {
    "email": "  Ada.Lovelace@Example.TEST ",
    "full_name": "Ada Lovelace",
    "password": PASSWORD,
    "password_again": PASSWORD,
}


def link_path(message) -> str:
    """The path of the one portal link in a mail's plain-text body."""
    (url,) = re.findall(r"https?://\S+", message.body)
    assert url.startswith(settings.PORTAL_BASE_URL)
    return url.removeprefix(settings.PORTAL_BASE_URL)


@pytest.fixture
def signed_up(client, db, django_capture_on_commit_callbacks):
    """Sign up through the page; returns the new account."""
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:signup"), SIGNUP)
    assert response.status_code == 302
    return User.objects.get()


class _PastSigner(signing.TimestampSigner):
    """Signs as if it were a minute past the end of the verification window."""

    def timestamp(self):
        return signing.b62_encode(int(time.time()) - settings.EMAIL_VERIFICATION_MAX_AGE - 60)


def expired_token(user) -> str:
    return _PastSigner(salt=tokens.SALT).sign_object(tokens.verification_payload(user), compress=True)


# --- the identity is case-insensitive, down to the database ---------------------------------


@pytest.mark.django_db
def test_email_unique_ignoring_case_in_the_database():
    User.objects.create(email="A@x.test")
    with pytest.raises(IntegrityError), transaction.atomic():
        # bulk_create skips the manager's normalisation: only the constraint can refuse it.
        User.objects.bulk_create([User(email="a@x.test")])
    assert User.objects.count() == 1


# --- sign-up ---------------------------------------------------------------------------------


def test_signup_page_is_public(client, db):
    response = client.get(reverse("accounts:signup"))
    assert response.status_code == 200
    for label in ("E-mail address", "Full name", "Password", "Password again"):
        assert f">{label}</label>" in response.content.decode()


def test_signup_creates_unverified_user_sends_one_mail_and_signs_nobody_in(client, signed_up):
    user = signed_up
    assert user.email == "ada.lovelace@example.test"
    assert user.full_name == "Ada Lovelace"
    assert user.check_password(PASSWORD)
    assert user.email_verified_at is None
    # Sign-up answers the same whether the address was taken or not, so it signs nobody in; the
    # new account signs in with its password (before or after opening the link).
    assert "_auth_user_id" not in client.session
    assert (
        client.post(reverse("accounts:login"), {"username": SIGNUP["email"], "password": PASSWORD}).status_code == 302
    )
    assert client.get(reverse("accounts:profile")).wsgi_request.user == user

    (message,) = mail.outbox
    assert message.to == ["ada.lovelace@example.test"]
    assert "Verify" in message.subject
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert link_path(message) in html

    event = AuditEvent.objects.get(action="account.signup")
    assert (event.actor, event.workspace, event.target_id) == (user, None, str(user.pk))
    assert PASSWORD not in str(event.after)


def test_verification_link_is_built_from_portal_base_url(client, db, settings, django_capture_on_commit_callbacks):
    settings.PORTAL_BASE_URL = "https://portal.example"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver", "evil.example"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:signup"), SIGNUP, HTTP_HOST="evil.example")
    assert re.search(r"https://portal\.example/accounts/verify/\S+/", mail.outbox[0].body)
    assert "evil.example" not in mail.outbox[0].body


def test_link_from_the_mail_verifies_once(client, signed_up):
    path = link_path(mail.outbox[0])
    client.logout()  # the link works in any browser: possession of it is the proof

    response = client.get(path)
    assert response.status_code == 200
    assert "Your e-mail address is verified" in response.content.decode()
    signed_up.refresh_from_db()
    verified_at = signed_up.email_verified_at
    assert verified_at is not None
    assert AuditEvent.objects.filter(action="account.verify", actor=signed_up).count() == 1

    again = client.get(path)
    assert again.status_code == 200
    assert "This link was used already" in again.content.decode()
    signed_up.refresh_from_db()
    assert signed_up.email_verified_at == verified_at
    assert AuditEvent.objects.filter(action="account.verify").count() == 1


def test_email_verify_service_reports_whether_it_changed_anything(db):
    user = UserFactory(email_verified_at=None)
    assert email_verify(user) is True
    assert user.email_verified_at is not None
    assert email_verify(User.objects.get(pk=user.pk)) is False


def test_expired_link_is_refused_changes_nothing_and_offers_a_new_one(client, signed_up):
    mail.outbox.clear()
    client.logout()
    response = client.get(reverse("accounts:verify", args=[expired_token(signed_up)]))
    assert response.status_code == 400
    page = response.content.decode()
    assert "This link has expired" in page
    assert reverse("accounts:resend_verification") in page
    signed_up.refresh_from_db()
    assert signed_up.email_verified_at is None
    assert not AuditEvent.objects.filter(action="account.verify").exists()

    # The expired page's button works signed out: the old link still proves which account it is.
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("accounts:resend_verification"), {"token": expired_token(signed_up)})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert client.get(link_path(message)).status_code == 200
    signed_up.refresh_from_db()
    assert signed_up.email_verified_at is not None


def _flip(token: str, index: int) -> str:
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: _flip(token, 1),  # the payload
        lambda token: _flip(token, token.index(":") + 1),  # the timestamp
        lambda token: _flip(token, len(token) - 1),  # the signature
        lambda token: "not-a-token",
    ],
    ids=["payload", "timestamp", "signature", "garbage"],
)
def test_tampered_link_is_refused_and_changes_nothing(client, signed_up, tamper):
    token = link_path(mail.outbox[0]).split("/")[-2]
    response = client.get(reverse("accounts:verify", args=[tamper(token)]))
    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    signed_up.refresh_from_db()
    assert signed_up.email_verified_at is None
    assert not AuditEvent.objects.filter(action="account.verify").exists()


def test_link_for_another_address_is_refused(client, signed_up):
    """A link made before an address change cannot verify the new address."""
    path = link_path(mail.outbox[0])
    User.objects.filter(pk=signed_up.pk).update(email="someone.else@example.test")
    assert client.get(path).status_code == 400
    signed_up.refresh_from_db()
    assert signed_up.email_verified_at is None


def test_link_salt_is_specific_to_verification(client, signed_up):
    """A value signed for another purpose with the same key is not a verification link."""
    other = signing.TimestampSigner(salt="something-else").sign_object(tokens.verification_payload(signed_up))
    assert client.get(reverse("accounts:verify", args=[other])).status_code == 400


def test_duplicate_signup_in_other_letter_case_makes_no_account_and_tells_the_owner(
    client, db, django_capture_on_commit_callbacks
):
    """Before, the page said "An account with this e-mail address already exists", which told anyone
    who has an account. Now it answers as for a new address, and the owner gets a notice instead."""
    existing = UserFactory(email="ada.lovelace@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:signup"), {**SIGNUP, "email": "ADA.LOVELACE@example.test"})
    assert response.status_code == 302 and response.url == reverse("accounts:login")
    page = client.get(response.url).content.decode()
    assert DUPLICATE_EMAIL_MESSAGE not in page
    assert "We sent a link to ada.lovelace@example.test" in page
    assert list(User.objects.all()) == [existing]
    (notice,) = mail.outbox
    assert notice.to == ["ada.lovelace@example.test"]
    assert "/accounts/verify/" not in notice.body
    assert not AuditEvent.objects.filter(action="account.signup").exists()
    assert "_auth_user_id" not in client.session


def test_duplicate_signup_refused_by_the_service_too(db):
    UserFactory(email="ada@example.test")
    with pytest.raises(Exception) as caught:
        account_signup(email="ADA@Example.test", full_name="Ada", password=PASSWORD)
    assert caught.value.message_dict == {"email": [DUPLICATE_EMAIL_MESSAGE]}
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"password_again": "something different"}, "password_again", "The two passwords are not the same."),
        ({"password": "password", "password_again": "password"}, "password", "This password is too common."),
        (
            {"password": "ada.lovelace", "password_again": "ada.lovelace"},
            "password",
            "The password is too similar to the",
        ),
        ({"email": "not an address"}, "email", "Enter a valid email address."),
    ],
    ids=["mismatch", "common", "similar-to-address", "bad-address"],
)
def test_bad_signup_input_gets_its_message_and_changes_nothing(client, db, changes, field, message):
    response = client.post(reverse("accounts:signup"), {**SIGNUP, **changes})
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert not User.objects.exists()
    assert not mail.outbox
    assert not AuditEvent.objects.exists()


def test_signed_in_person_is_sent_home_from_signup(client, db):
    client.force_login(UserFactory())
    response = client.get(reverse("accounts:signup"))
    assert response.status_code == 302
    assert response.url == reverse("home")
