"""The role editor in a real browser: start from a built-in role, tick a whole area with its "All of"
box (the static script ticks its capabilities; the server would anyway), save, and find the role in
the list with its holder count; then "My access" answers why a capability is not held."""

import pytest
from playwright.sync_api import expect

from permissions import catalog
from permissions.models import Role
from permissions.roles import builtin_role, role_codes
from tests.factories import UserFactory, make_workspace

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_start_from_a_role_tick_an_area_and_save(page, screenshot):
    owner = UserFactory(email="olivia@acme.test", full_name="Olivia Owner")
    workspace = make_workspace(owner, "Acme")
    sign_in(page, "olivia@acme.test")
    page.goto(f"/w/{workspace.slug}/roles/")
    expect(page.get_by_role("link", name="Compare capabilities of every role")).to_be_visible()
    page.get_by_role("link", name="Copy Viewer into a new role").click()
    expect(page.get_by_text("Started from Viewer")).to_be_visible()
    expect(page.get_by_label("See all analytics")).to_be_checked()
    whole = page.get_by_label("All of Billing")
    billing = page.get_by_label("Manage the plan, billing and invoices")
    expect(billing).not_to_be_checked()
    whole.check()
    expect(billing).to_be_checked()  # the script ticked the area
    billing.uncheck()
    expect(whole).not_to_be_checked()  # and keeps the area box in step
    whole.check()
    page.get_by_label("Name").fill("Paying viewer")
    screenshot(page, "role-editor")
    page.get_by_role("button", name="Save the role").click()
    expect(page.get_by_text("The role “Paying viewer” is saved")).to_be_visible()
    role = Role.objects.get(workspace=workspace, name="Paying viewer")
    caps, site_caps = role_codes(role)
    assert "manage_billing" in caps and "view_all_analytics" in caps
    assert site_caps == role_codes(builtin_role(catalog.VIEWER))[1]
    expect(page.get_by_role("row", name="Paying viewer")).to_contain_text("0 members")
    screenshot(page, "roles-list")
    page.goto(f"/w/{workspace.slug}/explain/me/?capability=delete_site")
    expect(page.get_by_role("heading", name="My access")).to_be_visible()
    expect(page.get_by_text("is a site capability")).to_be_visible()
    page.goto(f"/w/{workspace.slug}/explain/me/")
    expect(page.get_by_role("heading", name="You in the workspace")).to_be_visible()
    screenshot(page, "my-access")
