"""Sign-in, lockout, sign-out, password reset and change (docs/RULES.md 4.1)."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from accounts.templatetags.accounts_tags import duration
from tests.factories import PASSWORD, UserFactory, make_workspace

NEW_PASSWORD = "an entirely new passphrase"


@pytest.fixture
def person(db):
    return UserFactory(email="grace@example.test", full_name="Grace Hopper")


def sign_in(client, email, password=PASSWORD):
    return client.post(reverse("accounts:login"), {"username": email, "password": password})


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def reset_link_path(message) -> str:
    (url,) = re.findall(r"https?://\S+", message.body)
    assert url.startswith(settings.PORTAL_BASE_URL)
    return url.removeprefix(settings.PORTAL_BASE_URL)


# --- sign-in -------------------------------------------------------------------------------------


def test_login_page_labels_the_field_e_mail_address(client, db):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert ">E-mail address</label>" in response.content.decode()


@pytest.mark.parametrize("typed", ["grace@example.test", "GRACE@Example.Test", "  Grace@example.test "])
def test_login_with_any_letter_case(client, person, typed):
    response = sign_in(client, typed)
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert signed_in_user_id(client) == str(person.pk)


def test_wrong_password_is_refused_with_a_message(client, person):
    response = sign_in(client, person.email, "not the password")
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()
    assert signed_in_user_id(client) is None


def test_lockout_after_failure_limit_shows_the_lockout_page(client, person):
    limit = settings.AXES_FAILURE_LIMIT
    # Spellings differ, the address is one: failures are counted together.
    for attempt in range(limit - 1):
        typed = person.email.upper() if attempt % 2 else person.email
        assert sign_in(client, typed, "wrong").status_code == 200

    response = sign_in(client, person.email, "wrong")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed sign-in attempts" in page
    assert f"try again in <strong>{duration(timedelta(hours=settings.AXES_COOLOFF_TIME))}</strong>" in page
    assert reverse("accounts:password_reset") in page

    # Locked: even the right password does not get in now.
    assert sign_in(client, person.email, PASSWORD).status_code == 429
    assert signed_in_user_id(client) is None


def test_failures_below_the_limit_do_not_lock(client, person):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, person.email, "wrong")
    assert sign_in(client, person.email).status_code == 302
    assert signed_in_user_id(client) == str(person.pk)


# --- sign-out ------------------------------------------------------------------------------------


def test_logout_by_get_is_refused_and_keeps_the_session(client, person):
    client.force_login(person)
    response = client.get(reverse("accounts:logout"))
    assert response.status_code == 405
    assert signed_in_user_id(client) == str(person.pk)


def test_logout_by_post_signs_out(client, person):
    client.force_login(person)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response.url == reverse("accounts:login")
    assert signed_in_user_id(client) is None


# --- password reset ------------------------------------------------------------------------------


def request_reset(client, email):
    with TestCase.captureOnCommitCallbacks(execute=True):  # the mail is queued when the request's transaction commits
        response = client.post(reverse("accounts:password_reset"), {"email": email})
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")


def test_password_reset_mail_link_sets_a_new_password(client, person):
    request_reset(client, "GRACE@example.test")
    (message,) = mail.outbox
    assert message.to == [person.email]
    assert message.alternatives[0][1] == "text/html"

    form_page = client.get(reset_link_path(message), follow=True)
    assert form_page.context["validlink"] is True
    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_complete")
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)

    # The link works once.
    assert client.get(reset_link_path(message), follow=True).context["validlink"] is False


def test_password_reset_for_unknown_address_sends_nothing_and_says_the_same(client, db):
    request_reset(client, "nobody@example.test")
    assert not mail.outbox


def test_password_reset_link_uses_portal_base_url_not_the_host_header(client, person, settings):
    settings.PORTAL_BASE_URL = "https://portal.example"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver", "evil.example"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": person.email}, HTTP_HOST="evil.example")
    body = mail.outbox[0].body
    assert "https://portal.example/accounts/password/reset/" in body
    assert "evil.example" not in body


def test_password_reset_lifts_a_lockout(client, person):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, person.email, "wrong")
    assert sign_in(client, person.email).status_code == 429

    request_reset(client, person.email)
    page = client.get(reset_link_path(mail.outbox[0]), follow=True)
    client.post(page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert not AccessAttempt.objects.filter(username=person.email).exists()
    assert sign_in(client, person.email, NEW_PASSWORD).status_code == 302


def test_password_reset_pages_are_public(client, db):
    for name in ("password_reset", "password_reset_done", "password_reset_complete"):
        assert client.get(reverse(f"accounts:{name}")).status_code == 200, name


# --- password change -----------------------------------------------------------------------------


def test_password_change(client, person):
    client.force_login(person)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_change_done")
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    assert signed_in_user_id(client) == str(person.pk)


def test_password_change_with_wrong_old_password_changes_nothing(client, person):
    client.force_login(person)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


# --- where sign-in lands -------------------------------------------------------------------------


def test_sign_in_with_one_workspace_lands_on_it(client, person):
    workspace = make_workspace(person, "Acme")
    response = sign_in(client, person.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("workspaces:detail", args=[workspace.slug])


def test_sign_in_with_several_or_no_workspaces_lands_on_the_list(client, person):
    assert sign_in(client, person.email)["Location"] == reverse("home")
    client.logout()
    make_workspace(person, "Acme")
    make_workspace(person, "Globex")
    assert sign_in(client, person.email)["Location"] == reverse("home")


def test_sign_in_follows_next_before_the_one_workspace(client, person):
    make_workspace(person, "Acme")
    response = client.post(
        reverse("accounts:login") + "?next=/accounts/profile/", {"username": person.email, "password": PASSWORD}
    )
    assert response["Location"] == "/accounts/profile/"
