"""Auto-join by e-mail domain in a real browser: an owner whose own address is at acme.test adds
acme.test (verified at once); a newcomer signs up there, opens the verification link from the
real e-mail, and joins (automatic mode) — or asks to join and is approved by the owner on the team
page (request mode) — and then sees the workspace."""

import pytest
from playwright.sync_api import expect

from accounts.models import User
from permissions import catalog
from permissions.forms import role_choice_label
from permissions.roles import builtin_role
from tests.factories import make_workspace
from workspaces.models import JoinDomain, JoinRequest, Membership

from .conftest import link_in, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEWCOMER = "newt@acme.test"
NEW_PASSWORD = "a long and unusual passphrase"


@pytest.fixture
def workspace(owner):
    return make_workspace(owner, "Acme Rockets")


def add_acme_domain(page, workspace, mode_label: str, screenshot, name: str):
    sign_in(page, "olivia@acme.test", check=False)
    page.goto(f"/w/{workspace.slug}/")
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Settings").click()
    page.get_by_role("main").get_by_role("link", name="Join domains").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Join domains")
    page.get_by_label("Domain", exact=True).fill("ACME.test")
    page.get_by_label("Role").select_option(label=role_choice_label(builtin_role(catalog.MEMBER)))
    page.get_by_role("radio", name=mode_label).check()
    page.get_by_role("button", name="Add domain").click()
    expect(page.get_by_role("status")).to_contain_text("acme.test is verified by your own address")
    row = page.get_by_role("row", name="acme.test")
    expect(row).to_contain_text("Verified")
    expect(row).to_contain_text(mode_label)
    screenshot(page, name)


def sign_up_and_verify(page, latest_email):
    page.goto("/accounts/signup/")
    page.get_by_label("E-mail address").fill(NEWCOMER)
    page.get_by_label("Full name").fill("Newt Scamander")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status")).to_contain_text(f"We sent a link to {NEWCOMER}")
    # Sign-up signs nobody in (it answers the same when the address is taken): sign in.
    page.get_by_label("E-mail address").fill(NEWCOMER)
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/")
    expect(page.get_by_text("You are not in any workspace yet")).to_be_visible()  # unverified: not yet
    page.goto(link_in(latest_email(to=NEWCOMER)))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your e-mail address is verified")


def test_automatic_mode_joins_on_verification(page, browser, live_server, workspace, latest_email, screenshot):
    add_acme_domain(page, workspace, "Join automatically", screenshot, "autojoin-domains-automatic")

    newcomer = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    try:
        sign_up_and_verify(newcomer, latest_email)
        # The verification page names the workspace joined, and leads to it.
        expect(newcomer.get_by_role("main")).to_contain_text("You joined Acme Rockets as Member")
        screenshot(newcomer, "autojoin-verified-joined")
        newcomer.get_by_role("main").get_by_role("link", name="Open Acme Rockets").click()  # the main button
        expect(newcomer.get_by_role("navigation", name="Workspace")).to_contain_text("You are Member")
        newcomer.goto("/")
        link = newcomer.get_by_role("link", name="Acme Rockets")
        expect(link).to_be_visible()
        expect(newcomer.get_by_role("row", name="Acme Rockets")).to_contain_text("Member")
        link.click()
        expect(newcomer.get_by_role("navigation", name="Workspace")).to_contain_text("You are Member")
        screenshot(newcomer, "autojoin-newcomer-joined")
    finally:
        newcomer.context.close()
    user = User.objects.get(email=NEWCOMER)
    assert Membership.objects.get(user=user, workspace=workspace).role.key == catalog.MEMBER


def test_request_mode_waits_for_approval_on_the_team_page(
    page, browser, live_server, workspace, latest_email, screenshot
):
    add_acme_domain(page, workspace, "Request to join", screenshot, "autojoin-domains-request")
    assert JoinDomain.objects.get().mode == "request"

    newcomer = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    try:
        sign_up_and_verify(newcomer, latest_email)
        expect(newcomer.get_by_role("main")).to_contain_text("Your request is awaiting approval")
        screenshot(newcomer, "autojoin-verified-requested")
        newcomer.goto("/")
        expect(newcomer.get_by_text("You are not in any workspace yet")).to_be_visible()
        assert JoinRequest.objects.get().status == "pending"
        # Whoever may answer is told (the owner, here).
        assert "asks to join Acme Rockets" in latest_email(to="olivia@acme.test").subject

        page.goto(f"/w/{workspace.slug}/people/")
        requests = page.get_by_role("region", name="Requests to join")
        expect(requests).to_contain_text(NEWCOMER)
        screenshot(page, "autojoin-team-requests")
        requests.get_by_role("button", name=f"Approve {NEWCOMER}").click()
        expect(page.get_by_role("status")).to_contain_text(f"{NEWCOMER} is now a member of Acme Rockets, as Member")

        assert latest_email(to=NEWCOMER).subject == "You are now a member of Acme Rockets"
        newcomer.goto("/")
        expect(newcomer.get_by_role("link", name="Acme Rockets")).to_be_visible()
        screenshot(newcomer, "autojoin-newcomer-approved")
    finally:
        newcomer.context.close()
    assert JoinRequest.objects.get().status == "approved"
    assert Membership.objects.get(user__email=NEWCOMER, workspace=workspace).role.key == catalog.MEMBER
