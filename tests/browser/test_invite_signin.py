"""Sign in to accept, in a real browser: someone who already has an account opens the invitation
from the real e-mail, signs in from it, comes back to the invitation and joins; the inviter is
mailed that the invitation was accepted. An invitation for an address without an account offers
both ways in."""

import pytest
from django.core import mail
from playwright.sync_api import expect

from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import PASSWORD, UserFactory
from workspaces.invites.services import invite_create
from workspaces.models import Invite, Membership

from .conftest import link_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def invite(owner, workspace, email: str) -> None:
    # A transactional test commits for real: the invitation e-mail is sent after the commit.
    invite_create(actor=owner, workspace=workspace, emails=[email], role=builtin_role(catalog.MEMBER))


def test_account_holder_signs_in_from_the_invitation_and_joins(page, owner, workspace, latest_email, screenshot):
    ann = UserFactory(email="ann@example.test", full_name="Ann Example")
    invite(owner, workspace, ann.email)
    page.goto(link_in(latest_email(to=ann.email)))
    expect(page.get_by_role("heading", level=1)).to_have_text("Join Acme")
    main = page.get_by_role("main")
    expect(main).to_contain_text("ann@example.test already has an account")
    screenshot(page, "invite-sign-in-offered")

    main.get_by_role("link", name="Sign in to accept").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_role("main")).to_contain_text("Sign in to accept your invitation")
    page.get_by_label("E-mail address").fill("ann@example.test")
    page.get_by_label("Password").fill(PASSWORD)
    screenshot(page, "invite-sign-in")
    page.get_by_role("button", name="Sign in").click()

    # Back on the invitation, signed in: one click joins.
    expect(page.get_by_role("heading", level=1)).to_have_text("Join Acme")
    assert "/invites/" in page.url
    assert not Membership.objects.filter(user=ann).exists()
    page.get_by_role("button", name="Join Acme").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme")
    expect(page.get_by_role("status")).to_contain_text("Welcome to Acme! You joined as Member.")
    screenshot(page, "invite-sign-in-joined")

    assert Membership.objects.get(user=ann, workspace=workspace).role.key == catalog.MEMBER
    assert Invite.objects.get().status == Invite.Status.ACCEPTED
    told = latest_email(to=owner.email)
    assert told.subject == "Ann Example (ann@example.test) joined Acme"


def test_invitation_without_an_account_offers_sign_up_and_sign_in(page, owner, workspace, latest_email, screenshot):
    invite(owner, workspace, "new@example.test")
    page.goto(link_in(latest_email(to="new@example.test")))
    main = page.get_by_role("main")
    expect(main.get_by_role("button", name="Create account and join")).to_be_visible()
    screenshot(page, "invite-both-ways-in")
    main.get_by_role("link", name="Sign in to accept").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    # "New here?" goes back to the invitation, whose sign-up form keeps it.
    page.get_by_role("main").get_by_role("link", name="Create your account from the invitation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Join Acme")
    expect(page.get_by_label("E-mail address")).to_have_value("new@example.test")
    assert len(mail.outbox) == 1  # only the invitation: opening pages mails nobody


def test_the_top_bars_sign_in_also_comes_back_to_the_invitation(page, owner, workspace, latest_email):
    ann = UserFactory(email="ann@example.test", full_name="Ann Example")
    invite(owner, workspace, ann.email)
    page.goto(link_in(latest_email(to=ann.email)))
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("main")).to_contain_text("Sign in to accept your invitation")
    page.get_by_label("E-mail address").fill("ann@example.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Join Acme")
    assert "/invites/" in page.url
