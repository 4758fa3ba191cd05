"""The top bar's "Sign in" and "Create an account" keep ``?next=``: someone who opens an invitation
(or any page) while signed out comes back to it after signing in. Only a path of this site is kept
(``kernel.next_url``); a hostile ``next`` given to the sign-in or sign-up page is dropped from
their links and from sign-up's way on to sign-in."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse

from kernel.next_url import safe_next
from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import PASSWORD, UserFactory
from workspaces.invites.services import invite_create

LOGIN, SIGNUP = reverse("accounts:login"), reverse("accounts:signup")
NEW_ACCOUNT = {"full_name": "Ann", "password": "correct horse battery", "password_again": "correct horse battery"}
HOSTILE = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "http://testserver/w/",  # this host, but not a relative path
    "javascript:alert(1)",
    "evil.example",
    "/\t/evil.example",
]


def top_bar(response) -> str:
    return response.content.decode().split('<nav aria-label="Account">', 1)[1].split("</nav>", 1)[0]


def target(href: str) -> tuple[str, str | None]:
    """(path, next) of a link or redirect."""
    parts = urlsplit(unescape(href))
    return parts.path, parse_qs(parts.query).get("next", [None])[0]


def links(response) -> dict[str, tuple[str, str | None]]:
    """{text: (path, next)} of the top bar's links."""
    return {text: target(href) for href, text in re.findall(r'<a href="([^"]*)">([^<]*)</a>', top_bar(response))}


@pytest.fixture
def invitation(owner, workspace, django_capture_on_commit_callbacks) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        invite_create(actor=owner, workspace=workspace, emails=["ann@example.com"], role=builtin_role(catalog.MEMBER))
    return re.search(r"(/invites/[A-Za-z0-9_-]+/)", mail.outbox[-1].body).group(1)


def test_the_invitation_page_links_sign_in_and_sign_up_back_to_it(client, invitation):
    found = links(client.get(invitation))
    assert found["Sign in"] == (LOGIN, invitation)
    assert found["Create an account"] == (SIGNUP, invitation)


def test_signing_in_from_the_top_bar_comes_back_to_the_invitation(client, invitation):
    UserFactory(email="ann@example.com")
    href = re.search(r'<a href="([^"]*)">Sign in</a>', top_bar(client.get(invitation))).group(1)
    sign_in = unescape(href)
    assert f'name="next" value="{invitation}"' in client.get(sign_in).content.decode()
    response = client.post(sign_in, {"username": "ann@example.com", "password": PASSWORD, "next": invitation})
    assert response.status_code == 302 and response.url == invitation
    assert "Join Acme" in client.get(invitation).content.decode()


def test_any_page_is_kept_with_its_query(client, db):
    found = links(client.get("/no-such-page/?a=1&b=2"))  # the 404 page has the top bar too
    assert found["Sign in"] == (LOGIN, "/no-such-page/?a=1&b=2")


def test_the_home_page_needs_no_next(client, db):
    found = links(client.get(reverse("home"), follow=True))
    assert found["Sign in"] == (LOGIN, None) and found["Create an account"] == (SIGNUP, None)


def test_the_sign_in_and_sign_up_pages_pass_their_own_next_on(client, invitation):
    assert links(client.get(f"{LOGIN}?next={quote(invitation)}"))["Create an account"] == (SIGNUP, invitation)
    assert links(client.get(f"{SIGNUP}?next={quote(invitation)}"))["Sign in"] == (LOGIN, invitation)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_hostile_next_is_dropped_from_the_links(client, db, hostile):
    for page in (LOGIN, SIGNUP):
        response = client.get(f"{page}?next={quote(hostile, safe='')}")
        found = links(response)
        assert found["Sign in"] == (LOGIN, None) and found["Create an account"] == (SIGNUP, None)
        assert "evil" not in top_bar(response)
    assert "evil" not in client.get(f"{SIGNUP}?next={quote(hostile, safe='')}").content.decode()


def test_sign_up_keeps_the_invitation_through_to_sign_in(client, invitation):
    page = client.get(f"{SIGNUP}?next={quote(invitation)}").content.decode()
    assert f'name="next" value="{invitation}"' in page
    response = client.post(SIGNUP, {**NEW_ACCOUNT, "email": "ann@example.com", "next": invitation})
    assert response.status_code == 302 and target(response.url) == (LOGIN, invitation)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_sign_up_drops_a_hostile_next(client, db, hostile):
    response = client.post(SIGNUP, {**NEW_ACCOUNT, "email": "bob@example.com", "next": hostile})
    assert response.status_code == 302 and response.url == LOGIN


def test_signed_in_there_is_no_sign_in_link(client, owner, invitation):
    client.force_login(owner)
    assert "Sign in" not in links(client.get(reverse("home"), follow=True))


@pytest.mark.parametrize("hostile", HOSTILE)
def test_safe_next_keeps_only_a_path_of_this_site(hostile):
    request = RequestFactory().get("/")
    assert safe_next(request, hostile) == ""
    assert safe_next(request, "/invites/abc/?x=1") == "/invites/abc/?x=1"
    assert safe_next(request, None) == ""
