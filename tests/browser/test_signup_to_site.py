"""A newcomer's first minutes, in a real browser: sign up, sign in, verify the address from the e-mail,
create a workspace (becoming its Owner) and add a site to it."""

import pytest
from playwright.sync_api import expect

from accounts.models import User
from permissions import catalog
from workspaces.models import Membership, Site

from .conftest import link_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "Ada.Lovelace@Example.test"
PASSWORD = "a long and unusual passphrase"


def sign_up(page):
    page.goto("/")
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status")).to_contain_text("We sent a link to ada.lovelace@example.test")
    # Sign-up signs nobody in (it answers the same when the address is taken): the page it leads
    # to is the sign-in form.
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_sign_up_verify_then_create_workspace_and_site(page, latest_email, screenshot):
    sign_up(page)
    user = User.objects.get(email="ada.lovelace@example.test")
    assert user.email_verified_at is None

    page.goto(link_in(latest_email(to=user.email)))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your e-mail address is verified")
    user.refresh_from_db()
    assert user.email_verified_at is not None

    page.get_by_role("link", name="Continue").click()
    page.get_by_role("link", name="Create a workspace").click()
    page.get_by_label("Name", exact=True).fill("Analytical Engines")
    page.get_by_role("button", name="Create workspace").click()

    page.get_by_role("link", name="Add a site").click()
    page.get_by_label("Name", exact=True).fill("Difference Shop")
    page.get_by_label("Address", exact=True).fill("https://shop.example")
    page.get_by_role("button", name="Add site").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Difference Shop")
    screenshot(page, "accounts-final")

    # The first person of a new workspace is its Owner, and owns the site they added.
    membership = Membership.objects.select_related("role", "workspace").get(user=user)
    assert membership.workspace.name == "Analytical Engines"
    assert membership.role.key == catalog.OWNER
    site = Site.objects.get(workspace=membership.workspace)
    assert (site.name, site.url, site.owner_id) == ("Difference Shop", "https://shop.example", membership.pk)


def test_signed_out_visitor_is_sent_to_sign_in_and_back(page, django_user_model, screenshot):
    """LoginRequiredMiddleware: a private page asks for sign-in, then returns to that page."""
    django_user_model.objects.create_user("grace@example.test", PASSWORD, full_name="Grace Hopper")
    page.goto("/accounts/profile/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.get_by_label("E-mail address").fill("GRACE@example.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your profile")
    expect(page.get_by_label("Full name")).to_have_value("Grace Hopper")
    screenshot(page, "accounts-profile")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
