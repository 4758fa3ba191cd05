"""Seed 004 (Read Only, Read & Write, Admin per organization), checked through the API row by row.

docs/RULES.md 3 (004): workspace roles whose site capabilities apply on every site ("Team member
permissions will apply per Organization, meaning all the sites that are listed under the
Organization"); the Account Owner column is the built-in Owner.
"""

from __future__ import annotations

import pytest

from permissions import catalog
from tests.factories import make_site
from tests.presets.support import Cell, CheckApi, email_for, member, preset_roles, wrong_cells

PRESET = "seed-004-organization-access"
COLUMNS = ("Read Only", "Read & Write", "Admin", "Account Owner")
VIEW = sorted(catalog.SITE_VIEW_CAPABILITIES)

# The seed's table, one entry per row: (action, codenames, Y/- per COLUMNS).
TABLE = [
    ("View Data & Reports", VIEW, "YYYY"),
    # Each person sets their own notifications in their profile: being a member is enough.
    ("Notification Settings", ["view_workspace"], "YYYY"),
    ("Create Highlights from Recordings and Heatmaps", ["add_highlights"], "YYYY"),
    ("Create Surveys and Feedback widgets", ["manage_surveys"], "-YYY"),
    ("Edit/Alter analysis and feedback tools", ["manage_recordings", "manage_funnels", "manage_surveys"], "-YYY"),
    ("Share or Export Data", ["export_data"], "-YYY"),
    ("Delete Recordings, Heatmaps, & Feedback Widgets", ["delete_recordings", "delete_surveys"], "-YYY"),
    ("Edit/Save Dashboard", ["change_dashboards"], "-YYY"),
    ("Add trends to the Dashboard", ["change_dashboards"], "-YYY"),
    ("Enable session capture for Heatmaps and Recordings", ["manage_session_capture"], "--YY"),
    ("Add/Edit/Delete Sites", ["add_site", "change_site", "delete_site"], "--YY"),
    (
        "Add/Edit/Delete Team Member Permissions",
        ["invite_members", "change_member_roles", "remove_members", "manage_site_access"],
        "--YY",
    ),
    ("Manage IP Blocking", ["manage_ip_blocking"], "--YY"),
    ("Enabling/Disabling User Attributes", ["manage_user_attributes"], "--YY"),
    ("Enabling/Disabling Integrations. (Business/Scale Plans)", ["manage_integrations"], "--YY"),
    ("Add/Edit/Delete Organization", ["change_workspace", "delete_workspace"], "---Y"),
    ("Alter Account Settings", ["change_workspace"], "---Y"),
    ("Manage SAML SSO", ["manage_sso"], "---Y"),
    ("Manage Plans & Billing", ["manage_billing"], "---Y"),
]

# The seed's prose around the table.
PROSE = [
    ("All Team Members can view their team permissions level ... your Team List", ["view_members"], "YYYY"),
    ("Only the Account Owner or users with Admin-level permissions ... can change", ["change_member_roles"], "--YY"),
    ("change a member to Account Owner: How to Change Account Owner", ["manage_owners"], "---Y"),
]

# Beyond the table: Admin opens the settings pages that its IP blocking, user attributes and
# integrations rows live on.
ADMIN_SETTINGS = {"view_workspace_settings"}


@pytest.fixture
def setup(client, workspace, owner):
    roles = preset_roles(workspace, owner, PRESET)
    people = {name: member(workspace, roles[name], email_for(name)).user for name in COLUMNS[:3]}
    people["Account Owner"] = owner
    sites = [make_site(workspace, "Shop"), make_site(workspace, "Blog")]
    return {"api": CheckApi(client, workspace), "people": people, "sites": sites, "roles": roles}


def _cells(rows, sites) -> list[Cell]:
    cells = []
    for action, codes, marks in rows:
        for column, mark in zip(COLUMNS, marks, strict=True):
            for code in codes:
                targets = sites if catalog.CAPABILITIES[code].scope == catalog.SITE else [None]
                cells += [Cell(action, column, code, mark == "Y", target) for target in targets]
    return cells


def test_table_row_by_row_on_every_site(setup):
    assert wrong_cells(setup["api"], setup["people"], _cells(TABLE, setup["sites"])) == []


def test_prose_around_the_table(setup):
    assert wrong_cells(setup["api"], setup["people"], _cells(PROSE, setup["sites"])) == []


@pytest.mark.parametrize("column", COLUMNS[:3])
def test_each_level_holds_exactly_its_rows(setup, column):
    """Nothing beyond the table: a role's capabilities are the union of its "Yes" rows."""
    index = COLUMNS.index(column)
    granted = {code for _, codes, marks in TABLE + PROSE if marks[index] == "Y" for code in codes}
    expected_site = {code for code in granted if catalog.CAPABILITIES[code].scope == catalog.SITE}
    expected_workspace = granted - expected_site | (ADMIN_SETTINGS if column == "Admin" else set())
    api, person = setup["api"], setup["people"][column]
    assert api.held(person, catalog.WORKSPACE) == expected_workspace
    for site in setup["sites"]:
        assert api.held(person, catalog.SITE, site=site) == expected_site


def test_levels_reach_a_site_added_later(setup, workspace):
    later = make_site(workspace, "Later")
    api, people = setup["api"], setup["people"]
    assert api.allowed(people["Read & Write"], "change_dashboards", site=later)
    assert not api.allowed(people["Read Only"], "change_dashboards", site=later)
    assert api.allowed(people["Admin"], "manage_session_capture", site=later)
