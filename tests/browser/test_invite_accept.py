"""Invitations in a real browser: an owner invites two people from the team page, one of them signs
up through the link in the real e-mail and lands in the workspace with the invited role and site
grant; someone signed in as another account is refused by name."""

import pytest
from playwright.sync_api import expect

from accounts.models import User
from permissions import catalog
from permissions.forms import role_choice_label
from permissions.roles import builtin_role
from tests.factories import UserFactory, make_site
from workspaces.models import Invite, Membership, SiteGrant

from .conftest import link_in, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a long and unusual passphrase"


def sign_out(page) -> None:
    page.get_by_role("navigation", name="Account").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


@pytest.fixture
def workspace(workspace):
    """Acme with two sites."""
    make_site(workspace, "Shop")
    make_site(workspace, "Blog")
    return workspace


def test_owner_invites_two_and_one_signs_up_from_the_email(page, workspace, latest_email, screenshot):
    sign_in(page, "olivia@acme.test")
    page.goto(f"/w/{workspace.slug}/")
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("People")

    page.get_by_label("E-mail addresses").fill("ann@example.test,\nbob@example.test")
    page.get_by_label("Workspace role", exact=True).select_option(label=role_choice_label(builtin_role(catalog.MEMBER)))
    page.get_by_label("Site 1", exact=True).select_option(label="Shop")
    page.get_by_label("Site role 1", exact=True).select_option(
        label=role_choice_label(builtin_role(catalog.EDITOR, catalog.SITE))
    )
    page.get_by_role("button", name="Send invitations").click()
    expect(page.get_by_role("status")).to_contain_text("Invited as Member: ann@example.test, bob@example.test.")
    pending = page.get_by_role("table", name="Invitations not yet accepted")
    expect(pending).to_contain_text("ann@example.test")
    expect(pending).to_contain_text("bob@example.test")
    screenshot(page, "team-invited")
    sign_out(page)

    # Ann opens the link from the real e-mail: the page names the workspace, the inviter and the role.
    page.goto(link_in(latest_email(to="ann@example.test")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Join Acme")
    expect(page.get_by_role("main")).to_contain_text("Olivia Owner (olivia@acme.test) invited you")
    expect(page.get_by_label("E-mail address")).to_have_value("ann@example.test")
    expect(page.get_by_label("E-mail address")).to_be_disabled()
    assert not Membership.objects.filter(user__email="ann@example.test").exists()  # opening changed nothing
    page.get_by_label("Full name").fill("Ann Example")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD)
    screenshot(page, "invite-signup")
    page.get_by_role("button", name="Create account and join").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Acme")
    expect(page.get_by_role("status")).to_contain_text(
        "Welcome to Acme! Your account is ready and you joined as Member."
    )
    sites = page.get_by_role("table", name="Sites you can see")
    expect(sites.get_by_role("link", name="Shop")).to_be_visible()  # through the invited site grant
    expect(sites.get_by_role("link", name="Blog")).to_have_count(0)
    expect(page.get_by_role("navigation", name="Workspace")).to_contain_text("You are Member")
    screenshot(page, "invite-joined")

    ann = User.objects.get(email="ann@example.test")
    assert ann.email_verified_at is not None
    membership = Membership.objects.select_related("role").get(user=ann, workspace=workspace)
    assert membership.role.key == catalog.MEMBER
    assert SiteGrant.objects.get(membership=membership).role.key == catalog.EDITOR
    assert Invite.objects.get(email="ann@example.test").status == Invite.Status.ACCEPTED
    assert Invite.objects.get(email="bob@example.test").status == Invite.Status.PENDING


def test_signed_in_as_someone_else_is_refused_by_name(page, workspace, latest_email, screenshot):
    UserFactory(email="bob@example.test", full_name="Bob Brown")
    sign_in(page, "olivia@acme.test")
    page.goto(f"/w/{workspace.slug}/people/")
    page.get_by_label("E-mail addresses").fill("ann@example.test")
    # No role is chosen for the inviter (the search form above has a role select too).
    page.locator("form.invite-form select[name=role]").select_option(
        label=role_choice_label(builtin_role(catalog.MEMBER))
    )
    page.get_by_role("button", name="Send invitations").click()
    expect(page.get_by_role("status")).to_contain_text("Invited as Member: ann@example.test.")
    sign_out(page)

    sign_in(page, "bob@example.test")
    page.goto(link_in(latest_email(to="ann@example.test")))
    main = page.get_by_role("main")
    expect(main.get_by_role("alert")).to_have_text(
        "You are signed in as Bob Brown (bob@example.test), but this invitation is for ann@example.test."
    )
    expect(main.get_by_role("button", name="Join Acme")).to_have_count(0)
    screenshot(page, "invite-wrong-account")

    main.get_by_role("button", name="Sign out").click()  # and back to the invitation, signed out
    expect(page.get_by_role("heading", level=1)).to_have_text("Join Acme")
    expect(page.get_by_role("button", name="Create account and join")).to_be_visible()
    assert not Membership.objects.filter(workspace=workspace, user__email="bob@example.test").exists()
    assert Invite.objects.get().status == Invite.Status.PENDING
