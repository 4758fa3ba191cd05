"""Seed 002 (organization roles): the preset reproduces the seed's tables, checked through the API.

Columns are Org Owner (the built-in Owner), Org Admin, Org Billing Admin and Org Member.
docs/RULES.md 3 (002): rows the seed marks "Yes" for everyone but that depend on access to the project
(analysis reports, user reports, take-action reports, dashboards, bookmarks, custom events) are
governed by site grants: they hold on a site where the person, or a team of theirs, has a grant, and
nowhere else. Organization-level rows hold from the organization role alone.
"""

from __future__ import annotations

import pytest

from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import make_site, make_team
from tests.presets.support import Cell, CheckApi, email_for, grant, member, preset_roles, wrong_cells
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member

PRESET = "seed-002-organization"
COLUMNS = ("Org Owner", "Org Admin", "Org Billing Admin", "Org Member")
SITE_WIDE = object()  # marks a row about every project: checked on a site without grants

# Rows that hold from the organization role: (table, seed row, codenames, Yes/No per column).
ORGANIZATION_ROWS = [
    ("Overview", "Can view org settings", ["view_workspace_settings"], "YYYN"),
    ("Overview", "Change plans", ["manage_billing"], "YYYN"),
    ("Overview", "Update billing info", ["manage_billing"], "YYYN"),
    ("Overview", "Submit a downgrade or cancellation request", ["manage_billing"], "YYYN"),
    ("Overview", "Add another billing email", ["manage_billing"], "YYYN"),
    ("Overview", "Update org details", ["change_workspace"], "YYNN"),
    ("Projects", "Create projects", ["add_site"], "YYNN"),
    ("Projects", "Edit project names", [SITE_WIDE, "change_site"], "YYNN"),
    ("Projects", "Edit time zones", [SITE_WIDE, "change_site"], "YYNN"),
    ("Projects", "View usage statistics", ["view_usage"], "YYNN"),
    ("Projects", "View access keys", ["view_access_keys"], "YYNN"),
    ("Projects", "Invite users and select users' role", ["invite_members", "change_member_roles"], "YYNN"),
    ("Users", "Invite users to projects", ["manage_site_access"], "YYNN"),
    ("Users", "Invite users to teams", ["manage_teams"], "YYNN"),
    ("Users", "Bulk invite users", ["invite_members"], "YYNN"),
    ("Users", "Invite users to projects as an individual grant", ["manage_site_access"], "YYNN"),
    ("Users", "Delete users", ["remove_members"], "YYNN"),
    ("Users", "Delete users of projects with individual grants", ["manage_site_access"], "YYNN"),
    ("Users", "Download CSV", ["export_members"], "YYNN"),
    ("Users", "View current and invited users", ["view_members"], "YYNN"),
    ("Users", "View which teams the user is a member", ["view_members"], "YYNN"),
    ("Team", "Create teams", ["manage_teams"], "YYNN"),
    ("Team", "Delete teams", ["manage_teams"], "YYNN"),
    ("Team", "Edit team name", ["manage_teams"], "YYNN"),
    ("Team", "Add projects to teams", ["manage_teams"], "YYNN"),
    ("Team", "Delete projects from teams", ["manage_teams"], "YYNN"),
    ("Team", "Add users to teams", ["manage_teams"], "YYNN"),
    ("Team", "Delete users from teams", ["manage_teams"], "YYNN"),
    ("Access Security", "Enable and disable single sign-on (SSO)", ["manage_sso"], "YYNN"),
    ("Access Security", "Enable and disable required SSO", ["manage_sso"], "YYNN"),
    ("Access Security", "Enable and disable two factor authentication (2FA)", ["manage_two_factor_policy"], "YYNN"),
    ("Data & Privacy", "Request user data export from a project", ["request_data_export"], "YYNY"),
    ("Data & Privacy", "Request deletion of user data from a project", ["request_data_deletion"], "YYNY"),
    ("Account Overview", "Change account names", ["change_workspace"], "YYNN"),
    ("Account Overview", "Change account emails", ["change_workspace"], "YYNN"),
    ("Account Overview", "Change account passwords", ["change_workspace"], "YYNN"),
    ("Account Overview", "Delete organizations", ["delete_workspace"], "YYNN"),
    ("Account Projects", "View all projects and your projects", [SITE_WIDE, "view_site"], "YYNN"),
    ("Account Projects", "Reset projects", [SITE_WIDE, "reset_site"], "YYNN"),
    (
        "Account Data & Privacy",
        "Enable and disable personalizing your Mixpanel experience",
        ["change_workspace"],
        "YYNN",
    ),
    (
        "Account Data & Privacy",
        "Enable and disable permission for Mixpanel to log your data usage",
        ["manage_policies"],
        "YYNN",
    ),
    ("Account Data & Privacy", "Request account usage data", ["view_usage"], "YYNN"),
    ("Account Data & Privacy", "Delete account usage data", ["manage_policies"], "YYNN"),
    ("Rollup Projects", "Add new rollup projects", ["add_site"], "YYNN"),
    ("Alerts", "Enable or disable subscriptions for custom alerts", ["manage_alert_subscriptions"], "YYNN"),
    ("Alerts", "Enable or disable subscriptions for automatic insights", ["manage_alert_subscriptions"], "YYNN"),
    ("Lexicon", "Drop, merge, and hide and unhide events and properties in Lexicon", ["manage_lexicon"], "YYNN"),
    ("Lexicon", "Edit descriptions in Lexicon", ["manage_lexicon"], "YYNN"),
    ("Lexicon", "Add tags in Lexicon", ["manage_lexicon"], "YYNN"),
]

