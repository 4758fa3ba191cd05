"""Signing in with two-factor authentication on: after the password, every page leads to the code
page until a code from the app (or a backup code, once) is entered."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken

from tests.factories import PASSWORD, UserFactory, make_workspace
from tests.twofactor_factories import code_for, enable_two_factor
from twofactor.services import two_factor_reset

VERIFY = reverse("two_factor:verify")


@pytest.fixture
def person(db):
    return UserFactory(email="grace@example.test")


@pytest.fixture
def with_two_factor(person):
    return enable_two_factor(person)


def sign_in(client, email):
    response = client.post(reverse("accounts:login"), {"username": email, "password": PASSWORD})
    assert response.status_code == 302
    return response


def test_without_two_factor_the_password_is_enough(client, person):
    sign_in(client, person.email)
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.parametrize("path", ["/", "/accounts/profile/", "/w/acme/", "/accounts/two-factor/", "/w/new/"])
def test_after_the_password_every_page_leads_to_the_code_page(client, person, with_two_factor, path):
    sign_in(client, person.email)
    response = client.get(path)
    assert response.status_code == 302
    assert response.url == f"{VERIFY}?next={path.replace('/', '%2F')}"


def test_the_code_page_sign_out_and_static_files_stay_open(client, person, with_two_factor):
    sign_in(client, person.email)
    assert client.get(VERIFY).status_code == 200
    assert client.get("/static/css/portal.css").status_code != 302  # whitenoise serves it in production
    response = client.post(reverse("accounts:logout"))
    assert response.url == reverse("accounts:login")
    assert "_auth_user_id" not in client.session


def test_the_apps_code_lets_the_person_in(client, person, with_two_factor):
    device, _codes = with_two_factor
    sign_in(client, person.email)
    workspace = make_workspace(person, "Acme")

    response = client.post(VERIFY, {"code": code_for(device), "next": f"/w/{workspace.slug}/"})

    assert response.status_code == 302 and response.url == f"/w/{workspace.slug}/"
    assert client.get(f"/w/{workspace.slug}/").status_code == 200
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_a_code_is_accepted_once(client, person, with_two_factor, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device, _codes = with_two_factor
    code = code_for(device)
    sign_in(client, person.email)
    client.post(VERIFY, {"code": code})
    client.post(reverse("accounts:logout"))

    sign_in(client, person.email)
    response = client.post(VERIFY, {"code": code})

    assert response.status_code == 200 and "That code is not right" in response.content.decode()
    assert client.get("/").status_code == 302


def test_a_backup_code_works_once(client, person, with_two_factor, settings):
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    _device, codes = with_two_factor
    sign_in(client, person.email)

    response = client.post(VERIFY, {"code": codes[0]}, follow=True)

    assert response.status_code == 200 and response.redirect_chain[-1][0] == reverse("home")
    assert "You used a backup code; 9 left." in response.content.decode()
    assert not StaticToken.objects.filter(token=codes[0]).exists()

    client.post(reverse("accounts:logout"))
    sign_in(client, person.email)
    response = client.post(VERIFY, {"code": codes[0]})
    assert "That code is not right" in response.content.decode()
    assert client.get("/").status_code == 302


def test_a_wrong_code_keeps_the_person_out(client, person, with_two_factor):
    sign_in(client, person.email)
    response = client.post(VERIFY, {"code": "12345678"})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert client.get("/").url.startswith(VERIFY)


def test_next_must_be_on_this_site(client, person, with_two_factor):
    device, _codes = with_two_factor
    sign_in(client, person.email)
    response = client.post(VERIFY, {"code": code_for(device), "next": "https://evil.test/"})
    assert response.url == reverse("home")


def test_once_two_factor_is_reset_the_code_is_no_longer_owed(client, person, with_two_factor):
    sign_in(client, person.email)
    two_factor_reset(actor=None, user=person)
    response = client.get(VERIFY)
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_the_code_page_without_a_pending_code_goes_on(client, person):
    client.force_login(person)
    response = client.get(VERIFY + "?next=/accounts/profile/")
    assert response.url == "/accounts/profile/"


def test_no_extra_queries_for_people_without_two_factor(client, person, django_assert_num_queries):
    client.force_login(person)
    with django_assert_num_queries(3):  # session, user, and the profile's waiting address change
        assert client.get(reverse("accounts:profile")).status_code == 200
