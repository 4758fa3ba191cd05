"""The invitation link's page, /invites/<token>/ (docs/RULES.md 4.3, rule 6)."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.models import User
from audit.models import AuditEvent
from permissions import catalog
from permissions.policy import Access
from permissions.roles import builtin_role
from tests.factories import PASSWORD, UserFactory, make_site, make_workspace
from workspaces.invites.services import invite_create, invite_revoke
from workspaces.models import Invite, JoinDomain, Membership, SiteGrant

pytestmark = pytest.mark.django_db

LINK = re.compile(r"/invites/([A-Za-z0-9_-]+)/")
NEW_PASSWORD = "a long and unusual passphrase"


def said(response) -> str:
    return " | ".join(str(m) for m in get_messages(response.wsgi_request))


def send_invite(capture, actor, workspace, email="ann@example.com", **kwargs):
    kwargs.setdefault("role", builtin_role(catalog.VIEWER))
    with capture(execute=True):
        invite_create(actor=actor, workspace=workspace, emails=[email], **kwargs)
    return LINK.search(mail.outbox[-1].body).group(1)


@pytest.fixture
def site(workspace):
    return make_site(workspace, "Shop")


@pytest.fixture
def token(workspace, owner, site, django_capture_on_commit_callbacks):
    return send_invite(
        django_capture_on_commit_callbacks,
        owner,
        workspace,
        site_grants=[(site, builtin_role(catalog.EDITOR, catalog.SITE))],
    )


def link(token):
    return reverse("invites:accept", args=[token])


def snapshot():
    """Everything accepting could write."""
    return (
        Membership.objects.count(),
        User.objects.count(),
        AuditEvent.objects.count(),
        SiteGrant.objects.count(),
        list(Invite.objects.values_list("status", "accepted_at")),
        list(User.objects.values_list("email_verified_at", flat=True)),
    )


# --- opening the link changes nothing ---------------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "invitee", "someone else", "existing account"])
def test_opening_the_link_changes_nothing(client, token, who):
    ann = UserFactory(email="ann@example.com", email_verified_at=None) if who != "anonymous" else None
    if who == "invitee":
        client.force_login(ann)
    elif who == "someone else":
        client.force_login(UserFactory(email="bob@example.com"))
    before = snapshot()
    for method in (client.get, client.head):
        response = method(link(token))
        assert response.status_code == 200
    assert snapshot() == before
    assert "no-cache" in response["Cache-Control"]


def test_page_names_workspace_inviter_and_role(client, token):
    html = client.get(link(token)).content.decode()
    assert "<h1>Join Acme</h1>" in html
    assert "Olivia Owner (owner@acme.test) invited you" in html
    assert "<dd>Viewer</dd>" in html
    assert "<dd>ann@example.com</dd>" in html


# --- signed in with the invited address -----------------------------------------------------------


def test_invitee_joins_with_a_click(client, workspace, site, token):
    ann = UserFactory(email="Ann@Example.com", email_verified_at=None)
    client.force_login(ann)
    assert "Join Acme</button>" in client.get(link(token)).content.decode()
    response = client.post(link(token))
    assert response.status_code == 302 and response.url == reverse("workspaces:detail", args=[workspace.slug])
    assert "Welcome to Acme! You joined as Viewer." in said(response)
    membership = Membership.objects.select_related("role").get(workspace=workspace, user=ann)
    assert membership.role.key == catalog.VIEWER
    assert "add_dashboards" in Access(ann).perms(site)  # the invitation's editor grant
    ann.refresh_from_db()
    assert ann.email_verified_at is not None


def test_second_click_says_you_are_in(client, workspace, token):
    client.force_login(UserFactory(email="ann@example.com"))
    client.post(link(token))
    response = client.post(link(token))
    assert response.url == reverse("workspaces:detail", args=[workspace.slug])
    assert "You are already a member of Acme." in said(response)
    page = client.get(link(token))
    assert page.status_code == 410 and "You are a member of Acme" in page.content.decode()
    assert Membership.objects.filter(workspace=workspace, user__email="ann@example.com").count() == 1


# --- signed in as someone else ------------------------------------------------------------------------


def test_other_account_is_refused_by_name(client, workspace, token):
    bob = UserFactory(email="bob@example.com", full_name="Bob Brown")
    client.force_login(bob)
    html = client.get(link(token)).content.decode()
    assert "You are signed in as Bob Brown (bob@example.com), but this invitation is for ann@example.com." in html
    assert f'action="{reverse("accounts:logout")}"' in html
    assert f'name="next" value="{link(token)}"' in html
    assert "Join Acme</button>" not in html

    before = snapshot()
    response = client.post(link(token))
    assert response.url == link(token)
    assert snapshot() == before
    assert not Membership.objects.filter(user=bob, workspace=workspace).exists()


def test_signing_out_comes_back_to_the_invitation(client, token):
    client.force_login(UserFactory(email="bob@example.com"))
    response = client.post(reverse("accounts:logout"), {"next": link(token)})
    assert response.url == link(token)
    assert "Create account and join" in client.get(link(token)).content.decode()


# --- not signed in ------------------------------------------------------------------------------------


def signup(client, token, follow=False, **data):
    data = {"full_name": "Ann Example", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD, **data}
    return client.post(link(token), data, follow=follow)


def test_sign_up_through_the_link_makes_a_verified_member(client, workspace, site, token):
    outbox = len(mail.outbox)
    response = signup(client, token, email="mallory@example.com")  # the address cannot be changed
    assert response.status_code == 302 and response.url == reverse("workspaces:detail", args=[workspace.slug])
    ann = User.objects.get(email="ann@example.com")
    assert not User.objects.filter(email="mallory@example.com").exists()
    assert ann.full_name == "Ann Example" and ann.check_password(NEW_PASSWORD)
    assert ann.email_verified_at is not None
    assert int(client.session[SESSION_KEY]) == ann.pk  # signed in
    membership = Membership.objects.select_related("role").get(workspace=workspace, user=ann)
    assert membership.role.key == catalog.VIEWER
    grant = SiteGrant.objects.select_related("role").get(site=site, membership=membership)
    assert grant.role.key == catalog.EDITOR
    assert Invite.objects.get().status == Invite.Status.ACCEPTED
    assert len(mail.outbox) == outbox  # no "verify your address" mail: the link proved it
    assert AuditEvent.objects.filter(action="account.verify", actor=ann).count() == 1
    assert "Your account is ready and you joined as Viewer." in said(response)
    assert client.get(reverse("workspaces:site_detail", args=[workspace.slug, site.slug])).status_code == 200


def verified_domain(workspace, name="example.com"):
    return JoinDomain.objects.create(
        workspace=workspace,
        domain=name,
        role=builtin_role(catalog.MEMBER),
        verification_token="t",
        verified_at=timezone.now(),
        verification_method=JoinDomain.Method.EMAIL,
    )


def test_invitation_wins_over_the_workspaces_join_domain(client, workspace, site, token):
    verified_domain(workspace)
    signup(client, token)
    membership = Membership.objects.select_related("role").get(workspace=workspace, user__email="ann@example.com")
    assert membership.role.key == catalog.VIEWER  # the invitation's role, not the domain's Member
    assert SiteGrant.objects.filter(site=site, membership=membership).exists()


def test_address_verified_by_the_link_also_joins_by_domain_elsewhere(client, workspace, token):
    """Signing up through the link verifies the address like the verification e-mail would, so
    another workspace's join domain applies too."""
    other = make_workspace(UserFactory(), "Other")
    verified_domain(other)
    response = signup(client, token, follow=True)
    # The page says so, as the verification page would.
    assert "You joined Other as Member: your address is at a domain it admits." in response.content.decode()
    assert set(Membership.objects.filter(user__email="ann@example.com").values_list("workspace__name", flat=True)) == {
        "Acme",
        "Other",
    }


