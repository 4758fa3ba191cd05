"""The team page's controls in a real browser: an owner changes a member's role with the drop-down,
removes a member, and transfers ownership, stepping down to Admin."""

import pytest
from playwright.sync_api import expect

from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member
from workspaces.models import Membership

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def role_key(membership) -> str:
    return Membership.objects.select_related("role").get(pk=membership.pk).role.key


@pytest.fixture
def team(workspace, owner):
    carl = add_member(workspace, catalog.MEMBER, user=UserFactory(email="carl@acme.test", full_name="Carl Member"))
    dora = add_member(workspace, catalog.VIEWER, user=UserFactory(email="dora@acme.test", full_name="Dora Viewer"))
    return workspace, owner.memberships.get(), carl, dora


def test_owner_changes_a_role_and_removes_a_member(page, team, screenshot):
    workspace, _, carl, dora = team
    sign_in(page, "olivia@acme.test")
    page.goto(f"/w/{workspace.slug}/people/")

    page.get_by_label("Role of Carl Member").select_option(label="Admin")
    page.get_by_role("button", name="Change the role of Carl Member").click()
    expect(page.locator("ul.messages")).to_contain_text("Carl Member is now Admin.")
    expect(page.get_by_label("Role of Carl Member")).to_have_value(str(builtin_role(catalog.ADMIN).pk))
    assert role_key(carl) == catalog.ADMIN

    row = page.get_by_role("row", name="Dora Viewer")
    row.get_by_role("link", name="Remove Dora Viewer").click()
    # The confirmation page says what will happen; nothing has changed yet.
    expect(page.get_by_role("heading", name="Remove Dora Viewer from Acme?")).to_be_visible()
    assert Membership.objects.filter(pk=dora.pk).exists()
    page.get_by_role("button", name="Remove Dora Viewer").click()
    expect(page.locator("ul.messages")).to_contain_text("Dora Viewer is removed from Acme")
    expect(page.get_by_role("row", name="Dora Viewer")).to_have_count(0)
    assert not Membership.objects.filter(pk=dora.pk).exists()
    screenshot(page, "team-role-and-remove")


def test_owner_transfers_ownership_and_steps_down(page, team, screenshot):
    workspace, mine, carl, _ = team
    sign_in(page, "olivia@acme.test")
    page.goto(f"/w/{workspace.slug}/people/")

    page.get_by_label("New owner (e-mail address)").fill("carl@acme.test")
    page.get_by_label("Step down to Admin").check()
    page.get_by_role("button", name="Transfer ownership").click()
    # The new owner's address must be typed before anything changes.
    expect(page.get_by_role("heading", name="Make Carl Member an owner of Acme?")).to_be_visible()
    page.get_by_label("To confirm, type the new owner's address").fill("carl@acme.test")
    page.get_by_role("button", name="Transfer ownership and step down").click()

    status = page.locator("ul.messages")
    expect(status).to_contain_text("Carl Member is now an owner of Acme.")
    expect(status).to_contain_text("You stepped down: you are now Admin.")
    expect(page.get_by_role("navigation", name="Workspace")).to_contain_text("You are Admin")
    members = page.get_by_role("table", name="Members of Acme")
    expect(members.get_by_role("row", name="Olivia Owner")).to_contain_text("Admin")
    expect(members.get_by_role("row", name="Carl Member")).to_contain_text("Owner")
    # An Admin may not touch an owner: Carl's row has no drop-down and no Remove any more.
    expect(page.get_by_label("Role of Carl Member")).to_have_count(0)
    expect(members.get_by_role("row", name="Carl Member").locator("summary")).to_have_count(0)
    expect(page.get_by_role("heading", name="Transfer ownership")).to_have_count(0)
    screenshot(page, "team-transferred")
    assert (role_key(carl), role_key(mine)) == (catalog.OWNER, catalog.ADMIN)
