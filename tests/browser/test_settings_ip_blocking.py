"""Workspace settings in a real browser: an owner opens Settings from the workspace menu, pastes
addresses with a bad line (nothing is blocked, the line is named), corrects it, blocks the ranges,
then switches an integration on; the API serves the blocked networks."""

import pytest
from playwright.sync_api import expect

from permissions.keys import READ_SETTINGS, key_create
from tests.factories import UserFactory, make_workspace
from workspace_settings.models import IntegrationSetting, IPBlockRule

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_blocks_addresses_and_switches_an_integration_on(page, live_server, screenshot):
    owner = UserFactory(email="olivia@acme.test")
    workspace = make_workspace(owner, "Acme")
    sign_in(page, owner.email)

    page.goto(f"/w/{workspace.slug}/")
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Settings")
    screenshot(page, "settings-overview")
    page.get_by_role("link", name="IP blocking").click()

    addresses = page.get_by_label("Addresses and ranges")
    addresses.fill("10.0.0.0/8\n192.0.2.1/24\n2001:db8::/32")
    page.get_by_label("Note").fill("Office")
    page.get_by_role("button", name="Block").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Line 2: “192.0.2.1/24” is a range with host bits set; did you mean 192.0.2.0/24?"
    )
    screenshot(page, "settings-ip-blocking-error")
    assert not IPBlockRule.objects.exists()

    addresses.fill("10.0.0.0/8\n192.0.2.0/24\n2001:db8::/32")
    page.get_by_role("button", name="Block").click()
    expect(page.get_by_role("status")).to_contain_text("are no longer tracked")
    expect(page.get_by_role("table")).to_contain_text("192.0.2.0/24")
    screenshot(page, "settings-ip-blocking")

    page.get_by_role("button", name="Stop blocking 192.0.2.0/24").click()
    expect(page.get_by_role("heading", name="Stop blocking 192.0.2.0/24?")).to_be_visible()
    page.get_by_role("button", name="Track 192.0.2.0/24 again").click()
    expect(page.get_by_role("status")).to_contain_text("Visits from 192.0.2.0/24 are tracked again.")

    page.get_by_role("link", name="← Settings").click()
    page.get_by_role("link", name="Integrations").click()
    page.get_by_role("link", name="Set up Google Analytics").click()
    page.get_by_label("Switched on").check()
    page.get_by_label("Measurement ID").fill("G-ABC123XYZ9")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Google Analytics is on")
    screenshot(page, "settings-integrations")
    assert IntegrationSetting.objects.get(key="google_analytics").settings == {"measurement_id": "G-ABC123XYZ9"}

    _key, raw = key_create(actor=None, workspace=workspace, name="Tracker", scopes=[READ_SETTINGS])
    response = page.request.get(
        f"{live_server.url}/api/v1/settings/ip-blocklist", headers={"Authorization": f"Bearer {raw}"}
    )
    assert response.status == 200
    assert response.json() == {"networks": ["10.0.0.0/8", "2001:db8::/32"]}