def test_sign_up_form_shows_the_fixed_address(client, token):
    html = client.get(link(token)).content.decode()
    assert 'value="ann@example.com"' in html and "disabled" in html
    assert "Create account and join" in html


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"password_again": "something else entirely"}, "The two passwords are not the same."),
        ({"password": "123", "password_again": "123"}, "This password is too short."),
        ({"full_name": ""}, "This field is required."),
    ],
)
def test_bad_sign_up_changes_nothing(client, token, data, error):
    before = snapshot()
    response = signup(client, token, **data)
    assert response.status_code == 200
    assert escape(error) in response.content.decode()
    assert snapshot() == before
    assert SESSION_KEY not in client.session


def test_existing_account_is_asked_to_sign_in(client, token):
    UserFactory(email="ann@example.com")
    html = client.get(link(token)).content.decode()
    login_url = f"{reverse('accounts:login')}?next=%2Finvites%2F{token}%2F"
    assert "ann@example.com already has an account. Sign in to accept the invitation" in html
    assert escape(login_url) in html
    before = snapshot()
    response = signup(client, token)
    assert response.status_code == 302 and response.url == login_url
    assert snapshot() == before


def test_sign_in_returns_to_the_invitation(client, token):
    UserFactory(email="ann@example.com")
    response = client.post(
        f"{reverse('accounts:login')}?next={link(token)}",
        {"username": "ann@example.com", "password": PASSWORD, "next": link(token)},
    )
    assert response.status_code == 302 and response.url == link(token)
    assert "Join Acme</button>" in client.get(link(token)).content.decode()


