"""The profile page: own name and notification settings, verification status, login required."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from accounts.services import profile_update
from accounts.templatetags.accounts_tags import duration
from audit.models import AuditEvent
from tests.factories import UserFactory

SETTINGS_OFF = {
    "full_name": "Grace B. Hopper",
    # Unticked boxes are absent from a form post: both notifications switched off.
}


@pytest.fixture
def person(db):
    return UserFactory(email="grace@example.test", full_name="Grace Hopper")


def profile_events():
    return AuditEvent.objects.filter(action="account.profile_update")


def test_profile_shows_own_settings(client, person):
    person.notify_member_requests = False
    person.save(update_fields=["notify_member_requests"])
    client.force_login(person)
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["full_name"] == "Grace Hopper"
    assert form.initial["notify_member_requests"] is False
    assert form.initial["notify_workspace_changes"] is True
    page = response.content.decode()
    # Each setting says which mail it governs (workspaces.notices), and only such settings exist.
    assert "Someone asks to join, or accepts an invitation I sent." in page
    assert "My role changed, I was removed from a workspace, my request to join was answered." in page
    assert set(form.fields) == {"full_name", "time_zone", "notify_workspace_changes", "notify_member_requests"}
    assert reverse("accounts:password_change") in page
    assert "Verified" in page
    assert reverse("accounts:resend_verification") not in page


def test_profile_update_changes_only_own_fields_and_audits_once(client, person):
    other = UserFactory(full_name="Someone Else")
    client.force_login(person)
    response = client.post(
        reverse("accounts:profile"),
        {
            **SETTINGS_OFF,
            "notify_member_requests": "on",
            # Not profile fields: a crafted post must not change them.
            "email": "admin@example.test",
            "is_staff": "on",
            "is_superuser": "on",
            "email_verified_at": "",
            "id": other.pk,
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.full_name == "Grace B. Hopper"
    assert (person.notify_member_requests, person.notify_workspace_changes) == (True, False)
    assert (person.email, person.is_staff, person.is_superuser) == ("grace@example.test", False, False)
    assert person.email_verified_at is not None
    other.refresh_from_db()
    assert other.full_name == "Someone Else"
    assert other.notify_member_requests and other.notify_workspace_changes

    (event,) = profile_events()
    assert (event.actor, event.target_id, event.workspace) == (person, str(person.pk), None)
    assert event.before == {"full_name": "Grace Hopper", "notify_workspace_changes": True}
    assert event.after["full_name"] == "Grace B. Hopper"


def test_saving_an_unchanged_profile_writes_no_audit_event(client, person):
    client.force_login(person)
    unchanged = {
        "full_name": person.full_name,
        "notify_member_requests": "on",
        "notify_workspace_changes": "on",
    }
    assert client.post(reverse("accounts:profile"), unchanged).status_code == 302
    assert not profile_events().exists()


def test_too_long_name_gets_its_message_and_changes_nothing(client, person):
    client.force_login(person)
    response = client.post(reverse("accounts:profile"), {"full_name": "x" * 151})
    assert response.status_code == 200
    assert response.context["form"].errors["full_name"]
    person.refresh_from_db()
    assert person.full_name == "Grace Hopper"
    assert person.notify_workspace_changes is True
    assert not profile_events().exists()


def test_profile_update_service_refuses_other_fields(person):
    with pytest.raises(TypeError):
        profile_update(user=person, is_staff=True)
    with pytest.raises(Exception) as caught:
        profile_update(user=person, full_name="x" * 151)
    assert "full_name" in caught.value.message_dict
    person.refresh_from_db()
    assert (person.is_staff, person.full_name) == (False, "Grace Hopper")
    assert not profile_events().exists()


def test_unverified_profile_offers_a_new_link_that_works(client, db):
    person = UserFactory(email_verified_at=None)
    client.force_login(person)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "Not verified" in page
    assert reverse("accounts:resend_verification") in page

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("accounts:resend_verification"))
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == [person.email]
    link = message.body.split("http://testserver", 1)[1].split()[0]
    assert client.get(link).status_code == 200
    person.refresh_from_db()
    assert person.email_verified_at is not None


def test_resend_for_a_verified_address_sends_nothing(client, person):
    client.force_login(person)
    client.post(reverse("accounts:resend_verification"))
    assert not mail.outbox


def test_resend_is_post_only(client, person):
    client.force_login(person)
    assert client.get(reverse("accounts:resend_verification")).status_code == 405
    assert not mail.outbox


def test_anonymous_resend_without_a_valid_link_sends_nothing(client, person):
    person.email_verified_at = None
    person.save(update_fields=["email_verified_at"])
    response = client.post(reverse("accounts:resend_verification"), {"token": "forged"})
    assert response.status_code == 302
    assert response.url == reverse("accounts:login")
    assert not mail.outbox


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("profile", "get"),
        ("profile", "post"),
        ("password_change", "get"),
        ("password_change", "post"),
        ("password_change_done", "get"),
    ],
)
def test_account_pages_require_login(client, db, name, method):
    url = reverse(f"accounts:{name}")
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={url}"


def test_public_pages_are_public(client, db):
    for name in ("login", "signup", "password_reset"):
        assert client.get(reverse(f"accounts:{name}")).status_code == 200, name


def test_profile_page_query_count(client, person, django_assert_num_queries):
    client.force_login(person)
    # Session, user, and a waiting address change; the page reads nothing else.
    with django_assert_num_queries(3):
        assert client.get(reverse("accounts:profile")).status_code == 200


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (timedelta(minutes=15), "15 minutes"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=1, minutes=30), "1 hour 30 minutes"),
        (3 * 24 * 3600, "3 days"),
        (0, "1 minute"),
    ],
)
def test_duration_in_words(value, words):
    assert duration(value) == words
