"""Sign in to accept an invitation: the invitation page offers sign-in as well as sign-up, the sign-in
page keeps the invitation (``next=``) and brings the person back to it, and ``next`` never leads off
the site (open redirects are refused)."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse
from django.utils.html import escape

from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import PASSWORD, UserFactory
from workspaces.invites.services import invite_create
from workspaces.models import Invite, Membership

LOGIN = reverse("accounts:login")
HOME = reverse("home")


@pytest.fixture
def token(owner, workspace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite_create(actor=owner, workspace=workspace, emails=["ann@example.com"], role=builtin_role(catalog.MEMBER))
    return re.search(r"/invites/([A-Za-z0-9_-]+)/", mail.outbox[-1].body).group(1)


def invite_path(token: str) -> str:
    return reverse("invites:accept", args=[token])


def login_url_for(token: str) -> str:
    return f"{LOGIN}?next={quote(invite_path(token), safe='')}"


def sign_in(client, email: str, next_url: str, password: str = PASSWORD):
    return client.post(
        f"{LOGIN}?next={quote(next_url, safe='')}", {"username": email, "password": password, "next": next_url}
    )


def test_page_without_an_account_offers_sign_up_and_sign_in(client, token):
    html = client.get(invite_path(token)).content.decode()
    assert "Create account and join" in html
    assert "Sign in to accept" in html
    assert f'href="{escape(login_url_for(token))}"' in html


def test_page_with_an_account_offers_sign_in_that_keeps_the_invitation(client, token):
    UserFactory(email="ann@example.com")
    html = client.get(invite_path(token)).content.decode()
    assert f'href="{escape(login_url_for(token))}"' in html
    assert "Sign in to accept" in html


def main_of(response) -> str:
    """The page's own content, without the layout's navigation (which links to sign-up)."""
    return response.content.decode().split("<main", 1)[1]


def test_sign_in_page_from_an_invitation_says_so_and_keeps_it(client, token):
    html = main_of(client.get(login_url_for(token)))
    assert "Sign in to accept your invitation" in html
    assert f'name="next" value="{invite_path(token)}"' in html
    # "New here?" leads back to the invitation's own sign-up form, not the plain sign-up page.
    assert f'<a href="{invite_path(token)}">Create your account from the invitation</a>' in html
    assert reverse("accounts:signup") not in html


def test_plain_sign_in_page_does_not_mention_an_invitation(client, db):
    html = main_of(client.get(LOGIN))
    assert "invitation" not in html
    assert reverse("accounts:signup") in html


def test_existing_account_signs_in_comes_back_and_accepts(client, workspace, token):
    ann = UserFactory(email="ann@example.com")
    response = sign_in(client, "ann@example.com", invite_path(token))
    assert response.status_code == 302 and response.url == invite_path(token)
    page = client.get(response.url).content.decode()
    assert "Join Acme</button>" in page
    assert not Membership.objects.filter(user=ann).exists()  # coming back changes nothing by itself
    response = client.post(invite_path(token))
    assert response.url == workspace.get_absolute_url()
    assert Membership.objects.get(user=ann, workspace=workspace).role.key == catalog.MEMBER
    assert Invite.objects.get().status == Invite.Status.ACCEPTED


def test_signing_in_as_another_account_comes_back_to_the_refusal(client, token):
    UserFactory(email="bob@example.com")
    response = sign_in(client, "bob@example.com", invite_path(token))
    assert response.url == invite_path(token)
    html = client.get(response.url).content.decode()
    assert "but this invitation is for ann@example.com" in html
    assert Invite.objects.get().status == Invite.Status.PENDING


@pytest.mark.parametrize(
    "hostile",
    [
        "https://evil.example/",
        "http://evil.example/invites/x/",
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "https:evil.example",
        "http://testserver@evil.example/",
        "javascript:alert(document.cookie)",
        " https://evil.example/",
        "https://evil.example/\x00",
        "\u2028https://evil.example/",
    ],
)
def test_sign_in_refuses_to_send_anyone_off_the_site(client, db, hostile):
    UserFactory(email="ann@example.com")
    page = client.get(f"{LOGIN}?next={quote(hostile, safe='')}")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="next"' not in html  # the hidden field carries only a next it would follow
    assert "evil.example" not in html
    response = sign_in(client, "ann@example.com", hostile)
    assert response.status_code == 302
    assert response.url == HOME
    assert SESSION_KEY in client.session


def test_sign_in_follows_a_page_of_this_site(client, db):
    UserFactory(email="ann@example.com")
    response = sign_in(client, "ann@example.com", reverse("accounts:profile"))
    assert response.url == reverse("accounts:profile")


def test_failed_sign_in_from_an_invitation_stores_no_token(client, token):
    UserFactory(email="ann@example.com")
    response = sign_in(client, "ann@example.com", invite_path(token), password="not the password")
    assert response.status_code == 200
    (attempt,) = AccessAttempt.objects.all()
    stored = f"{attempt.get_data} {attempt.post_data} {attempt.path_info}"
    assert token not in stored
    assert "/invites/" not in stored