# --- links that no longer work -------------------------------------------------------------------------


def test_used_link_explains_and_names_whom_to_ask(client, workspace, token):
    client.force_login(UserFactory(email="ann@example.com"))
    client.post(link(token))
    client.force_login(UserFactory(email="bob@example.com"))
    response = client.get(link(token))
    assert response.status_code == 410
    html = response.content.decode()
    assert "has already been used" in html and "Ask owner@acme.test for a new invitation." in html


def test_expired_link_explains(client, token):
    Invite.objects.update(expires_at=timezone.now() - timedelta(days=1))
    before = snapshot()
    response = client.get(link(token))
    assert response.status_code == 410
    html = response.content.decode()
    assert "expired on" in html and "Ask owner@acme.test for a new invitation." in html
    assert signup(client, token).status_code == 410  # and cannot be used
    assert snapshot() == before


def test_revoked_link_explains(client, owner, token):
    invite_revoke(actor=owner, invite=Invite.objects.get())
    client.force_login(UserFactory(email="ann@example.com"))
    before = snapshot()
    assert "was withdrawn" in client.get(link(token)).content.decode()
    response = client.post(link(token))
    assert response.url == link(token)
    assert snapshot() == before


def test_system_invitation_says_to_ask_an_administrator(client, workspace, django_capture_on_commit_callbacks):
    token = send_invite(django_capture_on_commit_callbacks, None, workspace)
    Invite.objects.update(status=Invite.Status.REVOKED)
    assert "Ask an administrator of Acme for a new invitation." in client.get(link(token)).content.decode()


@pytest.mark.parametrize("bad", ["nope", "x" * 300])
def test_unknown_link_is_a_kind_404(client, token, bad):
    response = client.get(link(bad))
    assert response.status_code == 404
    assert "We cannot find this invitation" in response.content.decode()
    assert client.post(link(bad)).status_code == 404


def test_invitation_of_another_workspace_does_not_leak_into_this_one(client, workspace, token):
    """A link joins its own workspace only."""
    other = make_workspace(UserFactory(), "Other")
    client.force_login(UserFactory(email="ann@example.com"))
    client.post(link(token))
    assert not Membership.objects.filter(workspace=other, user__email="ann@example.com").exists()


# --- rule 6 from the page: two clicks at the same moment -------------------------------------------


@pytest.mark.skipif(connection.vendor == "sqlite", reason="needs PostgreSQL's row locks and concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_accepts_from_the_page_make_one_membership():
    owner = UserFactory(email="owner@acme.test")
    workspace = make_workspace(owner, "Acme")
    invite_create(actor=owner, workspace=workspace, emails=["ann@example.com"], role=builtin_role(catalog.MEMBER))
    token = LINK.search(mail.outbox[-1].body).group(1)
    ann = UserFactory(email="ann@example.com")
    start = threading.Barrier(2)
    statuses = []

    def click():
        try:
            browser = Client()
            browser.force_login(ann)
            start.wait()
            statuses.append(browser.post(link(token)).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302, 302]
    assert Membership.objects.filter(workspace=workspace, user=ann).count() == 1
    assert AuditEvent.objects.filter(action="invite.accept").count() == 1