# "No" for everyone, the owner too: the portal has no such capability (its API keys are
# view_access_keys, a row above) and a built-in Owner holds every capability there is.
NOT_A_CAPABILITY = {"Generate GDPR API OAuth token": "NNNN"}

# Rows the seed marks Yes for all four that depend on project access (docs/RULES.md 3, 002): site
# capabilities, held by Owner and Admin on every site and by the others only through a grant.
# Campaigns and messages reach users as surveys and feedback widgets do: manage_surveys.
PROJECT_ROWS = [
    ("Analysis", "Create and view Insights reports", ["view_dashboards", "add_dashboards"]),
    ("Analysis", "View Live view", ["view_dashboards"]),
    ("Analysis", "Create and view Formula reports", ["view_dashboards", "add_dashboards"]),
    ("Analysis", "Create and view Signal reports", ["view_dashboards", "add_dashboards"]),
    ("Analysis", "Create and view Flow reports", ["view_dashboards", "add_dashboards"]),
    ("Analysis", "Create and view Funnels reports", ["view_dashboards", "manage_funnels"]),
    ("Analysis", "Create and view Retention reports", ["view_dashboards", "add_dashboards"]),
    ("User reports", "View Explore reports", ["view_dashboards"]),
    ("User reports", "Create and modify Cohorts reports", ["manage_segments"]),
    ("User reports", "Create and edit Predict conversion events", ["add_dashboards", "change_dashboards"]),
    ("Take action", "Create and edit campaigns", ["manage_surveys"]),
    ("Take action", "Create and edit messages", ["manage_surveys"]),
    ("Take action", "Create and edit A/B tests", ["add_experiments", "change_experiments"]),
    ("Other reports", "Create and view Revenue reports", ["view_dashboards", "add_dashboards"]),
    ("Other reports", "Create and view dashboards reports", ["view_dashboards", "add_dashboards"]),
    ("Other reports", "Create and modify bookmarks", ["change_dashboards"]),
    ("Other reports", "Create and modify custom events", ["manage_segments"]),
]


@pytest.fixture
def setup(client, workspace, owner):
    roles = preset_roles(workspace, owner, PRESET)
    people = {"Org Owner": owner}
    memberships = {}
    for column, role in zip(COLUMNS[1:], ("Admin", "Billing Admin", "Member"), strict=True):
        memberships[column] = member(workspace, roles[role], email_for(role))
        people[column] = memberships[column].user
    granted, plain = make_site(workspace, "Granted"), make_site(workspace, "Plain")
    site_admin = builtin_role(catalog.SITE_ADMIN, catalog.SITE)
    for column in ("Org Billing Admin", "Org Member"):
        grant(granted, memberships[column], site_admin)
    return {
        "api": CheckApi(client, workspace),
        "people": people,
        "memberships": memberships,
        "roles": roles,
        "granted": granted,
        "plain": plain,
    }


