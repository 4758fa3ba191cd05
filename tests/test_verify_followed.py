"""The verification page says what verifying the address led to: the workspace joined through its
verified domain (with a link to it), or the join request sent and awaiting approval."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from accounts.services import email_verify_and_follow
from accounts.signals import Followed
from accounts.tokens import make_verification_token
from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import UserFactory, make_workspace
from workspaces.joining.services import join_domain_add
from workspaces.models import JoinDomain, JoinRequest, Membership

pytestmark = pytest.mark.django_db


def acme_domain(owner, workspace, mode=JoinDomain.Mode.AUTOMATIC) -> JoinDomain:
    # The owner's verified address is at acme.test, so the domain is verified at once.
    return join_domain_add(
        actor=owner, workspace=workspace, domain="acme.test", role=builtin_role(catalog.VIEWER), mode=mode
    )


def open_link(client, user):
    return client.get(reverse("accounts:verify", args=[make_verification_token(user)]))


def test_page_names_the_workspace_joined_with_a_link(client, owner, workspace, django_capture_on_commit_callbacks):
    acme_domain(owner, workspace)
    ann = UserFactory(email="ann@acme.test", email_verified_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        response = open_link(client, ann)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Your e-mail address is verified" in html
    assert "You joined Acme as Viewer: your address is at a domain it admits." in html
    # Signed out: the sign-in button leads to the workspace afterwards.
    assert escape(f"{reverse('accounts:login')}?next={workspace.get_absolute_url()}") in html
    assert Membership.objects.get(user=ann, workspace=workspace).role.key == catalog.VIEWER


def test_signed_in_page_leads_to_the_workspace_joined(client, owner, workspace):
    acme_domain(owner, workspace)
    ann = UserFactory(email="ann@acme.test", email_verified_at=None)
    client.force_login(ann)
    html = open_link(client, ann).content.decode()
    assert "You joined Acme as Viewer" in html
    assert f'<a class="button" href="{workspace.get_absolute_url()}">Open Acme</a>' in html
    assert ">Continue</a>" not in html


def test_page_says_a_request_is_awaiting_approval(client, owner, workspace, django_capture_on_commit_callbacks):
    acme_domain(owner, workspace, mode=JoinDomain.Mode.REQUEST)
    ann = UserFactory(email="ann@acme.test", email_verified_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        html = open_link(client, ann).content.decode()
    assert "You asked to join Acme" in html
    assert "Your request is awaiting approval by its administrators. We will e-mail you the answer." in html
    assert workspace.get_absolute_url() not in html  # not a member: no link that would be a 404
    assert not Membership.objects.filter(user=ann).exists()
    assert JoinRequest.objects.get(user=ann).status == JoinRequest.Status.PENDING


def test_request_message_promises_no_mail_to_someone_who_turned_it_off(client, owner, workspace):
    acme_domain(owner, workspace, mode=JoinDomain.Mode.REQUEST)
    ann = UserFactory(email="ann@acme.test", email_verified_at=None, notify_workspace_changes=False)
    html = open_link(client, ann).content.decode()
    assert "Your request is awaiting approval by its administrators." in html
    assert "We will e-mail you" not in html


def test_address_at_no_join_domain_says_only_that_it_is_verified(client, owner, workspace):
    acme_domain(owner, workspace)
    bob = UserFactory(email="bob@elsewhere.test", email_verified_at=None)
    html = open_link(client, bob).content.decode()
    assert "bob@elsewhere.test is confirmed" in html
    assert "You joined" not in html and "You asked to join" not in html
    assert not Membership.objects.filter(user=bob).exists()


def test_link_used_twice_joins_and_tells_once(client, owner, workspace):
    acme_domain(owner, workspace)
    ann = UserFactory(email="ann@acme.test", email_verified_at=None)
    open_link(client, ann)
    html = open_link(client, ann).content.decode()
    assert "Already verified" in html
    assert "You joined" not in html
    assert Membership.objects.filter(user=ann).count() == 1


def test_service_returns_what_followed(owner, workspace):
    acme_domain(owner, workspace)
    other = make_workspace(UserFactory(email="carol@other.test"), "Other")
    ann = UserFactory(email="ann@acme.test", email_verified_at=None)
    verification = email_verify_and_follow(ann)
    assert verification.verified_now
    assert verification.followed == (
        Followed(
            message="You joined Acme as Viewer: your address is at a domain it admits.",
            link_url=workspace.get_absolute_url(),
            link_text="Open Acme",
        ),
    )
    assert not Membership.objects.filter(user=ann, workspace=other).exists()
    assert email_verify_and_follow(ann).followed == ()


def test_workspace_name_is_escaped_on_the_page(client, owner, workspace):
    workspace.name = "<script>alert(1)</script>"
    workspace.save(update_fields=["name"])
    acme_domain(owner, workspace)
    ann = UserFactory(email="ann@acme.test", email_verified_at=None)
    html = open_link(client, ann).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "You joined &lt;script&gt;" in html
