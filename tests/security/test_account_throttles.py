"""Finding 12: unlimited password-reset mail and account enumeration through sign-up.

The attacks: 20 anonymous reset requests for one address sent 20 mails (mail bombing a victim,
and the portal's mail reputation with it); and sign-up answered "An account with this e-mail
address already exists", which tells anyone whether an address has an account. Reset and sign-up
are now throttled per address and per client address, counted in the database (so the limits hold
across worker processes), and sign-up answers the same whether the address has an account or not:
the owner of an existing address gets a mail saying someone tried.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ThrottleHit, User
from accounts.services import signup_request
from accounts.throttle import Throttled
from tests.factories import UserFactory

PASSWORD = "a long and unusual passphrase"


def signup_data(email: str) -> dict:
    return {"email": email, "full_name": "Someone", "password": PASSWORD, "password_again": PASSWORD}


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


def reset(client, email: str, ip: str = "203.0.113.7", **extra):
    return client.post(reverse("accounts:password_reset"), {"email": email}, REMOTE_ADDR=ip, **extra)


# --- password reset ----------------------------------------------------------------------------


def test_twenty_reset_requests_for_one_address_send_only_the_limit(client, db, settings, committed):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS_PER_HOUR = 3
    UserFactory(email="victim@acme.test")
    statuses = []
    with committed():
        for _ in range(20):
            statuses.append(reset(client, "victim@acme.test").status_code)
    assert len(mail.outbox) == 3
    assert statuses[:3] == [302] * 3
    assert set(statuses[3:]) == {429}


def test_the_address_limit_holds_from_many_clients_and_any_spelling(client, db, settings, committed):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS_PER_HOUR = 2
    UserFactory(email="victim@acme.test")
    with committed():
        reset(client, "victim@acme.test", ip="198.51.100.1")
        reset(client, "VICTIM@ａcme.test", ip="198.51.100.2")
        refused = reset(client, "victim@acme.test", ip="198.51.100.3")
    assert refused.status_code == 429
    assert "Too many requests" in refused.content.decode()
    assert len(mail.outbox) == 2


def test_one_client_cannot_spray_resets_over_many_addresses(client, db, settings, committed):
    settings.PASSWORD_RESET_LIMIT_PER_CLIENT_PER_HOUR = 5
    for n in range(8):
        UserFactory(email=f"person{n}@acme.test")
    with committed():
        statuses = [reset(client, f"person{n}@acme.test").status_code for n in range(8)]
    assert statuses == [302] * 5 + [429] * 3
    assert len(mail.outbox) == 5


def test_a_forged_forwarded_for_header_does_not_dodge_the_client_limit(client, db, settings, committed):
    settings.PASSWORD_RESET_LIMIT_PER_CLIENT_PER_HOUR = 2
    with committed():
        statuses = [
            reset(client, f"nobody{n}@acme.test", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code for n in range(4)
        ]
    assert statuses == [302, 302, 429, 429]


def test_unknown_addresses_are_throttled_the_same_as_known_ones(client, db, settings):
    """Otherwise the 429 itself would tell which addresses have accounts."""
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS_PER_HOUR = 1
    UserFactory(email="known@acme.test")
    assert [reset(client, "known@acme.test").status_code for _ in range(2)] == [302, 429]
    assert [reset(client, "unknown@acme.test").status_code for _ in range(2)] == [302, 429]


def test_the_count_is_in_the_database_and_forgets_after_an_hour(client, db, settings, committed):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS_PER_HOUR = 1
    UserFactory(email="victim@acme.test")
    with committed():
        assert reset(client, "victim@acme.test").status_code == 302
    # What another worker process sees: the rows, keyed by a digest, never the address itself.
    assert ThrottleHit.objects.exists()
    assert not ThrottleHit.objects.filter(key__contains="victim").exists()
    assert reset(client, "victim@acme.test").status_code == 429
    ThrottleHit.objects.update(created_at=timezone.now() - timedelta(hours=1, seconds=1))
    with committed():
        assert reset(client, "victim@acme.test").status_code == 302
    assert len(mail.outbox) == 2


# --- sign-up -----------------------------------------------------------------------------------


def _outcome(response) -> tuple:
    page_messages = [str(m) for m in response.wsgi_request._messages]
    return response.status_code, response.get("Location"), page_messages


def test_sign_up_answers_the_same_whether_the_address_has_an_account_or_not(client, db, committed):
    UserFactory(email="taken@acme.test", full_name="Tara Taken")
    with committed():
        taken = client.post(reverse("accounts:signup"), signup_data("taken@acme.test"))
    mail_for_taken = list(mail.outbox)
    mail.outbox.clear()
    other_client = Client()  # a fresh browser, so that the first answer's message is not carried over
    with committed():
        free = other_client.post(reverse("accounts:signup"), signup_data("free@acme.test"))

    status, location, messages = _outcome(taken)
    assert (status, location) == _outcome(free)[:2]
    assert [m.replace("taken@", "free@") for m in messages] == _outcome(free)[2]
    for response, browser in ((taken, client), (free, other_client)):
        assert "already" not in " ".join(_outcome(response)[2])
        assert "_auth_user_id" not in browser.session  # nobody is signed in by a sign-up

    # No second account; the owner of the taken address is told someone tried.
    assert User.objects.filter(email="taken@acme.test").count() == 1
    (notice,) = mail_for_taken
    assert notice.to == ["taken@acme.test"]
    assert "tried to create an account" in notice.body
    assert reverse("accounts:login") in notice.body and reverse("accounts:password_reset") in notice.body
    # The new address gets its verification link, as before.
    (verification,) = mail.outbox
    assert verification.to == ["free@acme.test"] and "/accounts/verify/" in verification.body
    assert User.objects.get(email="free@acme.test").email_verified_at is None


def test_sign_up_with_a_bad_password_gets_the_same_errors_for_both(client, db):
    UserFactory(email="taken@acme.test")
    data = {"password": "password", "password_again": "password"}
    taken = client.post(reverse("accounts:signup"), {**signup_data("taken@acme.test"), **data})
    free = client.post(reverse("accounts:signup"), {**signup_data("free@acme.test"), **data})
    assert taken.status_code == free.status_code == 200
    assert taken.context["form"].errors == free.context["form"].errors
    assert not User.objects.filter(email="free@acme.test").exists()


def test_sign_up_is_throttled_per_address(client, db, settings, committed):
    settings.SIGNUP_LIMIT_PER_ADDRESS_PER_HOUR = 2
    UserFactory(email="victim@acme.test")
    with committed():
        statuses = [
            client.post(
                reverse("accounts:signup"), signup_data("victim@acme.test"), REMOTE_ADDR=f"198.51.100.{n}"
            ).status_code
            for n in range(5)
        ]
    assert statuses == [302, 302, 429, 429, 429]
    assert len(mail.outbox) == 2


def test_sign_up_is_throttled_per_client(client, db, settings, committed):
    settings.SIGNUP_LIMIT_PER_CLIENT_PER_HOUR = 3
    with committed():
        statuses = [
            client.post(reverse("accounts:signup"), signup_data(f"n{n}@acme.test")).status_code for n in range(5)
        ]
    assert statuses == [302, 302, 302, 429, 429]
    assert User.objects.count() == 3


def test_the_service_itself_throttles(db, settings):
    settings.SIGNUP_LIMIT_PER_CLIENT_PER_HOUR = 1
    signup_request(email="a@acme.test", full_name="A", password=PASSWORD, client_ip="203.0.113.9")
    with pytest.raises(Throttled):
        signup_request(email="b@acme.test", full_name="B", password=PASSWORD, client_ip="203.0.113.9")
    assert list(User.objects.values_list("email", flat=True)) == ["a@acme.test"]
