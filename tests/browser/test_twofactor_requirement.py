"""Two-factor authentication in a real browser: an owner sets it up from the profile (reading the
key the page shows for typing into an app, as a person without a camera would), turns the
workspace's requirement on, and signs out; a member then signs in, is led through set-up the same
way, and reaches the workspace. Codes are computed here from the key on the page."""

import re

import pytest
from playwright.sync_api import expect

from permissions import catalog
from tests.factories import UserFactory, add_member, make_workspace
from tests.twofactor_factories import app_code, code_for, enable_two_factor, key_from_manual_entry
from twofactor.models import WorkspaceSecurity

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def set_up_with_typed_key(page) -> None:
    """On the set-up page: read the key for manual entry, enter the app's code, keep the codes."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor authentication")
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    key = key_from_manual_entry(page.get_by_label("Key for manual entry").inner_text())
    page.get_by_label("Code from your authenticator app").fill(app_code(key))
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Save your backup codes")
    expect(page.get_by_role("status")).to_contain_text("Two-factor authentication is on.")
    expect(page.get_by_role("list", name="Backup codes").get_by_role("listitem")).to_have_count(10)
    page.get_by_role("link", name="I have saved them, continue").click()


def test_owner_requires_two_factor_and_a_member_is_led_through_set_up(page, screenshot):
    owner = UserFactory(email="olivia@acme.test")
    workspace = make_workspace(owner, "Acme")
    member = add_member(workspace, catalog.MEMBER, user=UserFactory(email="mo@acme.test")).user

    # The owner cannot require what they do not have yet: the page says so and links to set-up.
    sign_in(page, owner.email, check=False)
    page.goto(f"/w/{workspace.slug}/")
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Settings").click()
    page.get_by_role("main").get_by_role("link", name="Two-factor authentication").click()
    page.get_by_label("Require two-factor authentication of every member").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Set up two-factor authentication for yourself first")
    assert not WorkspaceSecurity.objects.filter(two_factor_required=True).exists()

    # Set up from the profile.
    page.get_by_role("navigation", name="Account").get_by_role("link", name=owner.display_name).click()
    page.get_by_role("link", name="Manage two-factor authentication").click()
    page.get_by_role("link", name="Set up two-factor authentication").click()
    screenshot(page, "twofactor-setup")
    set_up_with_typed_key(page)
    expect(page.get_by_text("You have 10 unused backup codes.")).to_be_visible()

    # Now the requirement can be turned on, from the overview's link.
    page.get_by_role("link", name="Change the requirement of Acme").click()
    page.get_by_label("Require two-factor authentication of every member").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Acme now requires two-factor authentication")
    screenshot(page, "twofactor-requirement")
    page.goto(f"/w/{workspace.slug}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme")  # not locked out
    page.get_by_role("button", name="Sign out").click()

    # The member signs in and is led to set-up before the workspace.
    sign_in(page, member.email, check=False)
    page.goto(f"/w/{workspace.slug}/")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/setup/\?next="))
    expect(page.get_by_role("status")).to_contain_text("Acme requires two-factor authentication. Set it up")
    screenshot(page, "twofactor-member-led-to-setup")
    set_up_with_typed_key(page)
    expect(page).to_have_url(re.compile(rf"/w/{workspace.slug}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme")
    screenshot(page, "twofactor-member-in")


def test_signing_in_asks_for_the_code_after_the_password(page):
    person = UserFactory(email="grace@acme.test")
    workspace = make_workspace(person, "Acme")
    device, _codes = enable_two_factor(person)

    sign_in(page, person.email, check=False)
    page.goto(f"/w/{workspace.slug}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your two-factor code")
    # A wrong backup code: the app's codes are not throttled by it (a person would wait a second).
    page.get_by_label("Code from your authenticator app, or a backup code").fill("wrongcod")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")

    page.get_by_label("Code from your authenticator app, or a backup code").fill(code_for(device))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(rf"/w/{workspace.slug}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme")