def test_organization_rows_cell_by_cell(setup):
    cells = []
    for table, row, codes, marks in ORGANIZATION_ROWS:
        target = setup["plain"] if codes[0] is SITE_WIDE else None
        for column, mark in zip(COLUMNS, marks, strict=True):
            cells += [
                Cell(f"{table}: {row}", column, code, mark == "Y", target) for code in codes if code is not SITE_WIDE
            ]
    assert wrong_cells(setup["api"], setup["people"], cells) == []


def test_project_rows_are_governed_by_site_grants(setup):
    """docs/RULES.md 3 (002): "Yes" for everyone, but through project access: Billing Admin and Member
    have these on the site they hold a grant on, not on the other; Owner and Admin on both."""
    granted, plain = setup["granted"], setup["plain"]
    cells = []
    for table, row, codes in PROJECT_ROWS:
        for column in COLUMNS:
            everywhere = column in ("Org Owner", "Org Admin")
            for code in codes:
                cells.append(Cell(f"{table}: {row} (granted site)", column, code, True, granted))
                cells.append(Cell(f"{table}: {row} (no grant)", column, code, everywhere, plain))
    assert wrong_cells(setup["api"], setup["people"], cells) == []


def test_a_team_grant_gives_a_member_the_project_rows(setup, workspace):
    """Seed 002: people reach projects individually or through teams."""
    api, person = setup["api"], setup["people"]["Org Member"]
    team_site = make_site(workspace, "Team site")
    team = make_team(workspace, "Analysts")
    site_grant_set(actor=None, site=team_site, role=builtin_role(catalog.EDITOR, catalog.SITE), team=team)
    assert not api.allowed(person, "add_dashboards", site=team_site)
    team_add_member(actor=None, team=team, membership=setup["memberships"]["Org Member"])
    assert api.allowed(person, "add_dashboards", site=team_site)


def test_billing_admin_sees_only_the_overview_and_billing(setup):
    """ "Billing admins only can see the Overview tab"; "does not have to belong to a team or project"."""
    api = setup["api"]
    billing = setup["people"]["Org Billing Admin"]
    assert api.held(billing, catalog.WORKSPACE) == {"view_workspace", "view_workspace_settings", "manage_billing"}
    assert api.held(billing, catalog.SITE, site=setup["plain"]) == set()


def test_member_has_no_admin_permission(setup):
    """ "Organizations members have no admin permissions"; "Members can't see Organization settings"."""
    api, person = setup["api"], setup["people"]["Org Member"]
    assert api.held(person, catalog.WORKSPACE) == {"view_workspace", "request_data_export", "request_data_deletion"}
    assert api.held(person, catalog.SITE, site=setup["plain"]) == set()


def test_admin_is_the_builtin_admin_plus_billing_sso_deletion_and_reset(setup):
    """docs/RULES.md 3 (002): Admin = built-in Admin plus billing, SSO, workspace deletion, site reset."""
    api, admin = setup["api"], setup["people"]["Org Admin"]
    builtin = next(role for role in catalog.BUILTIN_WORKSPACE_ROLES if role.key == catalog.ADMIN)
    assert api.held(admin, catalog.WORKSPACE) == builtin.capabilities | {
        "manage_billing",
        "manage_sso",
        "delete_workspace",
    }
    assert api.held(admin, catalog.SITE, site=setup["plain"]) == builtin.site_capabilities | {"reset_site"}


def test_gdpr_token_row_is_no_for_everyone_and_names_no_capability():
    assert NOT_A_CAPABILITY == {"Generate GDPR API OAuth token": "NNNN"}
    assert not any("gdpr" in code or "oauth" in code for code in catalog.CAPABILITIES)
