"""Joining by e-mail domain, end to end through the pages: sign up at a verified domain, open the
verification link from the real e-mail, and join (automatic) or ask to join (request mode) — then
an administrator approves or declines. A pending invitation wins; an unverified address never joins."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import email_verify
from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_workspace
from workspaces.invites.services import invite_create
from workspaces.joining.services import auto_join, join_domain_add, join_domain_remove
from workspaces.models import Invite, JoinDomain, JoinRequest, Membership

pytestmark = pytest.mark.django_db
PASSWORD = "a long and unusual passphrase"


@pytest.fixture
def owner(db):
    return UserFactory(email="olivia@acme.test")


@pytest.fixture
def workspace(owner):
    return make_workspace(owner, "Acme")


def acme_domain(owner, workspace, **kwargs) -> JoinDomain:
    kwargs.setdefault("role", builtin_role(catalog.VIEWER))
    return join_domain_add(actor=owner, workspace=workspace, domain="acme.test", **kwargs)


@pytest.fixture
def sign_up_and_verify(client, django_capture_on_commit_callbacks, mailoutbox):
    """Sign up through the page, then open the link of the verification e-mail."""

    def run(email: str, *, verify: bool = True) -> User:
        client.logout()  # sign-up is for visitors
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("accounts:signup"),
                {"email": email, "full_name": "Newt", "password": PASSWORD, "password_again": PASSWORD},
            )
        assert response.status_code == 302
        user = User.objects.get(email__iexact=email.strip())
        assert user.email_verified_at is None
        assert not Membership.objects.filter(user=user).exists()  # an unverified address never joins
        if verify:
            (url,) = re.findall(r"https?://\S+", mailoutbox[-1].body)
            page = client.get(url.removeprefix(settings.PORTAL_BASE_URL))
            assert page.status_code == 200
            user.refresh_from_db()
            assert user.email_verified_at is not None
        # Sign-up signs nobody in (it answers the same for a taken address): sign in now.
        assert client.post(reverse("accounts:login"), {"username": email, "password": PASSWORD}).status_code == 302
        return user

    return run


def membership_of(user, workspace):
    return Membership.objects.select_related("role").filter(user=user, workspace=workspace).first()


# --- automatic ---------------------------------------------------------------------------------


def test_verifying_an_address_at_the_domain_joins_with_its_role(owner, workspace, sign_up_and_verify):
    acme_domain(owner, workspace)
    user = sign_up_and_verify("  Newt@ACME.test ")
    membership = membership_of(user, workspace)
    assert membership.role.key == catalog.VIEWER
    (event,) = AuditEvent.objects.filter(action="member.auto_join")
    assert (event.actor, event.workspace_id, event.after) == (
        user,
        workspace.pk,
        {"user": user.email, "role": "Viewer"},
    )
    assert not JoinRequest.objects.exists()


def test_the_new_member_holds_the_roles_capabilities(owner, workspace, sign_up_and_verify, client):
    acme_domain(owner, workspace, role=builtin_role(catalog.MEMBER))
    sign_up_and_verify("newt@acme.test")
    assert client.get(reverse("workspaces:detail", args=[workspace.slug])).status_code == 200


def test_unverified_address_does_not_join(owner, workspace, sign_up_and_verify):
    acme_domain(owner, workspace)
    user = sign_up_and_verify("newt@acme.test", verify=False)
    assert auto_join(user) is None
    assert not Membership.objects.filter(user=user).exists()


def test_a_link_used_twice_joins_once(owner, workspace, sign_up_and_verify):
    acme_domain(owner, workspace)
    user = sign_up_and_verify("newt@acme.test")
    assert email_verify(user) is False
    assert auto_join(user) is None  # already a member
    assert AuditEvent.objects.filter(action="member.auto_join").count() == 1


@pytest.mark.parametrize("email", ["newt@evil-acme.test", "newt@acme.test.evil.test", "newt@eu.acme.test"])
def test_other_domains_do_not_join(owner, workspace, sign_up_and_verify, email):
    acme_domain(owner, workspace)
    user = sign_up_and_verify(email)
    assert not Membership.objects.filter(user=user).exists()


def test_subdomain_joins_when_the_domain_includes_them(owner, workspace, sign_up_and_verify):
    acme_domain(owner, workspace, include_subdomains=True)
    user = sign_up_and_verify("newt@eu.acme.test")
    assert membership_of(user, workspace).role.key == catalog.VIEWER


def test_unverified_suspended_or_removed_domains_do_not_join(owner, workspace, sign_up_and_verify):
    found = acme_domain(owner, workspace)
    JoinDomain.objects.filter(pk=found.pk).update(suspended_at=timezone.now())
    assert not Membership.objects.filter(user=sign_up_and_verify("one@acme.test")).exists()
    JoinDomain.objects.filter(pk=found.pk).update(suspended_at=None, verified_at=None)
    assert not Membership.objects.filter(user=sign_up_and_verify("two@acme.test")).exists()
    join_domain_remove(actor=owner, domain=found)
    assert not Membership.objects.filter(user=sign_up_and_verify("three@acme.test")).exists()


def test_an_inactive_account_does_not_join(owner, workspace):
    acme_domain(owner, workspace)
    user = UserFactory(email="gone@acme.test", is_active=False)
    assert auto_join(user) is None


# --- a pending invitation wins ---------------------------------------------------------------------


def test_a_pending_invite_wins_over_the_domain(owner, workspace, sign_up_and_verify):
    acme_domain(owner, workspace)
    invite_create(actor=owner, workspace=workspace, emails=["Newt@acme.test"], role=builtin_role(catalog.MEMBER))
    user = sign_up_and_verify("newt@acme.test")
    assert not Membership.objects.filter(user=user).exists()
    assert not JoinRequest.objects.exists()
    assert not AuditEvent.objects.filter(action__in=["member.auto_join", "join_request.create"]).exists()


def test_an_expired_invite_or_one_to_another_workspace_does_not_block(owner, workspace, sign_up_and_verify):
    acme_domain(owner, workspace)
    invite_create(actor=owner, workspace=workspace, emails=["one@acme.test"], role=builtin_role(catalog.MEMBER))
    Invite.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    other_owner = UserFactory(email="boss@other.test")
    other = make_workspace(other_owner, "Other")
    invite_create(actor=other_owner, workspace=other, emails=["two@acme.test"], role=builtin_role(catalog.MEMBER))
    assert membership_of(sign_up_and_verify("one@acme.test"), workspace) is not None
    two = sign_up_and_verify("two@acme.test")
    assert membership_of(two, workspace) is not None and membership_of(two, other) is None


# --- request mode ------------------------------------------------------------------------------------


@pytest.fixture
def requested(owner, workspace, sign_up_and_verify):
    acme_domain(owner, workspace, mode=JoinDomain.Mode.REQUEST)
    user = sign_up_and_verify("newt@acme.test")
    return JoinRequest.objects.get(user=user)


def decide(client, actor, join_request, decision: str, **data):
    """The decision, confirmed (declining asks first: tests/test_confirmations.py)."""
    client.force_login(actor)
    url = reverse(f"join_requests:{decision}", args=[join_request.workspace.slug, join_request.pk])
    return client.post(url, {"confirm": "yes", **data})


def test_request_mode_files_one_request_and_no_membership(requested, workspace):
    assert requested.status == JoinRequest.Status.PENDING and requested.workspace == workspace
    assert membership_of(requested.user, workspace) is None
    (event,) = AuditEvent.objects.filter(action="join_request.create")
    assert event.actor == requested.user and event.after["domain"] == "acme.test"
    assert auto_join(requested.user) == requested  # asked again: still one request
    assert JoinRequest.objects.count() == 1 and AuditEvent.objects.filter(action="join_request.create").count() == 1


def test_an_admin_approves_and_the_person_becomes_a_member(client, requested, workspace):
    admin = add_member(workspace, catalog.ADMIN).user
    events = AuditEvent.objects.count()
    response = decide(client, admin, requested, "approve")
    assert response.status_code == 302
    assert response["Location"] == reverse("join_requests:index", args=[workspace.slug])
    assert membership_of(requested.user, workspace).role.key == catalog.VIEWER
    requested.refresh_from_db()
    assert (requested.status, requested.decided_by) == ("approved", admin)
    assert AuditEvent.objects.count() == events + 1
    event = AuditEvent.objects.get(action="join_request.approve")
    assert event.actor == admin and event.after == {"user": "newt@acme.test", "role": "Viewer"}
    again = decide(client, admin, requested, "approve")
    assert "already approved" in " ".join(m.message for m in again.wsgi_request._messages)
    assert AuditEvent.objects.count() == events + 1


def test_approval_uses_member_when_the_domain_was_removed(client, owner, requested, workspace):
    join_domain_remove(actor=owner, domain=requested.domain)
    decide(client, owner, requested, "approve")
    assert membership_of(requested.user, workspace).role.key == catalog.MEMBER


def test_decline_records_once_and_admits_nobody(client, owner, requested, workspace):
    events = AuditEvent.objects.count()
    decide(client, owner, requested, "decline")
    requested.refresh_from_db()
    assert (requested.status, requested.decided_by) == ("declined", owner)
    assert membership_of(requested.user, workspace) is None
    event = AuditEvent.objects.get(action="join_request.decline")
    assert event.after == {"user": "newt@acme.test", "status": "declined"}
    decide(client, owner, requested, "approve")
    assert membership_of(requested.user, workspace) is None
    assert AuditEvent.objects.count() == events + 1


def test_the_decision_returns_to_a_safe_next_page(client, owner, requested, workspace):
    team = f"/w/{workspace.slug}/people/"
    assert decide(client, owner, requested, "decline", next=team)["Location"] == team
    other = JoinRequest.objects.create(workspace=workspace, user=UserFactory(), domain=requested.domain)
    response = decide(client, owner, other, "decline", next="https://evil.example/")
    assert response["Location"] == reverse("join_requests:index", args=[workspace.slug])


@pytest.mark.parametrize("role_key", [catalog.MEMBER, catalog.VIEWER, catalog.BILLING_ADMIN])
@pytest.mark.parametrize("decision", ["approve", "decline"])
def test_deciding_needs_invite_members(client, requested, workspace, role_key, decision):
    person = add_member(workspace, role_key).user
    assert decide(client, person, requested, decision).status_code == 403
    requested.refresh_from_db()
    assert requested.status == "pending" and membership_of(requested.user, workspace) is None


@pytest.mark.parametrize("decision", ["approve", "decline"])
def test_outsiders_and_other_workspaces_get_404(client, requested, decision):
    outsider = UserFactory()
    assert decide(client, outsider, requested, decision).status_code == 404
    other_owner = UserFactory()
    other = make_workspace(other_owner, "Other")
    client.force_login(other_owner)
    url = reverse(f"join_requests:{decision}", args=[other.slug, requested.pk])
    assert client.post(url).status_code == 404
    requested.refresh_from_db()
    assert requested.status == "pending"


def test_deciding_is_post_only(client, owner, requested, workspace):
    client.force_login(owner)
    url = reverse("join_requests:approve", args=[workspace.slug, requested.pk])
    assert client.get(url).status_code == 405
    requested.refresh_from_db()
    assert requested.status == "pending"
