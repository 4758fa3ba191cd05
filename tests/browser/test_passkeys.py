"""Passkeys in a real browser, with Chromium's virtual authenticator (DevTools' WebAuthn domain:
a platform authenticator that keeps discoverable credentials and verifies its user): a person
with two-factor authentication adds a passkey on their two-factor page, uses it as the second
step after the password, then signs in with it alone. The page's CSP stays in force throughout.
Then the two pages at phone width, and the sign-in page without JavaScript."""

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from tests.browser.test_tour import axe_violations
from tests.factories import PASSWORD, UserFactory, make_workspace
from tests.twofactor_factories import code_for, enable_two_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def passkey_site(settings, live_server):
    """The live server as the passkeys' relying party (a host name: browsers refuse an IP)."""
    assert live_server.url.startswith("http://localhost:")
    settings.PASSKEY_RP_ID = "localhost"
    settings.PASSKEY_ORIGIN = live_server.url
    return live_server


def virtual_authenticator(page) -> tuple[object, str]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def watch_console(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def sign_in_with_password(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def enter_code(page, user) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your two-factor code")
    page.get_by_label("Code from your authenticator app, or a backup code").fill(
        code_for(TOTPDevice.objects.get(user=user))
    )
    page.get_by_role("button", name="Continue").click()


def test_add_a_passkey_then_use_it_as_second_step_and_alone(page, passkey_site, screenshot):
    person = UserFactory(email="ada@example.test", full_name="Ada Lovelace")
    workspace = make_workspace(person, "Acme")
    enable_two_factor(person)
    page.set_viewport_size({"width": 1280, "height": 800})
    problems = watch_console(page)
    cdp, authenticator = virtual_authenticator(page)

    # Sign in with the password and a code, then add a passkey from the two-factor page.
    sign_in_with_password(page, person.email)
    enter_code(page, person)
    page.goto("/accounts/two-factor/")
    page.get_by_role("link", name="Add a passkey").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Passkeys")
    page.get_by_label("Name of the passkey").fill("Work laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("status").first).to_contain_text("The passkey “Work laptop” is added.")
    expect(page.get_by_role("cell", name="Work laptop", exact=True)).to_be_visible()
    screenshot(page, "passkeys-added")
    assert axe_violations(page, skip=()) == []
    device = WebAuthnCredential.objects.get(user=person)
    assert device.name == "Work laptop" and device.discoverable
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(stored) == 1 and stored[0]["isResidentCredential"]

    # Signed out, the password then the passkey instead of a code.
    page.get_by_role("button", name="Sign out").click()
    sign_in_with_password(page, person.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your two-factor code")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(re.compile(rf"/w/{workspace.slug}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme")

    # Signed out, the passkey alone.
    page.get_by_role("button", name="Sign out").click()
    page.goto("/accounts/login/")
    screenshot(page, "passkeys-sign-in")
    expect(page.get_by_role("button", name="Use a passkey")).to_be_visible()
    assert axe_violations(page, skip=()) == []
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(re.compile(rf"/w/{workspace.slug}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme")
    device.refresh_from_db()
    assert device.last_used_at is not None and device.sign_count >= 2
    assert problems == []


def test_an_unknown_passkey_is_refused_on_the_page(page, passkey_site):
    person = UserFactory(email="bo@example.test")
    enable_two_factor(person)
    cdp, authenticator = virtual_authenticator(page)
    # A credential this portal never registered, on the authenticator.
    from base64 import b64encode

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cdp.send(
        "WebAuthn.addCredential",
        {
            "authenticatorId": authenticator,
            "credential": {
                "credentialId": b64encode(b"stranger-credential-0001").decode(),
                "isResidentCredential": True,
                "rpId": "localhost",
                "privateKey": b64encode(key).decode(),
                "userHandle": b64encode(b"someone").decode(),
                "signCount": 0,
            },
        },
    )
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.locator("[data-passkey-status]")).to_contain_text("That passkey was not accepted")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_the_passkey_pages_fit_a_phone(page, passkey_site):
    person = UserFactory(email="a-rather-long-address-for-a-phone@example.test")
    enable_two_factor(person)
    page.set_viewport_size({"width": 390, "height": 844})
    virtual_authenticator(page)
    sign_in_with_password(page, person.email)
    enter_code(page, person)
    for path in ("/accounts/two-factor/", "/accounts/two-factor/passkeys/", "/accounts/login/"):
        if path == "/accounts/login/":
            page.get_by_role("button", name="Sign out").click()
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        if path != "/accounts/two-factor/":
            expect(page.locator("[data-passkey]")).to_be_visible()  # shown by the script, then measured
        scroll_width, window_width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
        assert scroll_width <= window_width, f"{path} overflows at 390 px: {scroll_width} > {window_width}"


def test_without_javascript_the_sign_in_page_is_the_password_form(browser, passkey_site):
    context = browser.new_context(base_url=passkey_site.url, java_script_enabled=False)
    try:
        page = context.new_page()
        person = UserFactory(email="nojs@example.test")
        page.goto("/accounts/login/")
        expect(page.get_by_role("button", name="Use a passkey")).to_be_hidden()
        page.get_by_label("E-mail address").fill(person.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    finally:
        context.close()
