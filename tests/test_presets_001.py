"""Seed 001 (account and data-source roles): the preset reproduces the seed, checked through the API.

Account roles are workspace roles; data-source roles are site roles granted per site. docs/RULES.md 3
(001): only the Owner may add sites, tag_comments may be added as an extra capability to any grant,
and every site has its owner (who gains no capability by it).
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from permissions import catalog
from tests.factories import make_site
from tests.presets.support import Cell, CheckApi, email_for, grant, member, preset_roles, wrong_cells
from workspaces.models import Membership
from workspaces.sites.services import site_create, site_owner_set

PRESET = "seed-001-account-data-source"
ACCOUNT_COLUMNS = ("Account owner", "Account admin", "Account user", "Account viewer")
SOURCE_COLUMNS = ("Advanced user", "Standard user", "Viewer")
VIEW = sorted(catalog.SITE_VIEW_CAPABILITIES)

# "Permissions for the different account roles", one entry per permission the seed names:
# (seed words, codenames, which of ACCOUNT_COLUMNS have it).
ACCOUNT_ROWS = [
    ("Edit account settings", ["change_workspace"], "O---"),
    ("adding policies / Add and edit policies", ["manage_policies"], "OA--"),
    ("adding users / Add and edit users", ["invite_members", "change_member_roles", "remove_members"], "OA--"),
    (
        "roles and permissions can be edited by the account owner or an account admin",
        ["change_member_roles", "manage_roles", "manage_site_access"],
        "OA--",
    ),
    ("add new data source", ["add_site"], "O---"),
    ("add and edit automatic reports", ["manage_scheduled_reports"], "OAU-"),
    ("Access the account", ["view_workspace"], "OAUV"),
]

# "Permissions for the different data source roles": (seed words, codenames, SOURCE_COLUMNS).
SOURCE_ROWS = [
    ("Edit the data source", ["change_site"], "A--"),
    ("add and edit analytics", ["add_dashboards", "change_dashboards"], "A--"),
    ("Add and edit heatmaps and session recordings", ["manage_recordings"], "AS-"),
    ("add and edit surveys", ["manage_surveys"], "A--"),
    ("add and edit funnels", ["manage_funnels"], "A--"),
    ("add and edit shared segments", ["manage_segments"], "A--"),
    ("tagg comments", ["tag_comments"], "A--"),
    ("Can only view the data", VIEW, "ASV"),
]


@pytest.fixture
def setup(client, workspace, owner):
    roles = preset_roles(workspace, owner, PRESET)
    people = {"Account owner": owner}
    for name in ACCOUNT_COLUMNS[1:]:
        people[name] = member(workspace, roles[name], email_for(name)).user
    shop, blog = make_site(workspace, "Shop"), make_site(workspace, "Blog")
    for name in SOURCE_COLUMNS:
        # Data-source people are Account viewers with one grant, on Shop only.
        person = member(workspace, roles["Account viewer"], email_for(name, "shop.test"))
        grant(shop, person, roles[name])
        people[name] = person.user
    return {"api": CheckApi(client, workspace), "people": people, "roles": roles, "shop": shop, "blog": blog}


def test_preset_scopes(setup):
    scopes = {name: role.scope for name, role in setup["roles"].items()}
    assert scopes == {
        "Account admin": catalog.WORKSPACE,
        "Account user": catalog.WORKSPACE,
        "Account viewer": catalog.WORKSPACE,
        "Advanced user": catalog.SITE,
        "Standard user": catalog.SITE,
        "Viewer": catalog.SITE,
    }


def test_account_permissions_cell_by_cell(setup):
    cells = [
        Cell(row, column, code, mark != "-")
        for row, codes, marks in ACCOUNT_ROWS
        for column, mark in zip(ACCOUNT_COLUMNS, marks, strict=True)
        for code in codes
    ]
    assert wrong_cells(setup["api"], setup["people"], cells) == []


def test_account_user_and_viewer_hold_only_what_the_seed_says(setup):
    api, people = setup["api"], setup["people"]
    assert api.held(people["Account user"], catalog.WORKSPACE) == {"view_workspace", "manage_scheduled_reports"}
    assert api.held(people["Account viewer"], catalog.WORKSPACE) == {"view_workspace"}
    # Data-source permissions are per data source: no account role reaches a site by itself.
    for name in ACCOUNT_COLUMNS[1:]:
        assert api.held(people[name], catalog.SITE, site=setup["shop"]) == set()


def test_data_source_permissions_cell_by_cell_on_the_granted_site_only(setup):
    shop, blog = setup["shop"], setup["blog"]
    cells = []
    for row, codes, marks in SOURCE_ROWS:
        for column, mark in zip(SOURCE_COLUMNS, marks, strict=True):
            for code in codes:
                cells.append(Cell(row, column, code, mark != "-", shop))
                cells.append(Cell(f"{row} (no grant)", column, code, False, blog))
    assert wrong_cells(setup["api"], setup["people"], cells) == []


def test_standard_user_and_viewer_hold_nothing_more(setup):
    api, people, shop = setup["api"], setup["people"], setup["shop"]
    assert api.held(people["Viewer"], catalog.SITE, site=shop) == catalog.SITE_VIEW_CAPABILITIES
    assert api.held(people["Standard user"], catalog.SITE, site=shop) == catalog.SITE_VIEW_CAPABILITIES | {
        "manage_recordings"
    }


@pytest.mark.parametrize("role", ["Viewer", "Standard user"])
def test_tag_comments_can_be_added_to_any_grant(setup, workspace, role):
    """docs/RULES.md 3 (001): "tag_comments may be added as an extra capability to any grant"."""
    api, shop, blog = setup["api"], setup["shop"], setup["blog"]
    person = member(workspace, setup["roles"]["Account viewer"], "commenter@acme.test")
    grant(shop, person, setup["roles"][role])
    assert not api.allowed(person.user, "tag_comments", site=shop)
    grant(shop, person, setup["roles"][role], extra={"tag_comments"})
    assert api.allowed(person.user, "tag_comments", site=shop)
    assert not api.allowed(person.user, "tag_comments", site=blog)


def test_only_the_owner_adds_sites(setup, workspace, owner):
    for name in ("Account admin", "Account user", "Account viewer"):
        with pytest.raises(PermissionDenied):
            site_create(actor=setup["people"][name], workspace=workspace, name=f"By {name}")
    site = site_create(actor=owner, workspace=workspace, name="By the owner")
    assert site.owner.user == owner


def test_every_site_has_its_owner_who_gains_nothing_by_it(setup, workspace, owner):
    """ "Owner: No extra permissions, but required to have one owner ... contract owner and contact
    person for the data source"."""
    api, shop = setup["api"], setup["shop"]
    assert all(site.owner.workspace_id == workspace.pk for site in (shop, setup["blog"]))
    contact = Membership.objects.get(workspace=workspace, user=setup["people"]["Account viewer"])
    with pytest.raises(PermissionDenied):
        site_owner_set(actor=setup["people"]["Account user"], site=shop, owner=contact)
    site_owner_set(actor=setup["people"]["Account admin"], site=shop, owner=contact)
    shop.refresh_from_db()
    assert shop.owner == contact
    assert api.held(contact.user, catalog.SITE, site=shop) == set()
