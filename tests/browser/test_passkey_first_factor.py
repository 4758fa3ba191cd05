"""A passkey as the first and only second factor, in a real browser with Chromium's virtual
authenticator: a new member of a workspace that requires two-factor authentication, with no
authenticator app, makes a passkey on the set-up page the workspace leads them to, saves the
backup codes, reaches the workspace, signs out, and signs in again with the passkey alone. At
desktop and phone width."""

import re

import pytest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from permissions import catalog
from tests.browser.test_passkeys import passkey_site, sign_in_with_password, virtual_authenticator, watch_console
from tests.browser.test_tour import axe_violations
from tests.factories import UserFactory, add_member, make_workspace
from tests.twofactor_factories import make_two_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

__all__ = ["passkey_site"]  # the fixture, used by name below

WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}


def fits(page) -> None:
    scroll_width, window_width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert scroll_width <= window_width, f"{page.url} overflows: {scroll_width} > {window_width}"


@pytest.mark.parametrize("width", list(WIDTHS))
def test_a_new_member_sets_up_a_passkey_only_and_signs_in_with_it_alone(page, passkey_site, screenshot, width):
    owner = UserFactory(email="owner@acme.test")
    workspace = make_workspace(owner, "Acme")
    make_two_factor(workspace, owner)
    member = add_member(workspace, catalog.MEMBER, user=UserFactory(email="new@acme.test")).user
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    problems = watch_console(page)
    cdp, authenticator = virtual_authenticator(page)

    # Signed in with the password, the workspace leads to set-up, which offers a passkey.
    sign_in_with_password(page, member.email)
    page.goto(f"/w/{workspace.slug}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor authentication")
    expect(page.get_by_text("Acme requires two-factor authentication. Set it up to continue.")).to_be_visible()
    expect(page.get_by_role("heading", name="Use a passkey")).to_be_visible()
    fits(page)
    screenshot(page, f"passkey-first-setup-{width}")
    assert axe_violations(page, skip=()) == []
    page.get_by_label("Name of the passkey").fill("This laptop")
    page.get_by_role("button", name="Add a passkey").click()

    # The backup codes, once; then on to the workspace.
    expect(page.get_by_role("heading", level=1)).to_have_text("Save your backup codes")
    codes = StaticToken.objects.filter(device__user=member).values_list("token", flat=True)
    assert len(codes) == 10
    expect(page.get_by_role("list", name="Backup codes")).to_contain_text(codes[0])
    fits(page)
    page.get_by_role("link", name="I have saved them, continue").click()
    expect(page).to_have_url(re.compile(rf"/w/{workspace.slug}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme")
    device = WebAuthnCredential.objects.get(user=member)
    assert device.name == "This laptop" and device.discoverable
    assert not TOTPDevice.objects.filter(user=member, confirmed=True).exists()  # no app
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(stored) == 1 and stored[0]["isResidentCredential"]

    # Signed out, the passkey alone reaches the workspace: no code is asked.
    page.get_by_role("button", name="Sign out").click()
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(re.compile(rf"/w/{workspace.slug}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme")
    fits(page)
    assert problems == []
